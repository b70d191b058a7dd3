package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vl2.api.MacTableAdminService.LearnResult.LEARNED;
import static org.vl2.api.MacTableAdminService.LearnResult.MOVED;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacEvent;

/** Listener events: every kind is delivered, unbinding stops them, a throwing listener harms nobody. */
class MacEventsTest extends MacTableFixture {

    @Test
    void listenersSeeEveryKindOfEvent() {
        MacTableImpl t = table(10, 16, 0);
        RecordingListener events = listen(t);
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
}
