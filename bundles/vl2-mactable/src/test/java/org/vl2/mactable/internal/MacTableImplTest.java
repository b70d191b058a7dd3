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

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.MacEvent;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.PortId;

class MacTableImplTest {

    static final PortId P1 = PortId.of(1);
    static final PortId P2 = PortId.of(2);
    static final PortId P3 = PortId.of(3);
    static final long NET = 0L;
    static final long NET2 = 0x8056c2e21c000001L;

    final TestClock clock = new TestClock();

    /** A locally administered unicast MAC. */
    static long mac(int n) {
        return 0x0200_0000_0000L | n;
    }

    static MacAddress macAddress(int n) {
        return MacAddress.of(mac(n));
    }

    MacTableImpl table(long ageingSeconds, int capacity, int perPortLimit) {
        return new MacTableImpl(new Settings(ageingSeconds, capacity, perPortLimit), clock);
    }

    MacTableImpl table() {
        return table(300, 8192, 0);
    }

    static void assertConsistent(MacTableImpl t) {
        List<String> problems = t.check();
        assertTrue(problems.isEmpty(), () -> "inconsistent table: " + problems);
    }

    static Map<PortId, Long> dynamicPerPort(MacTableImpl t) {
        return t.entries().stream().filter(e -> !e.isStatic())
                .collect(Collectors.groupingBy(MacEntry::port, Collectors.counting()));
    }

    // ------------------------------------------------------------------------------------------ learn / lookup

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

    // ------------------------------------------------------------------------------------------ moves

    @Test
    void detectsAndCountsMoves() {
        MacTableImpl t = table();
        RecordingListener events = new RecordingListener();
        t.addListener(events);
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

    // ------------------------------------------------------------------------------------------ ageing

    @Test
    void ageingIsExactAtTheBoundary() {
        MacTableImpl t = table(300, 8192, 0);
        RecordingListener events = new RecordingListener();
        t.addListener(events);
        long learnedAt = clock.getAsLong();
        t.learn(NET, 5, mac(1), P1);
        long ageing = 300_000_000_000L;

        clock.advanceNanos(ageing - 1);
        assertEquals(P1, t.lookup(NET, 5, mac(1)));
        assertEquals(0, t.ageing.sweep(clock.getAsLong()));
        assertEquals(1, t.size());

        clock.advanceNanos(1);
        assertEquals(learnedAt + ageing, clock.getAsLong());
        assertNull(t.lookup(NET, 5, mac(1)), "aged entries are not returned even before the sweep");
        assertTrue(t.entry(NET, 5, macAddress(1)).isEmpty());
        assertTrue(t.entries().isEmpty());
        assertEquals(1, t.size(), "lookups do not remove");
        assertEquals(1, t.ageing.sweep(clock.getAsLong()));
        assertEquals(0, t.size());
        assertEquals(1, t.statistics().aged());
        assertEquals(List.of(new MacEvent(MacEvent.Type.AGED, NET, 5, macAddress(1), P1, null)),
                events.of(MacEvent.Type.AGED));
        assertConsistent(t);
    }

    @Test
    void refreshPostponesAgeing() {
        MacTableImpl t = table(10, 8192, 0);
        t.learn(NET, 0, mac(1), P1);
        t.learn(NET, 0, mac(2), P1);
        clock.advanceSeconds(6);
        assertEquals(REFRESHED, t.learn(NET, 0, mac(1), P1));
        clock.advanceSeconds(6);
        assertEquals(P1, t.lookup(NET, 0, mac(1)));
        assertNull(t.lookup(NET, 0, mac(2)));
        assertEquals(1, t.ageing.sweep(clock.getAsLong()));
        assertEquals(P1, t.lookup(NET, 0, mac(1)));
        clock.advanceSeconds(4);
        assertNull(t.lookup(NET, 0, mac(1)));
        assertEquals(1, t.ageing.sweep(clock.getAsLong()));
        assertEquals(0, t.size());
        assertConsistent(t);
    }

    @Test
    void periodicExpirySkipsScansUntilSomethingCanExpire() {
        MacTableImpl t = table(10, 8192, 0);
        t.learn(NET, 0, mac(1), P1);
        t.ageing.expire();
        clock.advanceSeconds(5);
        t.learn(NET, 0, mac(2), P1);
        t.ageing.expire();                 // nothing can expire before +10 s: no scan
        clock.advanceSeconds(5);
        t.ageing.expire();
        assertEquals(1, t.size());
        assertNull(t.lookup(NET, 0, mac(1)));
        clock.advanceSeconds(5);
        t.ageing.expire();
        assertEquals(0, t.size());
        assertEquals(2, t.statistics().aged());
    }

    @Test
    void learningAnAgedButUnsweptEntryIsANewEntry() {
        MacTableImpl t = table(10, 8192, 0);
        RecordingListener events = new RecordingListener();
        t.addListener(events);
        t.learn(NET, 0, mac(1), P1);
        clock.advanceSeconds(10);
        assertEquals(LEARNED, t.learn(NET, 0, mac(1), P2), "a station back after the ageing time is not a move");
        assertEquals(P2, t.lookup(NET, 0, mac(1)));
        assertEquals(1, t.size());
        assertEquals(1, t.statistics().aged());
        assertEquals(0, t.statistics().moved());
        assertEquals(List.of(MacEvent.Type.LEARNED, MacEvent.Type.AGED, MacEvent.Type.LEARNED),
                events.events.stream().map(MacEvent::type).collect(Collectors.toList()));
        assertConsistent(t);
    }

    @Test
    void ageingZeroNeverAges() {
        MacTableImpl t = table(0, 8192, 0);
        t.learn(NET, 0, mac(1), P1);
        clock.advanceSeconds(3_000_000);
        assertEquals(P1, t.lookup(NET, 0, mac(1)));
        assertEquals(0, t.ageing.sweep(clock.getAsLong()));
        t.ageing.expire();
        assertEquals(1, t.size());
        assertEquals(REFRESHED, t.learn(NET, 0, mac(1), P1));
        assertEquals(0, t.statistics().ageingSeconds());
    }

    @Test
    void sweepPeriodFollowsTheAgeingTime() {
        assertEquals(1_000_000_000L, Ageing.sweepPeriodNanos(300_000_000_000L));
        assertEquals(500_000_000L, Ageing.sweepPeriodNanos(5_000_000_000L));
        assertEquals(100_000_000L, Ageing.sweepPeriodNanos(1_000_000_000L));
    }

    // ------------------------------------------------------------------------------------------ capacity

    @Test
    void fullTableEvictsFromThePortHoldingTheMost() {
        MacTableImpl t = table(300, 16, 0);
        RecordingListener events = new RecordingListener();
        t.addListener(events);
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

    // ------------------------------------------------------------------------------------------ static entries

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

    // ------------------------------------------------------------------------------------------ flushes

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

    // ------------------------------------------------------------------------------------------ listeners

    @Test
    void listenersSeeEveryKindOfEvent() {
        MacTableImpl t = table(10, 16, 0);
        RecordingListener events = new RecordingListener();
        t.addListener(events);
        t.learn(NET, 9, mac(1), P1);
        t.learn(NET, 9, mac(1), P1);
        t.learn(NET, 9, mac(1), P2);
        for (int i = 2; i <= 16; i++) {
            t.learn(NET, 9, mac(i), P1);
        }
        t.learn(NET, 9, mac(17), P2);   // full: evicts from P1
        clock.advanceSeconds(10);
        t.ageing.sweep(clock.getAsLong());

        assertEquals(17, events.of(MacEvent.Type.LEARNED).size());
        assertEquals(new MacEvent(MacEvent.Type.LEARNED, NET, 9, macAddress(1), P1, null), events.events.get(0));
        assertEquals(List.of(new MacEvent(MacEvent.Type.MOVED, NET, 9, macAddress(1), P2, P1)),
                events.of(MacEvent.Type.MOVED));
        assertEquals(List.of(new MacEvent(MacEvent.Type.EVICTED, NET, 9, macAddress(2), P1, null)),
                events.of(MacEvent.Type.EVICTED));
        assertEquals(16, events.of(MacEvent.Type.AGED).size());

        t.removeListener(events);
        t.learn(NET, 9, mac(1), P1);
        assertEquals(17, events.of(MacEvent.Type.LEARNED).size(), "no events after unbind");
    }

    @Test
    void aThrowingListenerDoesNotBreakTheTable() {
        MacTableImpl t = table();
        RecordingListener before = new RecordingListener();
        RecordingListener after = new RecordingListener();
        t.addListener(before);
        t.addListener(event -> {
            throw new IllegalStateException("listener bug");
        });
        t.addListener(after);
        for (int i = 0; i < 100; i++) {
            assertEquals(LEARNED, t.learn(NET, 0, mac(i), P1));
        }
        assertEquals(MOVED, t.learn(NET, 0, mac(0), P2));
        assertEquals(100, t.size());
        assertEquals(101, before.events.size());
        assertEquals(101, after.events.size(), "listeners after the failing one still get every event");
        assertConsistent(t);
    }

    // ------------------------------------------------------------------------------------------ runtime config

    @Test
    void loweringTheCapacityEvictsFairly() {
        MacTableImpl t = table(300, 128, 0);
        RecordingListener events = new RecordingListener();
        t.addListener(events);
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

    @Test
    void shorterAgeingAppliesAtOnce() {
        MacTableImpl t = table(300, 8192, 0);
        t.learn(NET, 0, mac(1), P1);
        t.ageing.expire();
        clock.advanceSeconds(60);
        t.ageing.expire();
        assertEquals(P1, t.lookup(NET, 0, mac(1)));
        t.reconfigure(new Settings(30, 8192, 0));
        assertNull(t.lookup(NET, 0, mac(1)));
        t.ageing.expire();
        assertEquals(0, t.size());
    }

    @Test
    void statisticsReportTheConfiguration() {
        MacTableImpl t = table(42, 1000, 7);
        assertEquals(new MacTableStatistics(0, 0, 1000, 7, 42, 0, 0, 0, 0, 0), t.statistics());
        assertNotNull(t.entries());
    }
}
