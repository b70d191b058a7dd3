package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import org.junit.jupiter.api.Test;
import org.vl2.api.PortId;

/** The lock-free session table: sealed session indices are random, never 0, never shared, released with their port. */
class SessionTableTest {

    private static SwitchPort port(int number) {
        return new SwitchPort(PortId.of(number), SwitchPort.Kind.VL2, PortFraming.RAW, null, new TransportSlot("vl2"),
                null, new InetSocketAddress("127.0.0.1", 40000 + number), number, false, 0, Instant.EPOCH);
    }

    /** Draws these values in turn. */
    private static RandomGenerator drawing(Integer... values) {
        Iterator<Integer> it = List.of(values).iterator();
        return () -> (long) it.next() << 32;
    }

    @Test
    void allocationSkipsZeroAndEveryLiveKey() {
        SessionTable t = new SessionTable();
        SwitchPort a = port(1);
        SwitchPort b = port(2);
        assertEquals(7, t.allocate(a, drawing(0, 7)), "0 names no session");
        assertEquals(9, t.allocate(b, drawing(7, 7, 0, 9)), "a live key is never handed out twice");
        assertSame(a, t.get(7));
        assertSame(b, t.get(9));
        t.remove(7, b);
        assertSame(a, t.get(7), "only the holder removes its key");
        t.remove(7, a);
        assertNull(t.get(7));
        assertEquals(7, t.allocate(b, drawing(9, 7)), "a released key may come back");
    }

    @Test
    void aKeptLowByteReplacesTheDrawnOneAndStillSkipsLiveKeysAndZero() {
        SessionTable t = new SessionTable();
        SwitchPort a = port(1);
        assertEquals(0x1234_5642, t.allocate(a, drawing(0x1234_56ff), 0x42), "fresh upper 24 bits, kept low byte");
        assertEquals(0x0000_0142, t.allocate(a, drawing(0x1234_5600, 0x0000_01ff), 0x42), "a live key is skipped");
        assertEquals(0x0000_0100, t.allocate(a, drawing(0x0000_00ab, 0x0000_0100), 0), "0 names no session");
        assertEquals(0xabcd_ef01, t.allocate(a, drawing(0xabcd_ef01), -1), "-1: all 32 bits drawn");
    }

    @Test
    void manyRandomKeysAreDistinctFoundAndReleasedWithTheirPort() {
        SessionTable t = new SessionTable();
        RandomGenerator r = new SplittableRandom(42);
        SwitchPort[] ports = new SwitchPort[2_000];
        Set<Integer> keys = new HashSet<>();
        for (int i = 0; i < ports.length; i++) {
            ports[i] = port(i + 1);
            for (int j = 0; j < 3; j++) { // current, pending, previous
                int k = t.allocate(ports[i], r);
                assertNotEquals(0, k);
                assertTrue(keys.add(k), "key " + k + " handed out twice");
                assertSame(ports[i], t.get(k));
            }
        }
        assertEquals(6_000, t.size());
        assertNull(t.get(0));
        for (SwitchPort p : ports) {
            t.retain(p, k -> false);
        }
        assertEquals(0, t.size());
        assertEquals(16, t.capacity(), "the table follows the live keys");
        keys.forEach(k -> assertNull(t.get(k)));
    }

    @Test
    void retainKeepsOnlyWhatThePortStillHolds() {
        SessionTable t = new SessionTable();
        SwitchPort a = port(1);
        SwitchPort b = port(2);
        t.put(1, a);
        t.put(2, a);
        t.put(3, b);
        t.retain(a, k -> k == 2);
        assertNull(t.get(1));
        assertSame(a, t.get(2));
        assertSame(b, t.get(3), "another port's keys stay");
        t.put(3, a);
        assertSame(a, t.get(3), "put replaces");
        assertEquals(2, t.size());
    }

    @Test
    void insertsAndRemovalsChangeTheTableInPlaceNotByCopyingIt() {
        SessionTable t = new SessionTable();
        RandomGenerator r = new SplittableRandom(7);
        SwitchPort[] ports = new SwitchPort[10_000];
        for (int i = 0; i < ports.length; i++) {
            ports[i] = port(i + 1);
            t.allocate(ports[i], r);
        }
        // 10,000 members joined: a table built per join would be 10,000 builds of up to 32k slots each
        assertTrue(t.rebuilds() <= 12, "tables built for 10,000 inserts: " + t.rebuilds());
        int before = t.rebuilds();
        // a rekey round: every member gets a new index and drops its old one
        for (SwitchPort p : ports) {
            int fresh = t.allocate(p, r);
            t.retain(p, k -> k == fresh);
        }
        assertEquals(10_000, t.size());
        assertTrue(t.rebuilds() - before <= 4, "tables built for 10,000 rekeys: " + (t.rebuilds() - before));
        assertTrue(t.capacity() <= 65_536, "capacity " + t.capacity());
        for (SwitchPort p : ports) {
            t.retain(p, k -> false);
        }
        assertEquals(0, t.size());
        assertEquals(16, t.capacity(), "the table shrinks with the live keys");
    }

    @Test
    void joiningAndLeavingInALoopKeepsTheTableSmall() {
        SessionTable t = new SessionTable();
        RandomGenerator r = new SplittableRandom(11);
        SwitchPort a = port(1);
        int[] live = new int[100];
        for (int i = 0; i < live.length; i++) {
            live[i] = t.allocate(a, r);
        }
        for (int i = 0; i < 100_000; i++) {
            int slot = i % live.length;
            t.remove(live[slot], a);
            live[slot] = t.allocate(a, r);
        }
        assertEquals(100, t.size());
        assertTrue(t.capacity() <= 512, "capacity " + t.capacity() + " for 100 live keys");
        for (int k : live) {
            assertSame(a, t.get(k));
        }
    }

    @Test
    void aReaderNeverMissesALiveKeyWhileWritersChangeTheTable() throws Exception {
        SessionTable t = new SessionTable();
        RandomGenerator r = new SplittableRandom(3);
        SwitchPort stable = port(1);
        int[] keys = new int[64];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = t.allocate(stable, r);
        }
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong misses = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong reads = new java.util.concurrent.atomic.AtomicLong();
        Thread reader = new Thread(() -> {
            while (!done.get()) {
                for (int k : keys) {
                    if (t.get(k) != stable) {
                        misses.incrementAndGet();
                    }
                }
                reads.incrementAndGet();
            }
        });
        reader.start();
        try {
            SwitchPort[] churn = new SwitchPort[2_000];
            int[] others = new int[churn.length];
            for (int i = 0; i < churn.length; i++) {
                churn[i] = port(i + 2);
            }
            // grows and shrinks the table, leaves tombstones; at least 20 rounds, and on until the reader has swept
            // the keys a few times meanwhile (on a loaded machine it may get its first turn only after many rounds)
            long startReads = reads.get();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            for (int round = 0; round < 20 || reads.get() - startReads < 3 && System.nanoTime() < deadline; round++) {
                for (int i = 0; i < others.length; i++) {
                    others[i] = t.allocate(churn[i], r);
                }
                for (int i = 0; i < others.length; i++) {
                    t.remove(others[i], churn[i]);
                }
            }
        } finally {
            done.set(true);
            reader.join(10_000);
        }
        assertTrue(reads.get() > 0, "the reader ran while the writers changed the table");
        assertEquals(0, misses.get(), "lookups of live keys that missed during writes");
    }
}
