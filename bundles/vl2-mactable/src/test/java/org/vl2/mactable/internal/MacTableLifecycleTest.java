package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacTableAdminService.LearnResult;
import org.vl2.api.PortId;

/** Configuration validation and the DS lifecycle (activate constructor, modified, deactivate). */
class MacTableLifecycleTest {

    private static IllegalArgumentException rejected(long ageing, int capacity, int perPortLimit) {
        return assertThrows(IllegalArgumentException.class,
                () -> new MacTableImpl(new TestConfig(ageing, capacity, perPortLimit)));
    }

    @Test
    void badCapacityIsRejectedNamingPropertyPidAndRange() {
        assertEquals("Invalid org.vl2.mactable configuration: capacity=5 (must be 16..16777216)",
                rejected(300, 5, 0).getMessage());
        assertEquals("Invalid org.vl2.mactable configuration: capacity=16777217 (must be 16..16777216)",
                rejected(300, 16_777_217, 0).getMessage());
    }

    @Test
    void badAgeingAndPerPortLimitAreRejected() {
        assertEquals("Invalid org.vl2.mactable configuration: ageing.seconds=-1 (must be 0..1000000, 0 = never age)",
                rejected(-1, 8192, 0).getMessage());
        assertEquals("Invalid org.vl2.mactable configuration: per.port.limit=-3 (must be >= 0, 0 = no limit)",
                rejected(300, 8192, -3).getMessage());
        String all = rejected(Long.MAX_VALUE, 0, -1).getMessage();
        assertTrue(all.contains("ageing.seconds=" + Long.MAX_VALUE) && all.contains("capacity=0")
                && all.contains("per.port.limit=-1"), all);
    }

    @Test
    void boundaryValuesAreAccepted() {
        Settings low = new Settings(0, 16, 0);
        assertEquals(0, low.ageingNanos);
        Settings high = new Settings(1_000_000, 16_777_216, Integer.MAX_VALUE);
        assertEquals(1_000_000_000_000_000L, high.ageingNanos);
        assertEquals("ageing.seconds=300, capacity=8192, per.port.limit=256", Settings.defaults().toString());
    }

    @Test
    void byDefaultOnePortCannotFillTheTableButABridgeBehindItFits() {
        MacTableImpl t = new MacTableImpl(Settings.defaults(), () -> 1L);
        PortId bridge = PortId.of(1);
        for (int i = 0; i < 256; i++) { // a bridge with a /24 of hosts behind one port
            assertEquals(LearnResult.LEARNED, t.learn(0, 0, 0x0200_0000_0000L + i, bridge));
        }
        assertEquals(LearnResult.REFUSED, t.learn(0, 0, 0x0200_0001_0000L, bridge), "the 257th station");
        assertEquals(LearnResult.REFRESHED, t.learn(0, 0, 0x0200_0000_0000L, bridge), "known stations go on");
        assertEquals(LearnResult.LEARNED, t.learn(0, 0, 0x0200_0002_0000L, PortId.of(2)), "other ports learn");
        assertEquals(257, t.size());
    }

    @Test
    void modifiedWithBadValuesKeepsThePreviousConfiguration() {
        MacTableImpl t = new MacTableImpl(new TestConfig(60, 1000, 10));
        try {
            t.modified(new TestConfig(60, 5, 10));
            assertEquals(1000, t.statistics().capacity());
            t.modified(new TestConfig(-5, 1000, 10));
            assertEquals(60, t.statistics().ageingSeconds());
            t.modified(new TestConfig(120, 2000, 0));
            assertEquals(120, t.statistics().ageingSeconds());
            assertEquals(2000, t.statistics().capacity());
            assertEquals(0, t.statistics().perPortLimit());
        } finally {
            t.deactivate();
        }
    }

    @Test
    void activateStartsTheAgeingThreadAndDeactivateStopsIt() {
        assertFalse(ageingThreadRunning(), "no ageing thread left over by another test");
        MacTableImpl t = new MacTableImpl(new TestConfig(300, 8192, 0));
        try {
            assertTrue(ageingThreadRunning());
            assertEquals(LearnResult.LEARNED, t.learn(0, 0, 0x0200_0000_0001L, PortId.of(1)));
            t.modified(new TestConfig(0, 8192, 0));   // never age: the task is cancelled, the table stays
            assertEquals(PortId.of(1), t.lookup(0, 0, 0x0200_0000_0001L));
            t.modified(new TestConfig(10, 8192, 0));
        } finally {
            t.deactivate();
        }
        assertFalse(ageingThreadRunning(), "deactivate waits for the ageing thread to end");
    }

    @Test
    void activatedTablesShareOneClockThreadThatStopsWithTheLastOne() {
        assertEquals(0, threads(CoarseClock.THREAD), "no clock thread left over by another test");
        MacTableImpl a = new MacTableImpl(new TestConfig(300, 8192, 0));
        MacTableImpl b;
        try {
            b = new MacTableImpl(new TestConfig(300, 8192, 0));
            try {
                assertEquals(1, threads(CoarseClock.THREAD), "one clock thread for all tables");
                assertEquals(LearnResult.LEARNED, a.learn(0, 0, 0x0200_0000_0001L, PortId.of(1)));
                assertEquals(PortId.of(1), a.lookup(0, 0, 0x0200_0000_0001L));
                long t0 = CoarseClock.now();
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (CoarseClock.now() == t0 && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertTrue(CoarseClock.now() - t0 > 0, "the clock ticks");
            } finally {
                b.deactivate();
            }
            assertEquals(1, threads(CoarseClock.THREAD), "still running for the other table");
        } finally {
            a.deactivate();
            a.deactivate();     // a second deactivate must not release the shared clock twice
        }
        assertEquals(0, threads(CoarseClock.THREAD), "deactivate of the last table stops the clock thread");
        assertThrows(IllegalArgumentException.class, () -> new MacTableImpl(new TestConfig(300, 5, 0)));
        assertEquals(0, threads(CoarseClock.THREAD), "a rejected configuration starts no clock thread");
    }

    @Test
    void clockThreadSleepsWithoutReadersAndTheNextReadIsFresh() throws InterruptedException {
        assertEquals(0, threads(CoarseClock.THREAD), "no clock thread left over by another test");
        MacTableImpl a = new MacTableImpl(new TestConfig(300, 8192, 0));
        try {
            // nobody reads: after IDLE_TICKS unread ticks the thread parks (an idle switch wakes no core)
            awaitClockAsleep();
            Thread.sleep(20);
            long before = System.nanoTime();
            int looks = CoarseClock.looks();
            long read = CoarseClock.now();
            assertTrue(read >= before, "the first read after sleeping is a fresh reading, not the stale tick");
            // awake now only if the thread looked meanwhile: the read itself woke nobody (no system call on the
            // frame's path)
            assertTrue(CoarseClock.asleep() || CoarseClock.looks() != looks, "a read leaves a mark, it wakes nobody");
            // the read left a mark, not a wake-up: the thread finds it at its next look (at most a second)
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (CoarseClock.asleep() && System.nanoTime() < deadline) {
                assertTrue(CoarseClock.now() >= read, "while it sleeps, every read is fresh");
                Thread.sleep(10);
            }
            assertFalse(CoarseClock.asleep(), "a read brings the clock thread back");
            long t0 = CoarseClock.now();
            deadline = System.nanoTime() + 5_000_000_000L;
            while (CoarseClock.now() == t0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertTrue(CoarseClock.now() - t0 > 0, "the clock ticks again");
            assertEquals(PortId.of(1), learnAndLookUp(a));
        } finally {
            a.deactivate();
        }
        assertEquals(0, threads(CoarseClock.THREAD), "deactivate stops the clock thread, also after it slept");
    }

    /**
     * nowNanos, the clock a switch stamps its frames with: the table's own (a test's clock as given); for an
     * activated table the coarse clock, read without keeping the ticker awake (a sleeping ticker stays asleep and
     * every reading is fresh), never behind an earlier reading, and {@code System.nanoTime()} after the last table
     * released the clock (no frozen time for a reader left over).
     */
    @Test
    void nowNanosIsTheTablesClockAndDoesNotWakeIt() throws InterruptedException {
        assertEquals(42L, new MacTableImpl(Settings.defaults(), () -> 42L).nowNanos(), "a test's clock as given");
        assertEquals(0, threads(CoarseClock.THREAD), "no clock thread left over by another test");
        MacTableImpl a = new MacTableImpl(new TestConfig(300, 8192, 0));
        try {
            awaitClockAsleep();
            int looks = CoarseClock.looks();
            long last = 0;
            // several of the ticker's looks (a second each) with nowNanos read all along: it stays asleep
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (CoarseClock.looks() < looks + 2 && System.nanoTime() < deadline) {
                long before = System.nanoTime();
                long read = a.nowNanos();
                assertTrue(read >= before && read >= last, "while the ticker sleeps a reading is fresh");
                last = read;
                Thread.sleep(5);
            }
            assertTrue(CoarseClock.looks() >= looks + 2, "the ticker looked");
            assertTrue(CoarseClock.asleep(), "nowNanos does not keep the ticker awake");
            learnAndLookUp(a); // a table read does: it wakes at its next look and ticks
            deadline = System.nanoTime() + 10_000_000_000L;
            while (CoarseClock.asleep() && System.nanoTime() < deadline) {
                learnAndLookUp(a);
                Thread.sleep(10);
            }
            assertFalse(CoarseClock.asleep(), "table reads bring the ticker back");
            long before = System.nanoTime();
            long read = a.nowNanos();
            assertTrue(read <= System.nanoTime() && read >= last, "an awake reading is a past tick, never going back");
            assertTrue(before - read < 1_000_000_000L, "and recent");
        } finally {
            a.deactivate();
        }
        long before = System.nanoTime();
        assertTrue(a.nowNanos() >= before, "after the last release: System.nanoTime(), not the last tick");
    }

    /** Waits (up to 10 s) until the clock thread sleeps for lack of readers: after IDLE_TICKS unread ticks. */
    private static void awaitClockAsleep() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!CoarseClock.asleep() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(CoarseClock.asleep(), "the clock thread sleeps when nobody reads it");
    }

    private static PortId learnAndLookUp(MacTableImpl t) {
        t.learn(0, 0, 0x0200_0000_0001L, PortId.of(1));
        return t.lookup(0, 0, 0x0200_0000_0001L);
    }

    private static boolean ageingThreadRunning() {
        return threads(Ageing.THREAD) > 0;
    }

    private static long threads(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(th -> th.isAlive() && th.getName().equals(name)).count();
    }
}
