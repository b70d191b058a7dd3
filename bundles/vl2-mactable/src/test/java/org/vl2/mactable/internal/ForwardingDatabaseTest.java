package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.api.MacTableAdminService.LearnResult.LEARNED;
import static org.vl2.api.MacTableAdminService.LearnResult.MOVED;
import static org.vl2.api.MacTableAdminService.LearnResult.REFRESHED;
import static org.vl2.api.MacTableAdminService.LearnResult.REFUSED;
import static org.vl2.api.MacTableAdminService.LearnResult.STATIC;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.MacEvent;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.PortId;

/** The table operations: learn, lookup, moves, the read side, static entries, removals and flushes. */
class ForwardingDatabaseTest extends MacTableFixture {

    @Test
    void learnsLooksUpAndRefreshes() {
        MacTableImpl t = table();
        assertNull(t.lookup(NET, 0, mac(1)));
        assertEquals(LEARNED, t.learn(NET, 0, mac(1), P1));
        assertEquals(P1, t.lookup(NET, 0, mac(1)));
        assertEquals(1, t.size());

        clock.advanceSeconds(100);
        assertEquals(100_000, t.entry(NET, 0, macAddress(1)).orElseThrow().ageMillis());
        assertEquals(REFRESHED, t.learn(NET, 0, mac(1), PortId.of(1)));   // an equal PortId, not the same instance
        assertEquals(0, t.entry(NET, 0, macAddress(1)).orElseThrow().ageMillis());
        clock.advanceMillis(1500);
        assertEquals(1500, t.entry(NET, 0, macAddress(1)).orElseThrow().ageMillis());

        MacTableStatistics s = t.statistics();
        assertEquals(1, s.size());
        assertEquals(1, s.learned());
        assertEquals(0, s.moved());
        assertEquals(1, t.entries().size());
        assertConsistent(t);
    }

    @Test
    void entrySnapshotHasAllFields() {
        MacTableImpl t = table();
        t.learn(NET2, 42, mac(7), P2);
        clock.advanceMillis(2500);
        MacEntry e = t.entries().get(0);
        assertEquals(new MacEntry(NET2, 42, macAddress(7), P2, false, 2500, 0), e);
        assertEquals(e, t.entry(NET2, 42, macAddress(7)).orElseThrow());
        assertTrue(t.entry(NET2, 43, macAddress(7)).isEmpty());
    }

    @Test
    void groupSourcesAreNeverLearned() {
        MacTableImpl t = table();
        assertEquals(REFUSED, t.learn(NET, 0, MacAddress.BROADCAST.toLong(), P1));
        assertEquals(REFUSED, t.learn(NET, 0, MacAddress.valueOf("01:00:5e:00:00:fb").toLong(), P1));
        assertEquals(0, t.size());
        assertEquals(0, t.statistics().learned());
    }

    @Test
    void rejectsBadKeysOnLearnAndIgnoresThemOnLookup() {
        MacTableImpl t = table();
        t.learn(NET, 1, mac(1), P1);
        assertThrows(IllegalArgumentException.class, () -> t.learn(NET, 4096, mac(1), P1));
        assertThrows(IllegalArgumentException.class, () -> t.learn(NET, -1, mac(1), P1));
        assertThrows(IllegalArgumentException.class, () -> t.learn(NET, 0, 1L << 48 | mac(1), P1));
        assertThrows(IllegalArgumentException.class, () -> t.learn(NET, 0, mac(1), PortId.FLOOD));
        assertThrows(NullPointerException.class, () -> t.learn(NET, 0, mac(1), null));
        // a MAC with high bits must not alias another VLAN's key
        assertNull(t.lookup(NET, 0, (1L << 48) | mac(1)));
        assertNull(t.lookup(NET, 4097, mac(1)));
        assertEquals(P1, t.lookup(NET, 1, mac(1)));
    }

    @Test
    void vlansAndNetworksAreIsolated() {
        MacTableImpl t = table();
        assertEquals(LEARNED, t.learn(NET, 10, mac(1), P1));
        assertEquals(LEARNED, t.learn(NET, 20, mac(1), P2));
        assertEquals(LEARNED, t.learn(NET2, 10, mac(1), P3));
        assertEquals(3, t.size());
        assertEquals(P1, t.lookup(NET, 10, mac(1)));
        assertEquals(P2, t.lookup(NET, 20, mac(1)));
        assertEquals(P3, t.lookup(NET2, 10, mac(1)));
        assertNull(t.lookup(NET2, 20, mac(1)));
        assertNull(t.lookup(NET, 0, mac(1)));
        // learning in one VLAN is no move in another
        assertEquals(REFRESHED, t.learn(NET, 10, mac(1), P1));
        assertEquals(0, t.statistics().moved());
        assertConsistent(t);
    }

    @Test
    void manyNetworksAndGrowthKeepEveryEntry() {
        MacTableImpl t = table(300, 1 << 16, 0);
        for (int n = 0; n < 50; n++) {
            for (int i = 0; i < 500; i++) {
                assertEquals(LEARNED, t.learn(n * 7919L, i % 4095, mac(i), PortId.of(1 + i % 5)));
            }
        }
        assertEquals(25_000, t.size());
        for (int n = 0; n < 50; n++) {
            for (int i = 0; i < 500; i++) {
                assertEquals(PortId.of(1 + i % 5), t.lookup(n * 7919L, i % 4095, mac(i)));
            }
        }
        assertConsistent(t);
        assertEquals(5_000, t.flushPort(P1));
        assertEquals(25_000, t.flush() + 5_000);
        assertEquals(0, t.size());
        assertConsistent(t);
    }

    @Test
    void detectsAndCountsMoves() {
        MacTableImpl t = table();
        RecordingListener events = listen(t);
        t.learn(NET, 0, mac(1), P1);
        assertEquals(MOVED, t.learn(NET, 0, mac(1), P2));
        assertEquals(P2, t.lookup(NET, 0, mac(1)));
        // a flapping MAC (loop): every change of port is a move
        for (int i = 0; i < 10; i++) {
            assertEquals(MOVED, t.learn(NET, 0, mac(1), i % 2 == 0 ? P1 : P2));
            assertEquals(REFRESHED, t.learn(NET, 0, mac(1), i % 2 == 0 ? P1 : P2));
        }
        assertEquals(11, t.entry(NET, 0, macAddress(1)).orElseThrow().moves());
        assertEquals(11, t.statistics().moved());
        assertEquals(1, t.statistics().learned());
        assertEquals(1, t.size());
        MacEvent first = events.of(MacEvent.Type.MOVED).get(0);
        assertEquals(new MacEvent(MacEvent.Type.MOVED, NET, 0, macAddress(1), P2, P1), first);
        assertEquals(Map.of(P2, 1L), dynamicPerPort(t));
        assertConsistent(t);
    }

    @Test
    void staticEntries() {
        MacTableImpl t = table(10, 8192, 0);
        t.learn(NET, 0, mac(1), P1);
        t.addStatic(NET, 0, macAddress(1), P2);     // replaces the dynamic entry
        assertEquals(P2, t.lookup(NET, 0, mac(1)));
        assertEquals(1, t.size());
        assertEquals(1, t.statistics().staticSize());
        assertEquals(STATIC, t.learn(NET, 0, mac(1), P1), "learning never overwrites a static entry");
        assertEquals(STATIC, t.learn(NET, 0, mac(1), P2));
        assertEquals(P2, t.lookup(NET, 0, mac(1)));
        assertEquals(0, t.statistics().moved());

        clock.advanceSeconds(100_000);
        assertEquals(P2, t.lookup(NET, 0, mac(1)), "static entries never age");
        assertEquals(0, t.ageing.sweep(clock.getAsLong()));
        MacEntry e = t.entry(NET, 0, macAddress(1)).orElseThrow();
        assertTrue(e.isStatic());
        assertEquals(0, e.ageMillis());
        assertEquals(Map.of(), dynamicPerPort(t));

        assertEquals(0, t.flush());
        assertEquals(0, t.flushPort(P2));
        assertEquals(0, t.flushMac(macAddress(1)));
        assertEquals(1, t.size());
        assertConsistent(t);

        assertTrue(t.remove(NET, 0, macAddress(1)));
        assertFalse(t.remove(NET, 0, macAddress(1)));
        assertNull(t.lookup(NET, 0, mac(1)));
        assertEquals(0, t.statistics().staticSize());
        assertEquals(LEARNED, t.learn(NET, 0, mac(1), P1));
        assertConsistent(t);
    }

    @Test
    void staticEntriesMustBeUnicastAndValid() {
        MacTableImpl t = table();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.addStatic(NET, 0, MacAddress.valueOf("01:00:5e:00:00:01"), P1));
        assertTrue(e.getMessage().contains("01:00:5e:00:00:01") && e.getMessage().contains("multicast"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.addStatic(NET, 0, MacAddress.BROADCAST, P1));
        assertThrows(IllegalArgumentException.class, () -> t.addStatic(NET, 4096, macAddress(1), P1));
        assertThrows(IllegalArgumentException.class, () -> t.addStatic(NET, 0, macAddress(1), PortId.FLOOD));
        assertEquals(0, t.size());
    }

    @Test
    void removeDeletesDynamicEntries() {
        MacTableImpl t = table();
        t.learn(NET, 3, mac(1), P1);
        assertFalse(t.remove(NET, 4, macAddress(1)));
        assertTrue(t.remove(NET, 3, macAddress(1)));
        assertNull(t.lookup(NET, 3, mac(1)));
        assertEquals(0, t.size());
        assertConsistent(t);
    }

    @Test
    void flushesCountWhatTheyRemove() {
        MacTableImpl t = table();
        for (int i = 0; i < 5; i++) {
            t.learn(NET, 0, mac(i), P1);
            t.learn(NET, 1, mac(i), P2);
            t.learn(NET2, 0, mac(i), P3);
        }
        t.addStatic(NET, 2, macAddress(0), P1);
        assertEquals(16, t.size());

        assertEquals(3, t.flushMac(macAddress(0)), "every network and VLAN, static entries stay");
        assertNull(t.lookup(NET, 0, mac(0)));
        assertNull(t.lookup(NET2, 0, mac(0)));
        assertEquals(P1, t.lookup(NET, 2, mac(0)));
        assertEquals(0, t.flushMac(macAddress(0)));

        assertEquals(4, t.flushPort(P2));
        assertEquals(0, t.flushPort(P2));
        assertEquals(0, t.flushPort(PortId.of(99)));
        assertNull(t.lookup(NET, 1, mac(1)));
        assertEquals(P1, t.lookup(NET, 0, mac(1)));

        assertEquals(8, t.flush());
        assertEquals(1, t.size());
        assertEquals(0, t.flush());
        assertEquals(LEARNED, t.learn(NET, 0, mac(1), P1), "flushed stations are learned again");
        assertConsistent(t);
    }

    @Test
    void flushMacInALargeNetworkProbesEveryVlan() {
        MacTableImpl t = table(300, 1 << 16, 0);
        for (int vlan = 0; vlan < 4096; vlan++) {
            t.learn(NET, vlan, mac(1), P1);
            t.learn(NET, vlan, mac(2), P1);
        }
        t.learn(NET2, 5, mac(1), P1);
        assertEquals(8193, t.size());
        assertEquals(4097, t.flushMac(macAddress(1)));
        assertEquals(4096, t.size());
        assertNull(t.lookup(NET, 4095, mac(1)));
        assertEquals(P1, t.lookup(NET, 4095, mac(2)));
        assertConsistent(t);
    }

    @Test
    void statisticsReportTheConfiguration() {
        MacTableImpl t = table(42, 1000, 7);
        assertEquals(new MacTableStatistics(0, 0, 1000, 7, 42, 0, 0, 0, 0, 0), t.statistics());
        assertNotNull(t.entries());
    }
}
