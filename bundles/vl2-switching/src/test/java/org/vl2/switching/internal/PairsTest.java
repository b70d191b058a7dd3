package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.SwitchStatistics;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.crypto.CipherSuite;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Initiator;
import org.vl2.crypto.Session;
import org.vl2.ipam.Ipv4Pool;
import org.vl2.protocol.Join;
import org.vl2.protocol.Pair;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.vl2.HandshakeWorker;

/**
 * Pair keys on the switch (docs/protocol.md, "Pair keys"): a known unicast flow between two pair-capable encrypted
 * members is keyed (RECEIVE to the receiver, then SEND to the sender), its frames are forwarded unchanged, and the
 * pair ends when a station moves, a member goes, the settings change, an end says it does not hold it, or it is
 * renewed.
 */
class PairsTest {

    private static final long NET = 0x2bL;
    private static final long SECOND = 1_000_000_000L;

    @TempDir
    Path stateDir;

    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final Identity switchIdentity = Identity.generate();
    private FakeTransport vl2;
    private FakeMacTable fdb;
    private SwitchCore sw;

    private void start(boolean pairs, boolean ipGuard) {
        vl2 = new FakeTransport("vl2", "vl2");
        fdb = new FakeMacTable();
        sw = new SwitchCore(fdb, Fakes.pairs(pairs), clock::get, false, stateDir, switchIdentity,
                new HandshakeWorker(HandshakeWorker.Mode.INLINE));
        sw.bindPolicy(new LearningPolicy());
        sw.attach(vl2);
        Ipv4Pool pool = Ipv4Pool.parse("10.1.0.0/24", null);
        sw.bindNetwork(new NetworkDefinition(new NetworkSettings(NET, "lab", 1400, null, pool, null, false,
                Duration.ofHours(1), null, List.of(), false, java.util.Set.of(),
                new HygieneSettings(HygieneSettings.DEFAULTS.dhcpRate(), ipGuard), false)));
    }

    @AfterEach
    void stopSwitch() {
        if (sw != null) {
            sw.deactivate();
        }
    }

    /** An encrypted member: its own identity, address and station. */
    private final class Member {
        final Identity identity = Identity.generate();
        final SocketAddress address;
        final long mac;
        Session session;
        int seen;

        Member(int port, long mac) {
            this.address = TestFrames.endpoint(port);
            this.mac = mac;
        }

        Member join(int capabilities) throws Exception {
            ByteBuffer join = ByteBuffer.allocate(64);
            new Join(NET, identity.memberId(), 99, 1518, capabilities, null, "m").encode(join);
            Initiator i = Initiator.create(identity, switchIdentity.publicKey(), 0x1000 + address.hashCode() % 1000,
                    join.array(), null);
            vl2.inject(address, ByteBuffer.wrap(i.initiation()));
            session = i.consume(ByteBuffer.wrap(vl2.last(address))).session();
            vl2.inject(address, ByteBuffer.wrap(seal(Wire.KEEPALIVE, new byte[8]))); // confirms the session
            seen = vl2.sentTo(address);
            return this;
        }

        byte[] seal(int type, byte[] body) throws Exception {
            return PairsTest.seal(session, session.remoteIndex(), type, body);
        }

        /** A frame from this member's station to {@code dst}, through its session. */
        void send(long dst) throws Exception {
            vl2.inject(address, ByteBuffer.wrap(seal(Wire.FRAME, frame(dst, mac, 1))));
        }

        /** What the switch sent this member since the last call, in order. */
        List<byte[]> received() {
            List<byte[]> all = vl2.sent.getOrDefault(address, List.of());
            List<byte[]> news = new ArrayList<>(all.subList(seen, all.size()));
            seen = all.size();
            return news;
        }

        /** The PAIRs among {@code datagrams}, opened with this member's session. */
        List<Pair> pairs(List<byte[]> datagrams) throws Exception {
            List<Pair> found = new ArrayList<>();
            for (byte[] d : datagrams) {
                if (d[2] == Wire.PAIR) {
                    assertEquals(Wire.FLAG_SEALED, d[3], "pairs travel sealed only");
                    ByteBuffer b = ByteBuffer.wrap(d.clone());
                    int n = session.open(b, 0, 16, d.length - 16, System.nanoTime());
                    found.add(Pair.decode(b, 16, n));
                }
            }
            return found;
        }

        /** The one PAIR the switch sent since the last look. */
        Pair pair() throws Exception {
            List<Pair> p = pairs(received());
            assertEquals(1, p.size(), "one PAIR: " + p);
            return p.get(0);
        }

        void ack(Pair p, int status) throws Exception {
            byte[] body = new byte[Pair.ACK_LENGTH];
            Pair.encodeAck(ByteBuffer.wrap(body), 0, p.network(), p.index(), p.role(), status);
            vl2.inject(address, ByteBuffer.wrap(seal(Wire.PAIR_ACK, body)));
        }
    }

    private static byte[] seal(Session s, int index, int type, byte[] body) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(16 + body.length + 16);
        b.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) type).put(3, (byte) Wire.FLAG_SEALED)
                .putInt(4, index).put(16, body);
        s.seal(b, 0, 16, body.length, System.nanoTime());
        return b.array();
    }

    private static byte[] frame(long dst, long src, int n) {
        ByteBuffer f = ByteBuffer.allocate(60);
        f.putShort((short) (dst >>> 32)).putInt((int) dst).putShort((short) (src >>> 32)).putInt((int) src)
                .putShort((short) 0x0800).putInt(n);
        return f.array();
    }

    private SwitchStatistics stats() {
        return sw.statistics();
    }

    /** A and B joined with pair keys, B's station known; A's first frame to B has keyed the flow (RECEIVE to B). */
    private Member[] keyedFlow(int capsA, int capsB) throws Exception {
        Member a = new Member(5001, 0x02000000000aL).join(capsA);
        Member b = new Member(5002, 0x02000000000bL).join(capsB);
        b.send(a.mac); // unknown: flooded to A; the switch learns B's station
        a.received();
        a.send(b.mac); // known unicast from A to B
        return new Member[] {a, b};
    }

    /** A keyed flow both ends took: A, B, the PAIRs each got, and a sealer as A's agent holds it. */
    private record Keyed(Member a, Member b, Pair receive, Pair send, Session sealer) {

        /** A frame of the flow as A's agent sends it on the pair. */
        ByteBuffer frame(int n) throws Exception {
            return ByteBuffer.wrap(seal(sealer, send.index(), Wire.FRAME, PairsTest.frame(b.mac, a.mac, n)));
        }
    }

    /** {@link #keyedFlow}, both ends acknowledging: the pair is in use. */
    private Keyed activePair() throws Exception {
        Member[] m = keyedFlow(Join.CAP_PAIRS, Join.CAP_PAIRS);
        Pair receive = m[1].pair();
        m[1].ack(receive, Pair.TAKEN);
        Pair send = m[0].pair();
        m[0].ack(send, Pair.TAKEN);
        return new Keyed(m[0], m[1], receive, send, Session.pair(CipherSuite.ofWireId(send.suite()), send.index(),
                send.key(), Duration.ofSeconds(120), System.nanoTime()));
    }

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
