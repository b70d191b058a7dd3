package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.PortId;

/** What the MAC table's tests share: a hand-moved clock, ports, networks, stations and the consistency check. */
abstract class MacTableFixture {

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

    /** A listener that records the events of {@code t}. */
    static RecordingListener listen(MacTableImpl t) {
        RecordingListener events = new RecordingListener();
        t.addListener(events);
        return events;
    }

    static void assertConsistent(MacTableImpl t) {
        List<String> problems = t.check();
        assertTrue(problems.isEmpty(), () -> "inconsistent table: " + problems);
    }

    static Map<PortId, Long> dynamicPerPort(MacTableImpl t) {
        return t.entries().stream().filter(e -> !e.isStatic())
                .collect(Collectors.groupingBy(MacEntry::port, Collectors.counting()));
    }
}
