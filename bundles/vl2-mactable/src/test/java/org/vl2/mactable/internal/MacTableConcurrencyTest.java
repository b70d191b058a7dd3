package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.MacEvent;
import org.vl2.api.MacTableAdminService.LearnResult;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.PortId;

/**
 * Learners, lookups, admin calls, reconfiguration and the ageing sweep all at once, for a fixed number of
 * iterations each; then the table must be consistent and every counter must match what the callers and the
 * listeners saw. Two phases: one bound by the per-port limit, one bound by the capacity (evictions).
 */
class MacTableConcurrencyTest {

    private static final int LEARNERS = 4;
    private static final int LEARN_ITERATIONS = 25_000;
    private static final int ADMIN_ITERATIONS = 2_000;
    private static final int SWEEPS = 2_000;
    private static final int STATIONS = 40;
    private static final int STATIC_STATIONS = 6;
    private static final PortId[] PORTS = new PortId[10];

    static {
        for (int i = 0; i < PORTS.length; i++) {
            PORTS[i] = PortId.of(i + 1);
        }
    }

    private final TestClock clock = new TestClock();
    private final MacTableImpl table = new MacTableImpl(new Settings(10, 64, 3), clock);
    private final Map<MacEvent.Type, LongAdder> events = new EnumMap<>(MacEvent.Type.class);
    private final Map<LearnResult, LongAdder> results = new EnumMap<>(LearnResult.class);

    private static long mac(int n) {
        return 0x0200_0000_0000L | n;
    }

    @Test
    void concurrentUseKeepsTheTableConsistent() throws Exception {
        for (MacEvent.Type type : MacEvent.Type.values()) {
            events.put(type, new LongAdder());
        }
        for (LearnResult r : LearnResult.values()) {
            results.put(r, new LongAdder());
        }
        table.addListener(e -> events.get(e.type()).increment());
        table.addListener(e -> {
            throw new IllegalStateException("always fails");
        });

        // 1: room for everything but the per-port limit (3 or 4) refuses stations
        table.reconfigure(new Settings(10, 64, 3));
        runPhase(random -> new Settings(10, 64, random.nextBoolean() ? 3 : 4));
        MacTableStatistics limited = table.statistics();
        assertTrue(limited.refused() > 100, limited::toString);

        // 2: no per-port limit, the table is too small: fair eviction
        table.reconfigure(new Settings(10, 32, 0));
        runPhase(random -> new Settings(10, random.nextBoolean() ? 32 : 40, 0));
        MacTableStatistics s = table.statistics();
        assertTrue(s.evicted() > 100, s::toString);

        // the run must have exercised every path, or it proves little
        assertTrue(s.learned() > 1000 && s.moved() > 100 && s.aged() > 100
                && results.get(LearnResult.REFRESHED).sum() > 1000 && results.get(LearnResult.STATIC).sum() > 0,
                () -> s + ", " + results);
    }

    private void runPhase(Function<SplittableRandom, Settings> reconfiguration) throws Exception {
        int threads = LEARNERS + 2;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> done = new ArrayList<>();
        try {
            for (int i = 0; i < LEARNERS; i++) {
                long seed = i;
                done.add(pool.submit(task(start, () -> learner(seed))));
            }
            done.add(pool.submit(task(start, () -> admin(reconfiguration))));
            done.add(pool.submit(task(start, this::sweeper)));
            for (Future<?> f : done) {
                f.get(2, TimeUnit.MINUTES);     // rethrows any failure of a worker
            }
        } finally {
            pool.shutdownNow();
        }
        checkInvariants();
    }

    private void checkInvariants() {
        assertTrue(table.check().isEmpty(), () -> "inconsistent: " + table.check());
        table.ageing.sweep(clock.getAsLong());
        assertTrue(table.check().isEmpty(), () -> "inconsistent after sweep: " + table.check());

        MacTableStatistics s = table.statistics();
        assertTrue(table.size() <= s.capacity(), table.size() + " entries > capacity " + s.capacity());
        List<MacEntry> entries = table.entries();
        assertEquals(table.size(), entries.size());
        assertEquals(entries.stream().filter(MacEntry::isStatic).count(), s.staticSize());
        Map<PortId, Long> perPort = entries.stream().filter(e -> !e.isStatic())
                .collect(Collectors.groupingBy(MacEntry::port, Collectors.counting()));
        if (s.perPortLimit() > 0) {
            perPort.forEach((port, n) -> assertTrue(n <= s.perPortLimit(), port + " holds " + n));
        }
        for (MacEntry e : entries) {
            assertEquals(e.port(), table.lookup(e.network(), e.vlan(), e.mac().toLong()), e::toString);
        }

        assertEquals(results.get(LearnResult.LEARNED).sum(), s.learned());
        assertEquals(results.get(LearnResult.MOVED).sum(), s.moved());
        assertEquals(results.get(LearnResult.REFUSED).sum(), s.refused());
        assertEquals(s.learned(), events.get(MacEvent.Type.LEARNED).sum());
        assertEquals(s.moved(), events.get(MacEvent.Type.MOVED).sum());
        assertEquals(s.aged(), events.get(MacEvent.Type.AGED).sum());
        assertEquals(s.evicted(), events.get(MacEvent.Type.EVICTED).sum());
    }

    private static Callable<Void> task(CyclicBarrier start, Callable<Void> body) {
        return () -> {
            start.await(1, TimeUnit.MINUTES);
            return body.call();
        };
    }

    private Void learner(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < LEARN_ITERATIONS; i++) {
            long network = random.nextInt(2);
            int vlan = random.nextInt(2);
            int station = random.nextInt(STATIONS);
            // mostly a stable home port per station (half of them behind port 1), sometimes another one (moves)
            PortId home = station < STATIONS / 2 ? PORTS[0] : PORTS[1 + station % (PORTS.length - 1)];
            PortId port = random.nextInt(20) == 0 ? PORTS[random.nextInt(PORTS.length)] : home;
            results.get(table.learn(network, vlan, mac(station), port)).increment();
            table.lookup(random.nextInt(2), random.nextInt(2), mac(random.nextInt(STATIONS)));
            // time passes: mostly a little (refreshes), sometimes more than the ageing time (ageing)
            clock.advanceNanos(random.nextInt(3000) == 0 ? 11_000_000_000L : random.nextLong(2_000_000));
        }
        return null;
    }

    private Void admin(Function<SplittableRandom, Settings> reconfiguration) {
        SplittableRandom random = new SplittableRandom(99);
        for (int i = 0; i < ADMIN_ITERATIONS; i++) {
            MacAddress station = MacAddress.of(mac(random.nextInt(STATIONS)));
            switch (random.nextInt(10)) {
                case 0 -> table.flushPort(PORTS[random.nextInt(PORTS.length)]);
                case 1 -> table.flushMac(station);
                case 2 -> table.remove(random.nextInt(2), random.nextInt(2), station);
                case 3, 4 -> {
                    // few static stations, so they never fill the table
                    MacAddress mac = MacAddress.of(mac(random.nextInt(STATIC_STATIONS)));
                    try {
                        table.addStatic(0, 0, mac, PORTS[random.nextInt(PORTS.length)]);
                    } catch (IllegalStateException full) {
                        throw new AssertionError("never full of static entries here", full);
                    }
                }
                case 5 -> table.reconfigure(reconfiguration.apply(random));
                case 6 -> {
                    if (random.nextInt(20) == 0) {
                        table.flush();
                    }
                }
                case 7 -> table.statistics();
                default -> table.entries();
            }
        }
        return null;
    }

    private Void sweeper() {
        for (int i = 0; i < SWEEPS; i++) {
            if (i % 2 == 0) {
                table.ageing.sweep(clock.getAsLong());
            } else {
                table.ageing.expire();
            }
        }
        return null;
    }
}
