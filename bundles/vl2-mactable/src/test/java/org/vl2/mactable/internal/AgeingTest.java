package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.api.MacTableAdminService.LearnResult.LEARNED;
import static org.vl2.api.MacTableAdminService.LearnResult.REFRESHED;

import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacEvent;

/** Ageing: exact expiry, refreshes, the periodic sweep and its period, reconfiguration of the ageing time. */
class AgeingTest extends MacTableFixture {

    @Test
    void ageingIsExactAtTheBoundary() {
        MacTableImpl t = table(300, 8192, 0);
        RecordingListener events = listen(t);
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
        RecordingListener events = listen(t);
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

    @Test
    void shorterAgeingAppliesAtOnce() {
        MacTableImpl t = table();
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
}
