package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.Endpoints;
import org.vl2.api.MacAddress;
import org.vl2.api.Networks;
import org.vl2.api.PortCounters;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchStatistics;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;

class SwitchCoreTest {

    private static final String A_MAC = "02:00:00:00:00:0a";
    private static final String B_MAC = "02:00:00:00:00:0b";
    private static final String C_MAC = "02:00:00:00:00:0c";
    private static final String BCAST = "ff:ff:ff:ff:ff:ff";
    private static final long SECOND = 1_000_000_000L;

    private final SocketAddress a = TestFrames.endpoint(40001);
    private final SocketAddress b = TestFrames.endpoint(40002);
    private final SocketAddress c = TestFrames.endpoint(40003);

    private final AtomicLong clock = new AtomicLong(1_000 * SECOND);
    private FakeMacTable fdb;
    private FakeTransport udp;
    private SwitchCore sw;

    @BeforeEach
    void setUp() {
        fdb = new FakeMacTable();
        udp = new FakeTransport("udp");
        sw = newSwitch(Fakes.defaults());
    }

    private SwitchCore newSwitch(SwitchConfig config) {
        SwitchCore s = new SwitchCore(fdb, config, clock::get, false);
        s.bindPolicy(new LearningPolicy());
        s.bindPolicy(new HubPolicy());
        s.attach(udp);
        return s;
    }

    /** Each of a, b, c announces itself with a broadcast, so all three ports exist and are learned. */
    private void threeHosts() {
        udp.inject(a, TestFrames.frame(BCAST, A_MAC, -1, 46));
        udp.inject(b, TestFrames.frame(BCAST, B_MAC, -1, 46));
        udp.inject(c, TestFrames.frame(BCAST, C_MAC, -1, 46));
        udp.clear();
    }

    @Test
    void broadcastIsFloodedToEveryOtherPortButNeverBackToTheSender() {
        threeHosts();
        udp.inject(a, TestFrames.frame(BCAST, A_MAC, -1, 46));
        assertEquals(0, udp.sentTo(a));
        assertEquals(1, udp.sentTo(b));
        assertEquals(1, udp.sentTo(c));
    }

    @Test
    void portsAppearOnTheirFirstValidDatagramAndAreLearned() {
        threeHosts();
        List<PortInfo> ports = sw.ports();
        assertEquals(3, ports.size());
        assertEquals("127.0.0.1:40001", ports.get(0).remote());
        assertEquals("udp", ports.get(0).transport());
        assertEquals("raw", ports.get(0).mode());
        assertEquals(ports.get(0).id(), fdb.lookup(Networks.RAW, 0, MacAddress.valueOf(A_MAC).toLong()));
        assertEquals(ports.get(2).id(), fdb.lookup(Networks.RAW, 0, MacAddress.valueOf(C_MAC).toLong()));
    }

    @Test
    void knownUnicastGoesOnlyToItsPort() {
        threeHosts();
        long txBefore = sw.ports().get(0).counters().txFrames(); // the floods of b's and c's broadcasts
        long txBytesBefore = sw.ports().get(0).counters().txBytes();
        ByteBuffer f = TestFrames.frame(A_MAC, B_MAC, -1, 100);
        udp.inject(b, f);
        assertEquals(1, udp.sentTo(a));
        assertEquals(0, udp.sentTo(c));
        assertEquals(0, udp.sentTo(b));
        assertEquals(114, udp.sent.get(a).get(0).length);
        SwitchStatistics st = sw.statistics();
        assertEquals(1, st.unicast());
        PortInfo pa = sw.ports().get(0);
        assertEquals(txBefore + 1, pa.counters().txFrames());
        assertEquals(txBytesBefore + 114, pa.counters().txBytes());
    }

    @Test
    void unknownUnicastAndMulticastAreFlooded() {
        threeHosts();
        udp.inject(b, TestFrames.frame("02:00:00:00:00:99", B_MAC, -1, 46));
        assertEquals(1, udp.sentTo(a));
        assertEquals(1, udp.sentTo(c));
        assertEquals(0, udp.sentTo(b));
        udp.clear();
        udp.inject(b, TestFrames.frame("33:33:ff:00:00:01", B_MAC, -1, 46)); // IPv6 solicited-node multicast
        assertEquals(1, udp.sentTo(a));
        assertEquals(1, udp.sentTo(c));
        assertEquals(0, udp.sentTo(b));
    }

    @Test
    void aDestinationBehindTheIngressPortIsFilteredNotSentBack() {
        threeHosts();
        udp.inject(a, TestFrames.frame(B_MAC, "02:00:00:00:00:aa", -1, 46)); // second host behind port a
        udp.clear();
        udp.inject(a, TestFrames.frame("02:00:00:00:00:aa", A_MAC, -1, 46));
        assertEquals(0, udp.sentTotal());
        assertEquals(1, sw.statistics().filtered());
    }

    @Test
    void aStationMovingToAnotherPortIsFollowed() {
        threeHosts();
        udp.inject(c, TestFrames.frame(BCAST, A_MAC, -1, 46)); // A now speaks from c
        udp.clear();
        udp.inject(b, TestFrames.frame(A_MAC, B_MAC, -1, 46));
        assertEquals(1, udp.sentTo(c));
        assertEquals(0, udp.sentTo(a));
    }

    @Test
    void vlansAreLearnedSeparatelyAndTagsArriveIntact() {
        threeHosts();
        udp.inject(a, TestFrames.frame(BCAST, A_MAC, 10, 46));
        udp.clear();
        udp.inject(b, TestFrames.frame(A_MAC, B_MAC, 10, 46));
        assertEquals(1, udp.sentTo(a));
        byte[] got = udp.sent.get(a).get(0);
        assertEquals((byte) 0x81, got[12]);
        assertEquals(10, got[15]);
        udp.clear();
        udp.inject(b, TestFrames.frame(A_MAC, B_MAC, 20, 46)); // A unknown on VLAN 20: flooded
        assertEquals(2, udp.sentTotal());
    }

    @Test
    void badFramesAreCountedDropsAndForwardingGoesOn() {
        threeHosts();
        ByteBuffer runt = ByteBuffer.allocateDirect(13);
        udp.inject(a, runt);
        ByteBuffer taggedRunt = TestFrames.frame(B_MAC, A_MAC, 5, 0).limit(16);
        udp.inject(a, taggedRunt);
        udp.inject(a, TestFrames.frame(B_MAC, A_MAC, -1, 1509)); // 1523 bytes > 1522
        udp.inject(a, TestFrames.frame(B_MAC, "03:00:00:00:00:01", -1, 46)); // group bit in source
        udp.inject(a, TestFrames.frame(B_MAC, BCAST, -1, 46));
        assertEquals(0, udp.sentTotal());
        SwitchStatistics st = sw.statistics();
        assertEquals(2, st.dropRunt());
        assertEquals(1, st.dropOversize());
        assertEquals(2, st.dropSourceMulticast());
        assertEquals(5, st.drops());
        assertEquals(5, sw.ports().get(0).counters().rxDrops());
        assertNull(fdb.lookup(Networks.RAW, 0, MacAddress.BROADCAST.toLong()));

        udp.inject(a, TestFrames.frame(B_MAC, A_MAC, -1, 1508)); // exactly 1522: fine
        assertEquals(1, udp.sentTo(b));
    }

    @Test
    void anInvalidFirstDatagramDoesNotCreateAPort() {
        udp.inject(a, ByteBuffer.allocateDirect(3));
        udp.inject(a, TestFrames.frame(BCAST, BCAST, -1, 46));
        assertTrue(sw.ports().isEmpty());
        assertEquals(0, fdb.learnCalls);
    }

    @Test
    void jumboFramesPassWhenConfigured() {
        sw = newSwitch(Fakes.config("learning", 9216, 300, 1024));
        threeHosts();
        udp.inject(a, TestFrames.frame(B_MAC, A_MAC, -1, 9000));
        assertEquals(1, udp.sentTo(b));
        udp.inject(a, TestFrames.frame(B_MAC, A_MAC, -1, 9203)); // 9217
        assertEquals(1, sw.statistics().dropOversize());
    }

    @Test
    void policyChangesAtRuntimeKeepTheTableAndThePorts() {
        threeHosts();
        sw.modified(Fakes.config("hub", 1522, 300, 1024));
        assertEquals("hub", sw.policy());
        udp.inject(b, TestFrames.frame(A_MAC, B_MAC, -1, 46));
        assertEquals(1, udp.sentTo(a));
        assertEquals(1, udp.sentTo(c)); // hub floods known unicast too
        udp.clear();
        sw.modified(Fakes.config("learning", 1522, 300, 1024));
        assertEquals(3, sw.ports().size());
        assertEquals(3, fdb.size());
        udp.inject(b, TestFrames.frame(A_MAC, B_MAC, -1, 46));
        assertEquals(1, udp.sentTo(a));
        assertEquals(0, udp.sentTo(c));
    }

    @Test
    void anUnknownPolicyIsRefusedWithTheAvailableOnes() {
        SwitchAdmin admin = new SwitchAdmin(sw, new FakeConfigAdmin().admin(), 1_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> admin.setPolicy("nope"));
        assertTrue(e.getMessage().contains("hub, learning"), e.getMessage());
        assertEquals("learning", sw.policy());
        sw.modified(Fakes.config("nope", 1522, 300, 1024));
        assertEquals("learning", sw.policy());
        assertTrue(sw.policyActive());
    }

    @Test
    void badConfigurationIsRejectedNamingTheProperty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> newSwitch(Fakes.config("learning", 10, 300, 1024)));
        assertTrue(e.getMessage().contains("max.frame.size=10"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> newSwitch(Fakes.config("learning", 1522, -1, 1024)));
        assertTrue(e.getMessage().contains("port.idle.timeout.seconds=-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> newSwitch(Fakes.config("Bad Policy!", 1522, 1, 1024)));
        assertTrue(e.getMessage().contains("policy="), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> newSwitch(Fakes.config("learning", 1522, 1, 0)));
        assertTrue(e.getMessage().contains("max.ports=0"), e.getMessage());
    }

    @Test
    void badModificationKeepsTheLastGoodConfiguration() {
        sw.modified(Fakes.config("hub", 9216, 60, 10));
        assertEquals("hub", sw.policy());
        sw.modified(Fakes.config("learning", 99999, 60, 10)); // invalid frame size: whole change refused
        assertEquals("hub", sw.policy());
        threeHosts();
        udp.inject(a, TestFrames.frame(B_MAC, A_MAC, -1, 9000)); // 9216 still in force
        assertEquals(0, sw.statistics().dropOversize());
    }

    @Test
    void withoutTheConfiguredPolicyFramesAreDroppedAndCounted() {
        SwitchCore s = new SwitchCore(fdb, Fakes.defaults(), clock::get, false);
        FakeTransport t = new FakeTransport("udp");
        s.attach(t);
        s.bindPolicy(new HubPolicy());
        assertFalse(s.policyActive());
        t.inject(a, TestFrames.frame(BCAST, A_MAC, -1, 46));
        t.inject(b, TestFrames.frame(BCAST, B_MAC, -1, 46));
        assertEquals(2, s.statistics().dropNoPolicy());
        assertEquals(0, t.sentTotal());
        LearningPolicy learning = new LearningPolicy();
        s.bindPolicy(learning);
        assertTrue(s.policyActive());
        t.inject(a, TestFrames.frame(BCAST, A_MAC, -1, 46));
        assertEquals(1, t.sentTo(b));
        s.unbindPolicy(learning);
        assertFalse(s.policyActive());
    }

    @Test
    void idlePortsAreRemovedAndTheirMacsFlushed() {
        sw = newSwitch(Fakes.config("learning", 1522, 30, 1024));
        threeHosts();
        clock.addAndGet(20 * SECOND);
        udp.inject(b, TestFrames.frame(BCAST, B_MAC, -1, 46)); // b stays alive
        clock.addAndGet(11 * SECOND);
        sw.expireIdlePorts();
        List<PortInfo> ports = sw.ports();
        assertEquals(1, ports.size());
        assertEquals("127.0.0.1:40002", ports.get(0).remote());
        assertNull(fdb.lookup(Networks.RAW, 0, MacAddress.valueOf(A_MAC).toLong()));
        assertEquals(1, fdb.size());
        // a comes back: a new port, learned again
        udp.inject(a, TestFrames.frame(BCAST, A_MAC, -1, 46));
        assertEquals(2, sw.ports().size());
        assertEquals(4, sw.ports().get(1).id().number());
    }

    @Test
    void idleTimeoutZeroNeverExpires() {
        sw = newSwitch(Fakes.config("learning", 1522, 0, 1024));
        threeHosts();
        clock.addAndGet(1_000_000 * SECOND);
        sw.expireIdlePorts();
        assertEquals(3, sw.ports().size());
    }

    @Test
    void newEndpointsBeyondMaxPortsAreDroppedAndCounted() {
        sw = newSwitch(Fakes.config("learning", 1522, 300, 2));
        threeHosts();
        assertEquals(2, sw.ports().size());
        assertEquals(1, sw.statistics().dropPortLimit());
        assertTrue(sw.removePort(sw.ports().get(0).id()));
        udp.inject(c, TestFrames.frame(BCAST, C_MAC, -1, 46));
        assertEquals(2, sw.ports().size());
    }

    @Test
    void aTransportThatGoesKeepsItsPortsDetachedAndItsSuccessorTakesThemOver() {
        FakeTransport other = new FakeTransport("udp2");
        sw.attach(other);
        threeHosts();
        other.inject(TestFrames.endpoint(50000), TestFrames.frame(BCAST, "02:00:00:00:00:0d", -1, 46));
        assertEquals(1, udp.sentTo(a)); // flooded across transports: one flood domain
        assertEquals(4, sw.ports().size());

        sw.unbindTransport(udp); // e.g. bundle:restart of the transport
        assertEquals(1, udp.stops);
        assertEquals(4, sw.ports().size(), "ports are kept");
        assertEquals("detached", sw.ports().get(0).mode());
        assertEquals(4, fdb.size(), "and so is the MAC table");
        other.inject(TestFrames.endpoint(50000), TestFrames.frame(A_MAC, "02:00:00:00:00:0d", -1, 46));
        assertEquals(1, sw.statistics().txErrors(), "a frame for a detached port is a transmit error");

        FakeTransport successor = new FakeTransport("udp"); // the restarted bundle's new service
        sw.attach(successor);
        assertEquals("raw", sw.ports().get(0).mode());
        successor.inject(b, TestFrames.frame(A_MAC, B_MAC, -1, 46));
        assertEquals(1, successor.sentTo(a), "known unicast goes out through the successor");
        assertEquals(4, sw.ports().size(), "no new port for a known endpoint");
        int oldSent = udp.sentTotal();
        long rx = sw.ports().get(1).counters().rxFrames();
        udp.receiver = sw.ingress();
        udp.inject(b, TestFrames.frame(A_MAC, B_MAC, -1, 46)); // a late frame of the old instance: ignored
        assertEquals(oldSent, udp.sentTotal(), "nothing sent through the old one");
        assertEquals(1, successor.sentTo(a));
        assertEquals(rx, sw.ports().get(1).counters().rxFrames(), "nor counted");
    }

    @Test
    void detachedPortsExpireLikeOthers() {
        sw = newSwitch(Fakes.config("learning", 1522, 30, 1024));
        threeHosts();
        sw.unbindTransport(udp);
        clock.addAndGet(31 * SECOND);
        sw.expireIdlePorts();
        assertTrue(sw.ports().isEmpty());
        assertEquals(0, fdb.size());
    }

    @Test
    void aTransportOfTheSameNameWithAHigherRankingTakesOverAndHandsBackWhenItGoes() {
        threeHosts();
        FakeTransport sameRank = new FakeTransport("udp");
        sw.attach(sameRank);
        assertEquals(0, udp.stops, "a tie keeps the one registered first");
        assertEquals(0, sameRank.starts);

        FakeTransport better = new FakeTransport("udp");
        sw.bindTransport(better, java.util.Map.of(org.osgi.framework.Constants.SERVICE_RANKING, 10,
                org.osgi.framework.Constants.SERVICE_ID, 1000L));
        assertEquals(1, udp.stops, "the outranked transport is stopped");
        assertEquals(1, better.starts);
        better.inject(b, TestFrames.frame(A_MAC, B_MAC, -1, 46));
        assertEquals(1, better.sentTo(a), "the ports (and MAC table) are served by the better one");
        assertEquals(3, sw.ports().size());

        sw.unbindTransport(better);
        assertEquals(2, udp.starts, "the next best (the first, by registration order) serves again");
        udp.inject(b, TestFrames.frame(A_MAC, B_MAC, -1, 46));
        assertEquals(1, udp.sentTo(a));
        sw.unbindTransport(sameRank); // an idle candidate going changes nothing
        assertEquals(2, udp.starts);
    }

    @Test
    void stormControlCapsFloodsPerPortButNotKnownUnicast() {
        sw = newSwitch(Fakes.config("learning", 1522, 300, 1024, 100)); // 100 floods/s, bursts of 100
        threeHosts(); // 3 broadcasts, one per port: well within budget
        for (int i = 0; i < 150; i++) {
            udp.inject(a, TestFrames.frame(BCAST, A_MAC, -1, 46));
        }
        assertEquals(99, udp.sentTo(b), "the burst left after a's first broadcast, then nothing");
        assertEquals(51, sw.statistics().dropStorm());
        for (int i = 0; i < 50; i++) {
            udp.inject(a, TestFrames.frame(B_MAC, A_MAC, -1, 46)); // known unicast is never charged
        }
        assertEquals(149, udp.sentTo(b));
        clock.addAndGet(SECOND / 10); // 0.1 s refills 10 floods
        for (int i = 0; i < 20; i++) {
            udp.inject(a, TestFrames.frame("02:00:00:00:99:99", A_MAC, -1, 46)); // unknown unicast is
        }
        assertEquals(159, udp.sentTo(b));
        assertEquals(61, sw.statistics().dropStorm());
        udp.inject(c, TestFrames.frame(BCAST, C_MAC, -1, 46));
        assertEquals(160, udp.sentTo(b), "another port's budget is its own");
        assertEquals(61, sw.ports().get(0).counters().rxDrops(), "counted on the storming port");
    }

    @Test
    void failedSendsAreCountedAsTransmitErrors() {
        threeHosts();
        udp.failSends = true;
        udp.inject(a, TestFrames.frame(BCAST, A_MAC, -1, 46));
        assertEquals(2, sw.statistics().txErrors());
        assertEquals(1, sw.ports().get(1).counters().txDrops());
        assertEquals(2L, sw.transportErrors().get(udp.name()), "by transport too");
    }

    @Test
    void receiveDropsAreReadFromTheTransportsAttachedNow() {
        udp.receiveDrops.put("bad_flags", 3L);
        FakeTransport tcp = new FakeTransport("tcp");
        sw.attach(tcp);
        assertEquals(java.util.Map.of("udp", java.util.Map.of("bad_flags", 3L), "tcp", java.util.Map.of()),
                sw.transportReceiveDrops());
        sw.unbindTransport(udp);
        assertEquals(java.util.Map.of("tcp", java.util.Map.of()), sw.transportReceiveDrops(),
                "a transport that went took its counters with it");
    }

    @Test
    void framesABatchedTransportAcceptedButCouldNotSendCountAsErrorsNotAsSent() {
        threeHosts();
        SwitchStatistics before = sw.statistics();
        udp.batched = true;
        udp.inject(a, TestFrames.frame(BCAST, A_MAC, -1, 46)); // accepted for b and c: queued
        assertEquals(2, udp.queued());
        assertEquals(2, udp.flush(2), "the kernel refuses both when the batch goes out");
        SwitchStatistics after = sw.statistics();
        assertEquals(before.txFrames(), after.txFrames(), "nothing was sent");
        assertEquals(before.txErrors() + 2, after.txErrors());
        assertEquals(after.txErrors(), sw.transportErrors().get(udp.name()), "the batch's errors by transport too");
        assertEquals(before.flooded() + 1, after.flooded());
        udp.inject(a, TestFrames.frame(BCAST, A_MAC, -1, 46));
        assertEquals(0, udp.flush(0));
        assertEquals(2, udp.sentTotal());
        assertEquals(before.txFrames() + 2, sw.statistics().txFrames(), "sent + errors = frames handed over");
    }

    @Test
    void aPortsTxCountsOnlyWhatTheBatchReallySentAndItsDropsWhatWasRefused() {
        threeHosts();
        PortInfo pb = portAt(b);
        PortInfo pc = portAt(c);
        SwitchStatistics before = sw.statistics();
        udp.batched = true;
        udp.inject(a, TestFrames.frame(BCAST, A_MAC, -1, 46));   // to b, then c
        udp.inject(a, TestFrames.frame(B_MAC, A_MAC, -1, 100));  // to b
        udp.inject(a, TestFrames.frame(C_MAC, A_MAC, -1, 200));  // to c
        assertEquals(4, udp.queued());
        assertEquals(2, udp.flush(2), "the two unicasts (to b, to c) are refused at the flush");
        int flood = TestFrames.frame(BCAST, A_MAC, -1, 46).remaining();
        PortCounters b1 = counters(pb.id());
        PortCounters c1 = counters(pc.id());
        assertEquals(pb.counters().txFrames() + 1, b1.txFrames(), "b got the flood only");
        assertEquals(pb.counters().txBytes() + flood, b1.txBytes());
        assertEquals(pb.counters().txDrops() + 1, b1.txDrops(), "its unicast was refused: a drop, not sent");
        assertEquals(pc.counters().txFrames() + 1, c1.txFrames());
        assertEquals(pc.counters().txBytes() + flood, c1.txBytes());
        assertEquals(pc.counters().txDrops() + 1, c1.txDrops());
        SwitchStatistics after = sw.statistics();
        assertEquals(before.txFrames() + 2, after.txFrames());
        assertEquals(before.txBytes() + 2L * flood, after.txBytes(), "the refused frames' bytes are not TX either");
        assertEquals(before.txErrors() + 2, after.txErrors());
    }

    private PortInfo portAt(SocketAddress remote) {
        return sw.ports().stream().filter(p -> p.remote().equals(Endpoints.format(remote))).findFirst().orElseThrow();
    }

    private PortCounters counters(PortId id) {
        return sw.port(id).orElseThrow().counters();
    }

    @Test
    void operatorCanRemoveAPort() {
        threeHosts();
        PortId first = sw.ports().get(0).id();
        assertTrue(sw.removePort(first));
        assertFalse(sw.removePort(first));
        assertTrue(sw.port(first).isEmpty());
        assertNull(fdb.lookup(Networks.RAW, 0, MacAddress.valueOf(A_MAC).toLong()));
    }

    @Test
    void countersAddUp() {
        threeHosts();
        udp.inject(a, TestFrames.frame(B_MAC, A_MAC, -1, 86)); // 100 bytes
        SwitchStatistics st = sw.statistics();
        assertEquals(4, st.rxFrames());
        assertEquals(3 * 60 + 100, st.rxBytes());
        assertEquals(1, st.unicast());
        assertEquals(3, st.flooded());
        assertEquals(0 + 1 + 2 + 1, st.txFrames()); // floods reach 0, 1 and 2 other ports, then the unicast
        assertEquals(3 * 60 + 100, st.txBytes());
        PortInfo pa = sw.ports().get(0);
        assertEquals(2, pa.counters().rxFrames());
        assertEquals(160, pa.counters().rxBytes());
    }
}
