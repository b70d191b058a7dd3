package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.vl2.api.test.TestFrames;
import org.vl2.crypto.CipherSuite;
import org.vl2.crypto.Session;
import org.vl2.protocol.Join;
import org.vl2.protocol.Pair;
import org.vl2.protocol.Wire;

/**
 * Pair keys on the switch (docs/protocol.md, "Pair keys"): a known unicast flow between two pair-capable encrypted
 * members is keyed (RECEIVE to the receiver, then SEND to the sender), its frames are forwarded unchanged, and the
 * pair ends when a station moves, a member goes, the settings change, an end says it does not hold it, or it is
 * renewed.
 */
class PairsTest extends PairsFixture {

    @Test
    void aUnicastFlowIsKeyedAndItsFramesForwardedUnopened() throws Exception {
        start(true, false);
        Member[] m = keyedFlow(Join.CAP_PAIRS, Join.CAP_PAIRS);
        Member a = m[0];
        Member b = m[1];
        List<byte[]> toB = b.received();
        assertEquals(Wire.FRAME, toB.get(0)[2], "the frame itself goes first, through B's session");
        Pair receive = b.pairs(toB).get(0);
        assertEquals(Pair.RECEIVE, receive.role());
        assertEquals(Pair.UNTAGGED, receive.vlan());
        assertEquals(a.mac, receive.source());
        assertEquals(b.mac, receive.destination());
        assertEquals(a.session.cipher().wireId(), receive.suite());
        assertTrue(receive.lifetimeSeconds() > 100 && receive.lifetimeSeconds() <= 120, receive.toString());
        assertTrue(a.pairs(a.received()).isEmpty(), "nothing to the sender before the receiver holds the pair");

        b.ack(receive, Pair.TAKEN);
        Pair send = a.pair();
        assertEquals(Pair.SEND, send.role());
        assertEquals(receive.index(), send.index());
        assertArrayEquals(receive.key(), send.key());
        assertEquals(receive.index() & 0xff, a.session.remoteIndex() & 0xff,
                "the pair's datagrams reach the receive thread of the sender's session");
        a.ack(send, Pair.TAKEN);
        assertEquals(1, stats().pairsMade());
        List<org.vl2.api.PairInfo> listed = sw.pairs();
        assertEquals(1, listed.size(), "vl2:pairs lists it: " + listed);
        org.vl2.api.PairInfo info = listed.get(0);
        assertEquals("active", info.state());
        assertEquals(-1, info.vlan(), "untagged");
        assertEquals(org.vl2.api.MacAddress.of(a.mac), info.source());
        assertEquals(send.index(), info.index());
        assertNotEquals(info.sender(), info.receiver());

        CipherSuite suite = CipherSuite.ofWireId(send.suite());
        Session sealer = Session.pair(suite, send.index(), send.key(), Duration.ofSeconds(120), System.nanoTime());
        Session opener = Session.pair(suite, receive.index(), receive.key(), Duration.ofSeconds(120),
                System.nanoTime());
        byte[] frame = frame(b.mac, a.mac, 7);
        byte[] datagram = seal(sealer, send.index(), Wire.FRAME, frame);
        long txBefore = stats().txFrames();
        vl2.inject(a.address, ByteBuffer.wrap(datagram.clone()));
        List<byte[]> forwarded = b.received();
        assertEquals(1, forwarded.size());
        assertArrayEquals(datagram, forwarded.get(0), "forwarded as it came: not opened, not sealed again");
        ByteBuffer open = ByteBuffer.wrap(forwarded.get(0).clone());
        int n = opener.open(open, 0, 16, datagram.length - 16, System.nanoTime());
        assertArrayEquals(frame, java.util.Arrays.copyOfRange(open.array(), 16, 16 + n));
        assertEquals(1, stats().pairFrames());
        assertEquals(txBefore + 1, stats().txFrames());

        // the pair's index from anywhere but A's endpoint goes nowhere
        vl2.inject(TestFrames.endpoint(6001), ByteBuffer.wrap(seal(sealer, send.index(), Wire.FRAME, frame)));
        assertTrue(b.received().isEmpty());
        assertEquals(1, stats().pairDrops());
        // nor does anything but a FRAME, even from A
        vl2.inject(a.address, ByteBuffer.wrap(seal(sealer, send.index(), Wire.KEEPALIVE, new byte[8])));
        assertTrue(b.received().isEmpty());
        assertEquals(2, stats().pairDrops());
    }

    @Test
    void aStationThatMovesEndsItsPairsAtBothEnds() throws Exception {
        start(true, false);
        Keyed k = activePair();
        Member a = k.a();
        Member b = k.b();
        Pair send = k.send();

        Member c = new Member(5003, 0x02000000000cL).join(Join.CAP_PAIRS);
        vl2.inject(c.address, ByteBuffer.wrap(c.seal(Wire.FRAME, frame(a.mac, b.mac, 2)))); // B's station behind C
        Pair revokedAtB = b.pair();
        Pair revokedAtA = a.pairs(a.received()).stream().filter(p -> p.role() == Pair.REVOKE).findFirst()
                .orElseThrow();
        assertEquals(Pair.REVOKE, revokedAtB.role());
        assertEquals(send.index(), revokedAtA.index());
        assertEquals(send.index(), revokedAtB.index());
        assertEquals(1, stats().pairsEnded());

        vl2.inject(a.address, k.frame(3));
        assertTrue(b.received().isEmpty(), "an ended pair's frames are dropped");
        assertTrue(c.received().isEmpty());
        assertEquals(1, stats().pairDrops());
        assertEquals(0, stats().badSession(), "not an unknown session: the agent is not sent to join again");

        // both acknowledge: the index goes, and the next frame of the flow keys it again (now towards C)
        a.ack(revokedAtA, Pair.TAKEN);
        b.ack(revokedAtB, Pair.TAKEN);
        a.send(b.mac);
        Pair again = c.pair();
        assertEquals(Pair.RECEIVE, again.role());
        assertNotEquals(send.index(), again.index());
    }

    @Test
    void aPairsFramesNeverMoveItsSourceStationBack() throws Exception {
        start(true, false);
        Keyed k = activePair();
        Member a = k.a();
        Member b = k.b();
        vl2.inject(a.address, k.frame(1));
        assertEquals(1, b.received().size());
        org.vl2.api.PortId aPort = fdb.lookup(NET, 0, a.mac);
        assertNotNull(aPort, "a pair's frame keeps its source station known");

        // the station is behind another port now, and this pair's frame raced the frame that showed it
        org.vl2.api.PortId elsewhere = org.vl2.api.PortId.of(aPort.number() + 100);
        fdb.addStatic(NET, 0, org.vl2.api.MacAddress.of(a.mac), elsewhere);
        clock.addAndGet(SECOND); // the station is looked at once a second, not per frame
        vl2.inject(a.address, k.frame(2));
        assertTrue(b.received().isEmpty(), "not forwarded");
        assertEquals(elsewhere, fdb.lookup(NET, 0, a.mac), "and the station stays where it is");
        assertEquals(1, stats().pairDrops());
    }

    @Test
    void aMemberThatGoesEndsThePairsOfTheOthers() throws Exception {
        start(true, false);
        Keyed k = activePair();
        vl2.inject(k.b().address, ByteBuffer.wrap(k.b().seal(Wire.LEAVE, new byte[0])));
        Pair revoke = k.a().pair();
        assertEquals(Pair.REVOKE, revoke.role());
        assertEquals(k.send().index(), revoke.index());
    }

    @Test
    void noPairWithoutTheSettingTheCapabilityOrWithIpGuard() throws Exception {
        start(false, false);
        Member[] m = keyedFlow(Join.CAP_PAIRS, Join.CAP_PAIRS);
        assertTrue(m[1].pairs(m[1].received()).isEmpty(), "pairs = false");
        sw.deactivate();

        start(true, false);
        m = keyedFlow(Join.CAP_PAIRS, 0);
        assertTrue(m[1].pairs(m[1].received()).isEmpty(), "the receiver's agent does not take pair keys");
        sw.deactivate();

        start(true, true);
        m = keyedFlow(Join.CAP_PAIRS, Join.CAP_PAIRS);
        assertTrue(m[1].pairs(m[1].received()).isEmpty(), "ip.guard checks every frame's source");
        assertEquals(0, stats().pairsMade());
    }

    @Test
    void turningPairsOffEndsThePairsInUse() throws Exception {
        start(true, false);
        Keyed k = activePair();
        Member a = k.a();
        Member b = k.b();
        sw.modified(Fakes.pairs(false));
        assertEquals(Pair.REVOKE, a.pair().role());
        assertEquals(Pair.REVOKE, b.pair().role());
        a.send(b.mac);
        assertTrue(b.pairs(b.received()).isEmpty(), "no new offer while pairs are off");
    }

    @Test
    void aRefusedPairIsNotOfferedAgainForAWhile() throws Exception {
        start(true, false);
        Member[] m = keyedFlow(Join.CAP_PAIRS, Join.CAP_PAIRS);
        Member a = m[0];
        Member b = m[1];
        Pair receive = b.pair();
        b.ack(receive, Pair.REFUSED);
        assertTrue(a.pairs(a.received()).isEmpty(), "the sender is not offered what the receiver refused");
        a.send(b.mac);
        assertTrue(b.pairs(b.received()).isEmpty(), "refused: the flow is not keyed again at its next frame");
        assertEquals(1, stats().pairsEnded());

        clock.addAndGet(61 * SECOND);
        sw.tickPairs();
        a.send(b.mac);
        Pair again = b.pair();
        assertEquals(Pair.RECEIVE, again.role());
        assertNotEquals(receive.index(), again.index());
    }

    @Test
    void anUnansweredOfferIsSentAgainThenGivenUp() throws Exception {
        start(true, false);
        Member[] m = keyedFlow(Join.CAP_PAIRS, Join.CAP_PAIRS);
        Member b = m[1];
        Pair first = b.pair();
        sw.tickPairs();
        assertTrue(b.received().isEmpty(), "not before a second");
        int resent = 0;
        for (int i = 0; i < 40; i++) {
            clock.addAndGet(SECOND);
            sw.tickPairs();
            for (Pair p : b.pairs(b.received())) {
                if (p.role() == Pair.RECEIVE) {
                    assertEquals(first.index(), p.index());
                    resent++;
                }
            }
        }
        assertEquals(MAX_TRIES - 1, resent, "sent " + MAX_TRIES + " times in all");
        assertEquals(1, stats().pairsEnded());
    }

    /** Pairs.MAX_TRIES. */
    private static final int MAX_TRIES = 4;

    @Test
    void aPairIsRenewedBeforeItsLifetimeEndsWithoutAGap() throws Exception {
        start(true, false);
        Keyed k = activePair();
        Member a = k.a();
        Member b = k.b();
        Pair receive = k.receive();
        Pair send = k.send();

        clock.addAndGet(111 * SECOND);
        sw.tickPairs();
        Pair renewal = b.pair();
        assertEquals(Pair.RECEIVE, renewal.role());
        assertNotEquals(receive.index(), renewal.index());
        // the old pair still carries the flow meanwhile
        vl2.inject(a.address, k.frame(4));
        assertEquals(1, b.received().size());
        b.ack(renewal, Pair.TAKEN);
        Pair newSend = a.pair();
        assertEquals(renewal.index(), newSend.index());
        a.ack(newSend, Pair.TAKEN);
        assertEquals(2, stats().pairsMade());
        // what A sealed under the old pair just before it took the new one still arrives
        assertTrue(a.pairs(a.received()).isEmpty(), "the old one is not revoked while frames may be on their way");
        vl2.inject(a.address, k.frame(5));
        assertEquals(1, b.received().size());
        sw.tickPairs();
        assertTrue(b.pairs(b.received()).isEmpty(), "nor renewed twice");
        // the old one ends at both ends at its lifetime
        clock.addAndGet(9 * SECOND);
        sw.tickPairs();
        Pair oldAtA = a.pair();
        Pair oldAtB = b.pair();
        assertEquals(Pair.REVOKE, oldAtA.role());
        assertEquals(send.index(), oldAtA.index());
        assertEquals(send.index(), oldAtB.index());
        assertEquals(1, stats().pairsEnded());
        vl2.inject(a.address, k.frame(6));
        assertTrue(b.received().isEmpty(), "past its lifetime the old pair carries nothing");
        assertEquals(2, sw.pairs().size(), "the new one in use, the old one ending: " + sw.pairs());
    }

    @Test
    void aSenderThatDoesNotUseItsPairLosesIt() throws Exception {
        start(true, false);
        Keyed k = activePair();
        Member a = k.a();
        Member b = k.b();
        Pair receive = k.receive();
        for (int i = 0; i < 4096; i++) {
            a.send(b.mac); // sealed before it took the pair, say
        }
        assertTrue(a.pairs(a.received()).isEmpty(), "a send queue's worth is no sign");
        a.send(b.mac); // more than any queue: A's agent joined again and forgot the pair
        Pair revoke = a.pair();
        assertEquals(Pair.REVOKE, revoke.role());
        assertEquals(receive.index(), revoke.index());
    }

    @Test
    void aReceiverThatDoesNotHoldThePairEndsIt() throws Exception {
        start(true, false);
        Keyed k = activePair();
        Member a = k.a();
        Member b = k.b();
        Pair receive = k.receive();
        // B's agent restarted without a new port: a pair frame it could not open makes it say so
        b.ack(Pair.revoke(NET, receive.index(), receive.vlan(), receive.source(), receive.destination()),
                Pair.REFUSED);
        Pair revoke = a.pair();
        assertEquals(Pair.REVOKE, revoke.role());
        assertEquals(receive.index(), revoke.index());
        assertEquals(1, stats().pairsEnded());
    }
}
