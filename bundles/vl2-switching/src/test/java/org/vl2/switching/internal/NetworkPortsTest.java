package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.vl2.api.PortId;

/** A network's ports: joins append in place (no copy of every port per join), snapshots never change. */
class NetworkPortsTest {

    private static SwitchPort port(int number) {
        return new SwitchPort(PortId.of(number), SwitchPort.Kind.VL2, PortFraming.RAW, null, new TransportSlot("vl2"),
                null, new InetSocketAddress("127.0.0.1", 40000 + number % 20000), number, false, 0, Instant.EPOCH);
    }

    private static Network network() {
        return new Network(new Network.State(NetworkSettings.builtIn(0x5ca1eL), null, null, null));
    }

    @Test
    void tenThousandJoinsBuildAFewArraysNotTenThousand() {
        Network n = network();
        int arrays = 0;
        Network.Ports last = n.ports();
        for (int i = 1; i <= 10_000; i++) {
            n.add(port(i));
            Network.Ports now = n.ports();
            arrays += now.sameArray(last) ? 0 : 1;
            last = now;
        }
        assertEquals(10_000, n.ports().size());
        assertTrue(arrays <= 14, "doubling: " + arrays + " arrays for 10,000 joins (a copy per join built 10,000)");
        for (int i = 0; i < 10_000; i++) {
            assertEquals(i + 1, n.ports().get(i).member, "in join order");
        }
    }

    @Test
    void aSnapshotStaysWhatItWasWhilePortsComeAndGo() {
        Network n = network();
        List<SwitchPort> ports = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            ports.add(port(i));
            n.add(ports.get(i - 1));
        }
        Network.Ports before = n.ports();
        n.add(port(6)); // in place: the slot past the snapshot
        n.remove(ports.get(1));
        n.add(port(7));
        n.remove(port(99)); // not there: nothing changes
        assertEquals(5, before.size());
        List<SwitchPort> seen = new ArrayList<>();
        before.forEach(seen::add);
        assertEquals(ports, seen, "the flood that took the snapshot sees exactly its ports");
        Network.Ports now = n.ports();
        assertEquals(6, now.size());
        assertFalse(now.contains(ports.get(1)));
        assertSame(ports.get(2), now.get(1), "a removal keeps the others' order");
        assertEquals(7, now.get(5).member);
    }

    @Test
    void networksNeverShareTheirPorts() {
        Network a = network();
        Network b = network();
        SwitchPort pa = port(1);
        SwitchPort pb = port(2);
        a.add(pa);
        b.add(pb);
        assertEquals(1, a.ports().size());
        assertSame(pa, a.ports().get(0), "b's join wrote nothing into a's ports");
        assertSame(pb, b.ports().get(0));
        a.remove(pa);
        b.add(port(3));
        assertEquals(0, a.ports().size());
        assertEquals(2, b.ports().size());
    }
}
