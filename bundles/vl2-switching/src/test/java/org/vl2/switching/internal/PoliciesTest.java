package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;
import org.vl2.api.EthernetFrame;
import org.vl2.api.MacAddress;
import org.vl2.api.PortId;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.TestFrames;

class PoliciesTest {

    private static final PortId P1 = PortId.of(1);
    private static final PortId P2 = PortId.of(2);

    @Test
    void learningSendsKnownUnicastToItsPortAndFloodsTheRest() {
        FakeMacTable fdb = new FakeMacTable();
        fdb.learn(0, 0, MacAddress.valueOf("02:00:00:00:00:02").toLong(), P2);
        LearningPolicy learning = new LearningPolicy();

        EthernetFrame known = EthernetFrame.of(TestFrames.frame("02:00:00:00:00:02", "02:00:00:00:00:01", -1, 46));
        assertEquals(P2, learning.egress(0, P1, known, fdb));

        EthernetFrame unknown = EthernetFrame.of(TestFrames.frame("02:00:00:00:00:09", "02:00:00:00:00:01", -1, 46));
        assertSame(PortId.FLOOD, learning.egress(0, P1, unknown, fdb));

        EthernetFrame broadcast = EthernetFrame.of(TestFrames.frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:01", -1, 46));
        assertSame(PortId.FLOOD, learning.egress(0, P1, broadcast, fdb));

        EthernetFrame ipv6Multicast = EthernetFrame.of(TestFrames.frame("33:33:00:00:00:01", "02:00:00:00:00:01", -1, 46));
        assertSame(PortId.FLOOD, learning.egress(0, P1, ipv6Multicast, fdb));
    }

    @Test
    void learningLooksUpInTheFramesVlanAndNetwork() {
        FakeMacTable fdb = new FakeMacTable();
        fdb.learn(0, 10, MacAddress.valueOf("02:00:00:00:00:02").toLong(), P2);
        LearningPolicy learning = new LearningPolicy();
        EthernetFrame vlan10 = EthernetFrame.of(TestFrames.frame("02:00:00:00:00:02", "02:00:00:00:00:01", 10, 46));
        EthernetFrame vlan20 = EthernetFrame.of(TestFrames.frame("02:00:00:00:00:02", "02:00:00:00:00:01", 20, 46));
        assertEquals(P2, learning.egress(0, P1, vlan10, fdb));
        assertSame(PortId.FLOOD, learning.egress(0, P1, vlan20, fdb));
        assertSame(PortId.FLOOD, learning.egress(7, P1, vlan10, fdb));
    }

    @Test
    void hubFloodsEverything() {
        FakeMacTable fdb = new FakeMacTable();
        fdb.learn(0, 0, MacAddress.valueOf("02:00:00:00:00:02").toLong(), P2);
        EthernetFrame known = EthernetFrame.of(TestFrames.frame("02:00:00:00:00:02", "02:00:00:00:00:01", -1, 46));
        assertSame(PortId.FLOOD, new HubPolicy().egress(0, P1, known, fdb));
        assertEquals("hub", new HubPolicy().name());
        assertEquals("learning", new LearningPolicy().name());
    }
}
