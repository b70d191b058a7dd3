package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.api.MacTableAdminService.LearnResult.LEARNED;
import static org.vl2.api.MacTableAdminService.LearnResult.MOVED;
import static org.vl2.api.MacTableAdminService.LearnResult.REFRESHED;
import static org.vl2.api.MacTableAdminService.LearnResult.REFUSED;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacEvent;

/** The limits: fair eviction at the capacity, the per-port limit, and trimming to a lower configuration. */
class EvictionTest extends MacTableFixture {

    @Test
    void fullTableEvictsFromThePortHoldingTheMost() {
        MacTableImpl t = table(300, 16, 0);
        RecordingListener events = listen(t);
        for (int i = 0; i < 4; i++) {
            t.addStatic(NET, 0, macAddress(100 + i), P3);
        }
        for (int i = 0; i < 10; i++) {
            clock.advanceMillis(10);
            assertEquals(LEARNED, t.learn(NET, 0, mac(i), P1));      // port A: 10
        }
        for (int i = 10; i < 12; i++) {
            clock.advanceMillis(10);
            assertEquals(LEARNED, t.learn(NET, 0, mac(i), P2));      // port B: 2
        }
        assertEquals(16, t.size());

        assertEquals(LEARNED, t.learn(NET, 0, mac(50), P2));
        assertEquals(16, t.size());
        assertEquals(1, t.statistics().evicted());
        assertNull(t.lookup(NET, 0, mac(0)), "A's least recently seen entry goes");
        assertEquals(Map.of(P1, 9L, P2, 3L), dynamicPerPort(t));
        assertEquals(List.of(new MacEvent(MacEvent.Type.EVICTED, NET, 0, macAddress(0), P1, null)),
                events.of(MacEvent.Type.EVICTED));

        // keep learning new stations on B: eviction stays fair (A loses until B holds more)
        for (int i = 51; i < 57; i++) {
            assertEquals(LEARNED, t.learn(NET, 0, mac(i), P2));
        }
        assertEquals(Map.of(P1, 6L, P2, 6L), dynamicPerPort(t));
        assertEquals(16, t.size());
        assertEquals(4, t.statistics().staticSize());
        for (int i = 0; i < 4; i++) {
            assertEquals(P3, t.lookup(NET, 0, mac(100 + i)), "static entries are never evicted");
        }
        assertConsistent(t);
    }

    @Test
    void evictionPrefersTheLeastRecentlySeenOfThePortsOldest() {
        MacTableImpl t = table(300, 16, 0);
        for (int i = 0; i < 16; i++) {
            clock.advanceMillis(10);
            t.learn(NET, 0, mac(i), P1);
        }
        clock.advanceSeconds(1);
        assertEquals(REFRESHED, t.learn(NET, 0, mac(0), P1));   // the oldest is still active
        assertEquals(LEARNED, t.learn(NET, 0, mac(99), P1));
        assertEquals(P1, t.lookup(NET, 0, mac(0)));
        assertNull(t.lookup(NET, 0, mac(1)), "the oldest entry not seen since is evicted instead");
        assertConsistent(t);
    }

    @Test
    void evictingAnExpiredEntryCountsAsAgeing() {
        MacTableImpl t = table(10, 16, 0);
        for (int i = 0; i < 16; i++) {
            t.learn(NET, 0, mac(i), P1);
            clock.advanceSeconds(1);
        }
        assertEquals(LEARNED, t.learn(NET, 0, mac(99), P1));   // mac(0) is 16 s old: already expired
        assertEquals(1, t.statistics().aged());
        assertEquals(0, t.statistics().evicted());
    }

    @Test
    void tableFullOfStaticEntriesRefuses() {
        MacTableImpl t = table(300, 16, 0);
        for (int i = 0; i < 16; i++) {
            t.addStatic(NET, 0, macAddress(i), P1);
        }
        assertEquals(REFUSED, t.learn(NET, 0, mac(99), P2));
        assertEquals(1, t.statistics().refused());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> t.addStatic(NET, 0, macAddress(98), P2));
        assertTrue(e.getMessage().contains("full"), e.getMessage());
        // replacing an existing static entry needs no room
        t.addStatic(NET, 0, macAddress(3), P2);
        assertEquals(P2, t.lookup(NET, 0, mac(3)));
        assertEquals(16, t.size());
        assertConsistent(t);
    }

    @Test
    void perPortLimitRefusesAndCounts() {
        MacTableImpl t = table(300, 8192, 3);
        for (int i = 0; i < 3; i++) {
            assertEquals(LEARNED, t.learn(NET, 0, mac(i), P1));
        }
        assertEquals(REFUSED, t.learn(NET, 0, mac(3), P1));
        assertEquals(REFUSED, t.learn(NET, 7, mac(4), P1), "the limit is per port, across VLANs");
        assertNull(t.lookup(NET, 0, mac(3)));
        assertEquals(2, t.statistics().refused());
        assertEquals(REFRESHED, t.learn(NET, 0, mac(0), P1), "known stations are still refreshed");
        assertEquals(LEARNED, t.learn(NET, 0, mac(3), P2), "other ports are not affected");
        // a move into a full port is refused too: the entry stays where it was
        assertEquals(REFUSED, t.learn(NET, 0, mac(3), P1));
        assertEquals(P2, t.lookup(NET, 0, mac(3)));
        assertEquals(3, t.statistics().refused());
        // static entries do not count against the limit
        t.addStatic(NET, 0, macAddress(50), P1);
        assertEquals(P1, t.lookup(NET, 0, mac(50)));
        assertEquals(1, t.flushPort(P2));
        assertEquals(MOVED, t.learn(NET, 0, mac(0), P2));
        assertEquals(LEARNED, t.learn(NET, 0, mac(60), P1), "a move frees room on the old port");
        assertEquals(5, t.size());
        assertConsistent(t);
    }

    @Test
    void loweringTheCapacityEvictsFairly() {
        MacTableImpl t = table(300, 128, 0);
        RecordingListener events = listen(t);
        for (int i = 0; i < 40; i++) {
            t.learn(NET, 0, mac(i), P1);
        }
        for (int i = 40; i < 64; i++) {
            t.learn(NET, 0, mac(i), P2);
        }
        for (int i = 0; i < 4; i++) {
            t.addStatic(NET, 1, macAddress(i), P3);
        }
        t.reconfigure(new Settings(300, 36, 0));
        assertEquals(36, t.size());
        assertEquals(32, t.statistics().evicted());
        assertEquals(32, events.of(MacEvent.Type.EVICTED).size());
        assertEquals(Map.of(P1, 16L, P2, 16L), dynamicPerPort(t));
        assertEquals(36, t.statistics().capacity());
        assertEquals(4, t.statistics().staticSize());
        assertConsistent(t);
    }

    @Test
    void capacityBelowTheStaticEntriesKeepsThem() {
        MacTableImpl t = table(300, 64, 0);
        for (int i = 0; i < 20; i++) {
            t.addStatic(NET, 0, macAddress(i), P1);
            t.learn(NET, 1, mac(i), P2);
        }
        t.reconfigure(new Settings(300, 16, 0));
        assertEquals(20, t.size());
        assertEquals(20, t.statistics().staticSize());
        assertEquals(REFUSED, t.learn(NET, 1, mac(99), P2));
        assertConsistent(t);
    }

    @Test
    void loweringThePerPortLimitTrims() {
        MacTableImpl t = table(300, 8192, 0);
        for (int i = 0; i < 10; i++) {
            t.learn(NET, 0, mac(i), P1);
        }
        for (int i = 10; i < 13; i++) {
            t.learn(NET, 0, mac(i), P2);
        }
        t.reconfigure(new Settings(300, 8192, 4));
        assertEquals(Map.of(P1, 4L, P2, 3L), dynamicPerPort(t));
        assertEquals(6, t.statistics().evicted());
        assertEquals(P1, t.lookup(NET, 0, mac(9)), "the newest entries stay");
        assertEquals(REFUSED, t.learn(NET, 0, mac(20), P1));
        assertEquals(4, t.statistics().perPortLimit());
        assertConsistent(t);
    }
}
