package org.vl2.mactable.internal;

import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.vl2.api.MacTableAdminService.LearnResult;
import org.vl2.api.PortId;
import org.vl2.bench.Stations;

/**
 * The MAC table's per-frame operations on a table of 1k, 64k and 1M stations (capacity = the number of
 * stations): lookup of a known station (hit), of an unknown one (miss), and learn of a known station on its
 * own port (the refresh every frame's source does). One and two threads on one shared table.
 *
 * <p>Keys are visited in a random order fixed per trial, so the larger tables measure cache and TLB misses
 * the way a switch with many active stations sees them; every call gets a different key (no constant
 * folding) and every result goes to JMH's blackhole (no dead code). The clock is the table's shared
 * {@link CoarseClock}, as in the switch; ageing is 300 s, so lookups pay the age check, and the ageing sweep is
 * not running (nothing would expire within a run). {@code ...NanoTime} variants use {@link System#nanoTime}
 * instead (what every call paid before the coarse clock). {@code lookupHitHot64k} and {@code lookupHitZipf}
 * look up a realistic working set inside the table: a fixed random 64k stations, and stations drawn from a
 * Zipf distribution (s = 1) over the whole table. Allocation per operation: run with {@code -prof gc} and read
 * {@code gc.alloc.rate.norm} (expected 0 B/op).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class MacTableBench {

    static final long NETWORK = 0;
    static final int VLAN = 0;
    static final int PORTS = 64;

    /** One table per trial, shared by all benchmark threads; its clock is the shared coarse clock, as in the switch. */
    @State(Scope.Benchmark)
    public static class Table {

        @Param({"1000", "65536", "1048576"})
        public int entries;

        MacTableImpl table;
        /** Known stations, in random order. */
        long[] known;
        /** The port each {@link #known} station was learned on. */
        PortId[] portOf;
        /** Stations not in the table, in random order. */
        long[] unknown;
        /** A working set of 64k known stations (all of them in smaller tables), in random order. */
        long[] hot;
        /** Known stations drawn from a Zipf distribution (s = 1) over the table, one draw per call. */
        long[] zipf;
        private boolean coarse;

        @Setup(Level.Trial)
        public void fill() {
            LongSupplier clock = newClock();
            table = new MacTableImpl(new Settings(300, Math.max(Settings.MIN_CAPACITY, entries), 0), clock);
            PortId[] ports = new PortId[PORTS];
            for (int p = 0; p < PORTS; p++) {
                ports[p] = PortId.of(p + 1);
            }
            known = new long[entries];
            unknown = new long[entries];
            for (int i = 0; i < entries; i++) {
                known[i] = Stations.mac(i);
                unknown[i] = Stations.mac(entries + i);
            }
            // learn in index order, then shuffle the visiting order: table layout and access order are unrelated
            for (int i = 0; i < entries; i++) {
                LearnResult r = table.learn(NETWORK, VLAN, known[i], ports[i % PORTS]);
                if (r != LearnResult.LEARNED) {
                    throw new IllegalStateException("station " + i + " not learned: " + r);
                }
            }
            if (table.size() != entries) {
                throw new IllegalStateException("table holds " + table.size() + " entries, expected " + entries);
            }
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            Stations.shuffle(known, rnd);
            Stations.shuffle(unknown, rnd);
            portOf = new PortId[entries];
            for (int i = 0; i < entries; i++) {
                portOf[i] = table.lookup(NETWORK, VLAN, known[i]);
            }
            hot = Arrays.copyOf(known, Math.min(entries, 65_536));
            zipf = zipf(known, 1 << 20, rnd);
        }

        /** {@code n} draws of {@code keys[rank]} with P(rank) proportional to 1 / (rank + 1). */
        static long[] zipf(long[] keys, int n, ThreadLocalRandom rnd) {
            double[] cdf = new double[keys.length];
            double sum = 0;
            for (int r = 0; r < keys.length; r++) {
                sum += 1.0 / (r + 1);
                cdf[r] = sum;
            }
            long[] out = new long[n];
            for (int i = 0; i < n; i++) {
                int r = Arrays.binarySearch(cdf, rnd.nextDouble() * sum);
                out[i] = keys[Math.min(keys.length - 1, r < 0 ? -r - 1 : r)];
            }
            return out;
        }

        LongSupplier newClock() {
            CoarseClock.acquire();
            coarse = true;
            return CoarseClock::now;
        }

        @TearDown(Level.Trial)
        public void stopClock() {
            if (coarse) {
                coarse = false;
                CoarseClock.release();
            }
        }
    }

    /**
     * The same table with {@link System#nanoTime} as its clock instead of the coarse clock: what the hit and
     * refresh paths cost with a clock call per operation (the design before the coarse clock).
     */
    @State(Scope.Benchmark)
    public static class NanoTimeTable extends Table {
        @Override
        LongSupplier newClock() {
            return System::nanoTime;
        }
    }

    /** Each thread walks the keys from its own random starting point. */
    @State(Scope.Thread)
    public static class Cursor {
        int i = ThreadLocalRandom.current().nextInt(Integer.MAX_VALUE);

        int next(int n) {
            int k = i + 1;
            if (k >= n) {
                k = k == n ? 0 : k % n;   // k % n: only on the first call, to spread the starting points
            }
            i = k;
            return k;
        }
    }

    @Benchmark
    public PortId lookupHit(Table t, Cursor c) {
        return t.table.lookup(NETWORK, VLAN, t.known[c.next(t.entries)]);
    }

    @Benchmark
    public PortId lookupMiss(Table t, Cursor c) {
        return t.table.lookup(NETWORK, VLAN, t.unknown[c.next(t.entries)]);
    }

    @Benchmark
    public LearnResult learnRefresh(Table t, Cursor c) {
        int k = c.next(t.entries);
        return t.table.learn(NETWORK, VLAN, t.known[k], t.portOf[k]);
    }

    @Benchmark
    @Threads(2)
    public PortId lookupHit2t(Table t, Cursor c) {
        return t.table.lookup(NETWORK, VLAN, t.known[c.next(t.entries)]);
    }

    @Benchmark
    @Threads(2)
    public PortId lookupMiss2t(Table t, Cursor c) {
        return t.table.lookup(NETWORK, VLAN, t.unknown[c.next(t.entries)]);
    }

    @Benchmark
    @Threads(2)
    public LearnResult learnRefresh2t(Table t, Cursor c) {
        int k = c.next(t.entries);
        return t.table.learn(NETWORK, VLAN, t.known[k], t.portOf[k]);
    }

    @Benchmark
    public PortId lookupHitHot64k(Table t, Cursor c) {
        return t.table.lookup(NETWORK, VLAN, t.hot[c.next(t.hot.length)]);
    }

    @Benchmark
    public PortId lookupHitZipf(Table t, Cursor c) {
        return t.table.lookup(NETWORK, VLAN, t.zipf[c.next(t.zipf.length)]);
    }

    @Benchmark
    public PortId lookupHitNanoTime(NanoTimeTable t, Cursor c) {
        return t.table.lookup(NETWORK, VLAN, t.known[c.next(t.entries)]);
    }

    @Benchmark
    public LearnResult learnRefreshNanoTime(NanoTimeTable t, Cursor c) {
        int k = c.next(t.entries);
        return t.table.learn(NETWORK, VLAN, t.known[k], t.portOf[k]);
    }

    /** One thread looks up while another refreshes (a receive thread per transport, two transports). */
    @Benchmark
    @Group("mixed")
    @GroupThreads(1)
    public PortId mixedLookup(Table t, Cursor c) {
        return t.table.lookup(NETWORK, VLAN, t.known[c.next(t.entries)]);
    }

    @Benchmark
    @Group("mixed")
    @GroupThreads(1)
    public LearnResult mixedLearn(Table t, Cursor c) {
        int k = c.next(t.entries);
        return t.table.learn(NETWORK, VLAN, t.known[k], t.portOf[k]);
    }
}
