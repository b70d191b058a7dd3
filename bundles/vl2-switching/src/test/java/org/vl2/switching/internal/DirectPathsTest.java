package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;
import org.vl2.api.PairInfo;
import org.vl2.api.PortId;
import org.vl2.api.test.FakeTransport;
import org.vl2.protocol.Join;
import org.vl2.protocol.Pair;
import org.vl2.protocol.Wire;

/**
 * Direct paths on the switch (docs/protocol.md, "Direct paths"): a PAIR SEND carries the receiver's UDP endpoint
 * between members that both take direct paths; the sender's PAIR-ACK DIRECT and RELAYED mark the pair (and DIRECT keeps
 * its station known); a receiver that moves, or the setting turned off, ends exactly the pairs that carried one.
 */
class DirectPathsTest extends PairsFixture {

    private static final int DIRECT = Join.CAP_PAIRS | Join.CAP_DIRECT;

    /** The state vl2:pairs shows for pair {@code index}. */
    private String state(int index) {
        return sw.pairs().stream().filter(p -> p.index() == index).map(PairInfo::state).findFirst().orElse("gone");
    }

    /** The REVOKEs among what {@code m} got since the last look, by index. */
    private static List<Integer> revokes(Member m) throws Exception {
        return m.pairs(m.received()).stream().filter(p -> p.role() == Pair.REVOKE).map(Pair::index).toList();
    }

    @Test
    void aSendCarriesTheReceiversEndpointOnlyWhenBothTakeDirectPaths() throws Exception {
        start(Fakes.direct(true), false);
        Member a = new Member(5001, 0x02000000000aL).join(DIRECT);
        Member b = new Member(5002, 0x02000000000bL).join(DIRECT);
        keyedFlow(a, b);
        Pair receive = b.pair();
        assertNull(receive.peer(), "a RECEIVE never carries one");
        b.ack(receive, Pair.TAKEN);
        List<byte[]> toA = a.received();
        assertEquals(16 + Pair.PEER_LENGTH + 16, toA.get(0).length, "a PAIR SEND with the endpoint, sealed whole");
        Pair send = a.pairs(toA).get(0);
        assertEquals(Pair.SEND, send.role());
        assertEquals(b.address, send.peer(), "the receiver's endpoint, as the switch sees it");
        clock.addAndGet(SECOND);
        sw.tickPairs();
        assertEquals(b.address, a.pair().peer(), "its resend carries the same");

        // one end without the capability: no endpoint (the flows are keyed the other way round from here)
        Member c = new Member(5003, 0x02000000000cL).join(Join.CAP_PAIRS);
        Member d = new Member(5004, 0x02000000000dL).join(DIRECT);
        keyedFlow(c, b); // C does not take direct paths, B does
        Pair toB = b.pair();
        b.ack(toB, Pair.TAKEN);
        Pair sendC = c.pair();
        assertEquals(Pair.SEND, sendC.role());
        assertNull(sendC.peer(), "a sender that does not take direct paths gets no endpoint");
        keyedFlow(d, c); // D does, C does not
        Pair toC = c.pair();
        c.ack(toC, Pair.TAKEN);
        Pair sendD = d.pair();
        assertEquals(Pair.SEND, sendD.role());
        assertNull(sendD.peer(), "nor the sender of a receiver that does not");
        assertEquals(16 + Pair.LENGTH + 16, d.transport.sent.get(d.address).get(d.seen - 1).length);
    }

    @Test
    void noEndpointForAReceiverOverTcp() throws Exception {
        start(Fakes.direct(true), false);
        FakeTransport tcp = new FakeTransport("tcp", "vl2");
        sw.attach(tcp);
        Member a = new Member(5001, 0x02000000000aL).join(DIRECT);
        Member overTcp = new Member(5002, 0x02000000000bL, tcp).join(DIRECT);
        Member overUdp = new Member(5003, 0x02000000000cL).join(DIRECT);
        Keyed k = active(keyedFlow(a, overTcp));
        assertNull(k.send().peer(), "a member on the TCP transport has no endpoint another agent could reach");
        Keyed udp = active(keyedFlow(a, overUdp));
        assertEquals(overUdp.address, udp.send().peer(), "the same sender gets one for a receiver over UDP");
    }

    @Test
    void directMarksThePairAndKeepsTheSendersStationRelayedClearsIt() throws Exception {
        start(Fakes.direct(true), false);
        Keyed k = activePair(DIRECT, DIRECT);
        Member a = k.a();
        int index = k.send().index();
        assertEquals("active", state(index));
        PortId aPort = fdb.lookup(NET, 0, a.mac);
        assertNotNull(aPort);

        fdb.remove(NET, 0, MacAddress.of(a.mac)); // aged out: A's frames go straight to B, the switch sees none
        a.ack(index, Pair.SEND, Pair.DIRECT);
        assertEquals("direct", state(index));
        assertEquals(aPort, fdb.lookup(NET, 0, a.mac), "DIRECT keeps the sender's station known on its port");
        a.ack(index, Pair.SEND, Pair.DIRECT); // repeated while it sends direct
        assertEquals("direct", state(index));
        assertEquals(aPort, fdb.lookup(NET, 0, a.mac));

        // the station is behind another port now: DIRECT never moves it back
        PortId elsewhere = PortId.of(aPort.number() + 100);
        fdb.learn(NET, 0, a.mac, elsewhere);
        a.ack(index, Pair.SEND, Pair.DIRECT);
        assertEquals(elsewhere, fdb.lookup(NET, 0, a.mac));

        a.ack(index, Pair.SEND, Pair.RELAYED);
        assertEquals("active", state(index), "through the switch again");
        assertEquals(0, stats().pairsEnded(), "neither status ends the pair");
        assertEquals(1, stats().pairsMade());
    }

    @Test
    void aSendersDirectReportKeepsItsPortAlive() throws Exception {
        start(Fakes.direct(true), false);
        Keyed k = activePair(DIRECT, DIRECT);
        Member a = k.a();
        PortId aPort = fdb.lookup(NET, 0, a.mac);
        clock.addAndGet(20_000_000_000L); // its frames go straight to B: the switch hears only its reports
        assertTrue(silentSeconds(aPort) >= 19, "20 s without a word from A");
        a.ack(k.send().index(), Pair.SEND, Pair.DIRECT);
        assertTrue(silentSeconds(aPort) < 5, "the PAIR-ACK counts as the member heard: " + silentSeconds(aPort));
    }

    /** How long ago the switch last heard port {@code id}, as vl2:ports shows it. */
    private long silentSeconds(PortId id) {
        java.time.Instant seen = sw.ports().stream().filter(p -> p.id().equals(id)).findFirst().orElseThrow()
                .lastSeen();
        return java.time.Duration.between(seen, java.time.Instant.now()).toSeconds();
    }

    @Test
    void onlyThePairsSenderSpeaksForItsPath() throws Exception {
        start(Fakes.direct(true), false);
        Keyed k = activePair(DIRECT, DIRECT);
        Member a = k.a();
        Member b = k.b();
        Member c = new Member(5003, 0x02000000000cL).join(DIRECT);
        int index = k.send().index();
        fdb.remove(NET, 0, MacAddress.of(a.mac));

        b.ack(index, Pair.SEND, Pair.DIRECT); // the receiver, as if it sent on it
        b.ack(index, Pair.RECEIVE, Pair.DIRECT); // a status no receiver gives
        c.ack(index, Pair.SEND, Pair.DIRECT); // a member the pair is nothing to
        assertEquals("active", state(index));
        assertNull(fdb.lookup(NET, 0, a.mac), "nor does any of them touch the sender's station");
        assertEquals(0, stats().pairsEnded(), "a receiver's DIRECT is no refusal either");

        a.ack(index, Pair.SEND, Pair.DIRECT);
        assertEquals("direct", state(index));
        b.ack(index, Pair.SEND, Pair.RELAYED);
        c.ack(index, Pair.SEND, Pair.RELAYED);
        assertEquals("direct", state(index), "nor can anyone but the sender clear it");
    }

    @Test
    void directWhileOfferedToTheSenderTakesThePair() throws Exception {
        start(Fakes.direct(true), false);
        // without an endpoint in its SEND a DIRECT means nothing: the pair stays offered
        Member[] plain = keyedFlow(Join.CAP_PAIRS, Join.CAP_PAIRS);
        Pair receive = plain[1].pair();
        plain[1].ack(receive, Pair.TAKEN);
        Pair send = plain[0].pair();
        assertNull(send.peer());
        plain[0].ack(send, Pair.DIRECT);
        assertEquals("offered", state(send.index()));

        Member a = new Member(5003, 0x02000000000cL).join(DIRECT);
        Member b = new Member(5004, 0x02000000000dL).join(DIRECT);
        keyedFlow(a, b);
        Pair r = b.pair();
        b.ack(r, Pair.TAKEN);
        Pair s = a.pair();
        assertEquals(b.address, s.peer());
        a.ack(s, Pair.DIRECT); // its TAKEN was lost, or it went direct at once
        assertEquals("direct", state(s.index()));
        assertEquals(1, stats().pairsMade(), "taken, as a TAKEN would have");
        clock.addAndGet(2 * SECOND);
        sw.tickPairs();
        assertTrue(a.pairs(a.received()).isEmpty(), "not offered again");
    }

    @Test
    void probesNeverGoThroughTheSwitch() throws Exception {
        start(Fakes.direct(true), false);
        Keyed k = activePair(DIRECT, DIRECT);
        Member a = k.a();
        Member b = k.b();
        long malformed = stats().malformed();
        // a PROBE under the pair's index, from its sender, as it would send it to B's endpoint
        vl2.inject(a.address, ByteBuffer.wrap(seal(k.sealer(), k.send().index(), Wire.PROBE, new byte[8])));
        assertTrue(b.received().isEmpty(), "agent to agent only: the switch is no relay for probes");
        assertEquals(malformed + 1, stats().malformed());
        vl2.inject(a.address, k.frame(1));
        assertEquals(1, b.received().size(), "while the pair's frames that reach it go on");
    }

    @Test
    void aReceiverThatMovesEndsExactlyThePairsThatCarriedItsEndpoint() throws Exception {
        start(Fakes.direct(true), false);
        Member a = new Member(5001, 0x02000000000aL).join(DIRECT);
        Member b = new Member(5002, 0x02000000000bL).join(DIRECT);
        Member c = new Member(5003, 0x02000000000cL).join(Join.CAP_PAIRS);
        Keyed ab = active(keyedFlow(a, b));
        assertEquals(b.address, ab.send().peer());
        Keyed cb = active(keyedFlow(c, b));
        assertNull(cb.send().peer());
        Keyed ba = active(keyedFlow(b, a)); // B sends on this one: its move changes nothing for A's endpoint
        assertEquals(a.address, ba.send().peer());

        b.moveTo(6002); // a NAT rebinding
        assertEquals(List.of(ab.send().index()), revokes(a), "the pair whose SEND named B's old endpoint ends");
        assertEquals(List.of(ab.send().index()), revokes(b), "at both ends (B hears it at its new endpoint)");
        assertTrue(revokes(c).isEmpty(), "a pair without an endpoint is unaffected");
        assertEquals("active", state(cb.send().index()));
        assertEquals("active", state(ba.send().index()));
        assertEquals(1, stats().pairsEnded());

        // once both ends let it go, the flow is keyed again, with B's new endpoint
        a.ack(ab.send().index(), Pair.REVOKE, Pair.TAKEN);
        b.ack(ab.send().index(), Pair.REVOKE, Pair.TAKEN);
        a.send(b.mac);
        Keyed again = active(new Member[] {a, b});
        assertNotEquals(ab.send().index(), again.send().index());
        assertEquals(b.address, again.send().peer());
    }

    @Test
    void turningDirectPathsOffEndsThePairsThatCarriedAnEndpoint() throws Exception {
        start(Fakes.direct(true), false);
        Member a = new Member(5001, 0x02000000000aL).join(DIRECT);
        Member b = new Member(5002, 0x02000000000bL).join(DIRECT);
        Member c = new Member(5003, 0x02000000000cL).join(Join.CAP_PAIRS);
        Keyed ab = active(keyedFlow(a, b));
        assertEquals(b.address, ab.send().peer());
        Keyed cb = active(keyedFlow(c, b));

        sw.modified(Fakes.direct(false));
        assertEquals(List.of(ab.send().index()), revokes(a));
        assertEquals(List.of(ab.send().index()), revokes(b));
        assertTrue(revokes(c).isEmpty(), "a pair without an endpoint goes on");
        assertEquals("active", state(cb.send().index()));

        a.ack(ab.send().index(), Pair.REVOKE, Pair.TAKEN);
        b.ack(ab.send().index(), Pair.REVOKE, Pair.TAKEN);
        a.send(b.mac);
        Keyed again = active(new Member[] {a, b});
        assertNull(again.send().peer(), "the flow is keyed again, without an endpoint while the setting is off");
    }
}
