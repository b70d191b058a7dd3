package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;
import org.vl2.api.MacEvent;
import org.vl2.api.MacTableAdminService.LearnResult;
import org.vl2.api.PortId;

/**
 * The lock-free paths against the writers that change the inline slots under them: tombstones, rebuilds (grow,
 * shrink, purge) and the ageing sweep's hide / unhide.
 */
class InlineSlotsRaceTest {

    private static final int PORTS = 7;
    private static final long RUN_NANOS = TimeUnit.MILLISECONDS.toNanos(700);

    private static long mac(int n) {
        return 0x0200_0000_0000L | n;
    }

    private static PortId portOf(int station) {
        return PortId.of(station % PORTS + 1);
    }

    /** Churn makes the table grow, shrink and purge tombstones while two threads look stations up. */
    @Test
    void lookupsNeverSeeAnotherStationsPort() throws Exception {
        TestClock clock = new TestClock();
        MacTableImpl t = new MacTableImpl(new Settings(300, 1 << 16, 0), clock);
        AtomicBoolean stop = new AtomicBoolean();
        LongAdder hits = new LongAdder();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int offset = r * 7919;
                readers.add(pool.submit(() -> {
                    for (int i = offset; !stop.get(); i++) {
                        int station = i & 4095;
                        PortId p = t.lookup(station & 3, 0, mac(station));
                        if (p != null) {
                            assertEquals(portOf(station), p, "station " + station);
                            hits.increment();
                        }
                    }
                    return null;
                }));
            }
            Future<?> writer = pool.submit(() -> {
                long end = System.nanoTime() + RUN_NANOS;
                for (int round = 0; System.nanoTime() < end; round++) {
                    int n = round % 2 == 0 ? 4096 : 300;     // up to every station, then most of them gone
                    for (int s = 0; s < n; s++) {
                        t.learn(s & 3, 0, mac(s), portOf(s));
                    }
                    for (int s = round % 5; s < 4096; s += 1 + round % 3) {
                        t.remove(s & 3, 0, MacAddress.of(mac(s)));
                    }
                    if (round % 7 == 0) {
                        t.flushPort(portOf(round));
                    }
                }
                stop.set(true);
                return null;
            });
            writer.get(1, TimeUnit.MINUTES);
            for (Future<?> f : readers) {
                f.get(1, TimeUnit.MINUTES);
            }
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
        assertTrue(hits.sum() > 1000, "hits: " + hits.sum());
        assertTrue(t.check().isEmpty(), () -> t.check().toString());
    }

    /**
     * A station refreshed without the lock while the sweep runs and other stations churn (rebuilds) is never aged
     * out or forgotten: the clock only moves on once the station has been refreshed at the current time, so it is
     * never really older than the ageing time.
     */
    @Test
    void aStationThatKeepsTalkingIsNeverAgedOutByARace() throws Exception {
        TestClock clock = new TestClock();
        MacTableImpl t = new MacTableImpl(new Settings(1, 1 << 16, 0), clock);
        LongAdder agedTalker = new LongAdder();
        long talker = mac(1 << 20);
        PortId port = PortId.of(1);
        t.addListener(e -> {
            if (e.type() == MacEvent.Type.AGED && e.mac().toLong() == talker) {
                agedTalker.increment();
            }
        });
        assertEquals(LearnResult.LEARNED, t.learn(0, 0, talker, port));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong refreshedAt = new AtomicLong(clock.getAsLong());
        LongAdder notRefreshed = new LongAdder();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            Future<?> talkerThread = pool.submit(() -> {
                while (!stop.get()) {
                    long now = clock.getAsLong();
                    if (t.learn(0, 0, talker, port) != LearnResult.REFRESHED) {
                        notRefreshed.increment();
                    }
                    refreshedAt.set(now);
                }
                return null;
            });
            Future<?> sweeper = pool.submit(() -> {
                while (!stop.get()) {
                    // one clock step of 0.3 s once the talker has talked at the current time: never 1 s stale
                    if (refreshedAt.get() == clock.getAsLong()) {
                        clock.advanceMillis(300);
                    }
                    t.ageing.sweep(clock.getAsLong());
                }
                return null;
            });
            Future<?> churn = pool.submit(() -> {
                long end = System.nanoTime() + RUN_NANOS;
                for (int round = 0; System.nanoTime() < end; round++) {
                    for (int s = 0; s < 2000; s++) {
                        t.learn(0, 0, mac(s), PortId.of(s % PORTS + 2));    // never the talker's port 1
                    }
                    for (int p = 2; p < PORTS + 2; p++) {
                        t.flushPort(PortId.of(p));      // the shrink rebuilds the talker's arrays too
                    }
                }
                stop.set(true);
                return null;
            });
            churn.get(1, TimeUnit.MINUTES);
            talkerThread.get(1, TimeUnit.MINUTES);
            sweeper.get(1, TimeUnit.MINUTES);
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
        assertEquals(0, agedTalker.sum(), "the talking station was aged out");
        assertEquals(0, notRefreshed.sum(), "the talking station was forgotten");
        assertEquals(port, t.lookup(0, 0, talker));
        assertTrue(t.check().isEmpty(), () -> t.check().toString());
    }
}
