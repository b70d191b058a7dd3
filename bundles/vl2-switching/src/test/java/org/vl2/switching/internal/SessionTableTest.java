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
}
