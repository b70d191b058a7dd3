package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Session;
import org.vl2.protocol.Join;
import org.vl2.protocol.Pair;
import org.vl2.protocol.Probe;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Wire;

/**
 * Direct paths in the agent (docs/protocol.md, "Direct paths"), against a real session and real sockets: a socket of
 * the test plays the switch, another one the other member. A send pair whose PAIR SEND carries the receiver's
 * endpoint is probed there with the pair key; a PROBE-ACK that opens under the reply keys takes the path up (the
 * switch hears DIRECT, the pair's frames go to the peer), silence takes it down again (RELAYED, frames to the switch).
 * A receive pair's PROBE is answered once, to its source; the peer socket takes nothing but a pair's messages. Every
 * step is a direct call (no agent threads); time is a {@link TestClock}.
 */
class DirectPathsTest extends SealedAgentHarness {

    private static final int ROOM_PROBE = SealedHeader.LENGTH + Probe.LENGTH + Session.TAG_LENGTH;

    private DatagramSocket peerSocket;
    private InetSocketAddress peerAddress;
    private PeerCodec peerCodec;

    private void startWithPeer(TestConfig config) throws Exception {
        start(config);
        peerSocket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        peerSocket.setSoTimeout(10_000); // only a failing test waits that long
        peerAddress = (InetSocketAddress) peerSocket.getLocalSocketAddress();
        peerCodec = new PeerCodec(new CodecContext(counters, links, tap, ROOM), session.pairs());
    }

    private void startWithPeer() throws Exception {
        startWithPeer(new TestConfig().switchKey(switchIdentity.fingerprint()));
    }

    @AfterEach
    void closePeer() {
        if (peerSocket != null) {
            peerSocket.close();
        }
    }

    private Pair send(int index, int seed, InetSocketAddress peer) {
        return new Pair(0, index, Pair.SEND, switchKeys.cipher().wireId(), Pair.UNTAGGED, A, B, 60,
                PairsTest.key(seed), peer);
    }

    private Session replies(int index, int seed) {
        return Session.pairReplies(switchKeys.cipher(), index, PairsTest.key(seed), Duration.ofSeconds(60),
                clock.nanos());
    }

    /** The next datagram the agent sent the test's peer. */
    private ByteBuffer fromAgentToPeer() throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[ROOM], ROOM);
        peerSocket.receive(p);
        return ByteBuffer.wrap(Arrays.copyOf(p.getData(), p.getLength()));
    }

    /** The next PAIR-ACK the agent sent the switch, opened: its body. */
    private ByteBuffer pairAckToSwitch() throws IOException, CryptoException {
        while (true) {
            ByteBuffer d = ByteBuffer.wrap(receive(Wire.PAIR_ACK));
            assertEquals(Pair.ACK_LENGTH, switchKeys.open(d, 0, SealedHeader.LENGTH, d.limit() - SealedHeader.LENGTH,
                    clock.nanos()));
            return d;
        }
    }

    /** The peer socket's pump decodes {@code datagram} from {@code from}. */
    private int peerDecode(ByteBuffer datagram, InetSocketAddress from) {
        ByteBuffer slot = ByteBuffer.allocate(ROOM).put(datagram.duplicate()).clear();
        return peerCodec.decode(slot, 0, datagram.remaining(), from, links.link().peers());
    }

    private long tick() {
        return session.directPaths(clock.millis(), session.joined());
    }

    private static byte[] id(long id) {
        return ByteBuffer.allocate(Probe.LENGTH).putLong(id).array();
    }

    @Test
    void theLinkHasAPeerSocketOnItsPortThatGetsWhatTheSwitchDoesNotSend() throws Exception {
        startWithPeer();
        Link l = links.link();
        assertNotNull(l.peers(), "direct paths on: a peer socket beside the switch's");
        assertEquals(l.local().getPort(), l.peers().local().getPort(), "one port: the switch's view is the peers'");
        assertEquals(Join.CAP_DIRECT, join.capabilities() & Join.CAP_DIRECT);
        InetSocketAddress agent = new InetSocketAddress(InetAddress.getLoopbackAddress(), l.local().getPort());
        peerSocket.send(new DatagramPacket(new byte[] {1, 2, 3}, 3, agent));
        switchSocket.send(new DatagramPacket(new byte[] {4, 5}, 2, agent));
        assertEquals(1, l.peers().receive(10_000), "the peer's datagram on the peer socket");
        assertEquals(3, l.peers().datagram(0).remaining());
        assertEquals(peerAddress, l.peers().source(0));
        assertEquals(1, l.receive(10_000), "the switch's on the connected socket");
        assertEquals(2, l.datagram(0).remaining());
        assertEquals(0, l.peers().receive(0), "and nothing of the switch's on the peer socket");
    }

    @Test
    void aSendPairIsProbedAtTheReceiversEndpointAndGoesDirectOnceAnAckOpensThenBackWhenAcksStop() throws Exception {
        startWithPeer();
        session.pairs().take(send(0x77, 1, peerAddress), clock.nanos());
        byte[] frame = PairsTest.frame(Pair.UNTAGGED, A, B, 100);
        assertNotNull(encode(frame));
        assertNull(codec.directTo(), "no probe answered yet: the pair's frames go through the switch");

        assertTrue(tick() <= clock.millis() + DirectPaths.PROBE_MILLIS);
        ByteBuffer probe = fromAgentToPeer();
        assertEquals(Wire.PROBE, Wire.type(probe));
        assertEquals(0x77, SealedHeader.receiverIndex(probe, 0));
        assertEquals(ROOM_PROBE, probe.limit());
        assertEquals(Probe.LENGTH, peer(0x77, 1, 60).open(probe, 0, SealedHeader.LENGTH,
                probe.limit() - SealedHeader.LENGTH, clock.nanos()), "sealed with the pair key");
        long id = probe.getLong(SealedHeader.LENGTH);

        // an answer under other keys, and one to another path's probe, take nothing up (a session of the test's
        // seals under each key once: a second one from counter 0 would use a nonce twice)
        Session replies = replies(0x77, 1);
        assertEquals(-1, peerDecode(sealed(replies(0x77, 9), 0x77, Wire.PROBE_ACK, id(id), clock.nanos()),
                peerAddress));
        assertEquals(-1, peerDecode(sealed(replies, 0x77, Wire.PROBE_ACK, id(id ^ 1L << 40), clock.nanos()),
                peerAddress));
        tick();
        assertEquals(0, session.pairs().directCount());

        assertEquals(-1, peerDecode(sealed(replies, 0x77, Wire.PROBE_ACK, id(id), clock.nanos()), peerAddress));
        assertEquals(1, session.pairs().directCount(), "the path is up at the acknowledgement, not a tick later");
        encode(frame);
        assertEquals(peerAddress, codec.directTo());
        tick();
        ByteBuffer ack = pairAckToSwitch();
        assertEquals(0x77, Pair.ackIndex(ack, SealedHeader.LENGTH));
        assertEquals(Pair.SEND, Pair.ackRole(ack, SealedHeader.LENGTH));
        assertEquals(Pair.DIRECT, Pair.ackStatus(ack, SealedHeader.LENGTH), "the switch hears of it");
        ByteBuffer d = encode(frame);
        assertEquals(peerAddress, codec.directTo(), "the pair's frames go straight to the receiver");
        assertEquals(0x77, SealedHeader.receiverIndex(d, 0));
        assertEquals(100, peer(0x77, 1, 60).open(d, 0, SealedHeader.LENGTH, d.limit() - SealedHeader.LENGTH,
                clock.nanos()));
        encode(PairsTest.frame(Pair.UNTAGGED, A, C, 100));
        assertNull(codec.directTo(), "another flow: through the switch");

        // the receiver stops answering: the path is down within DEAD_MILLIS, the switch hears RELAYED
        for (long t = 0; t <= DirectPaths.DEAD_MILLIS; t += DirectPaths.PROBE_MILLIS / 2) {
            clock.advance(DirectPaths.PROBE_MILLIS / 2);
            encode(frame); // in use all along
            tick();
        }
        assertEquals(0, session.pairs().directCount());
        assertEquals(Pair.RELAYED, Pair.ackStatus(pairAckToSwitch(), SealedHeader.LENGTH));
        encode(frame);
        assertNull(codec.directTo(), "back through the switch");
        assertTrue(counters.probesSent.get() >= 4, "probed once a second meanwhile: " + counters.probesSent.get());
    }

    @Test
    void aRenewedPairToTheSameEndpointStaysDirectAndTheSwitchHearsOfTheNewOne() throws Exception {
        startWithPeer();
        session.pairs().take(send(0x7A, 11, peerAddress), clock.nanos());
        tick();
        ByteBuffer probe = fromAgentToPeer();
        assertEquals(Probe.LENGTH, peer(0x7A, 11, 60).open(probe, 0, SealedHeader.LENGTH,
                probe.limit() - SealedHeader.LENGTH, clock.nanos()));
        assertEquals(-1, peerDecode(sealed(replies(0x7A, 11), 0x7A, Wire.PROBE_ACK,
                id(probe.getLong(SealedHeader.LENGTH)), clock.nanos()), peerAddress));
        tick();
        assertEquals(Pair.DIRECT, Pair.ackStatus(pairAckToSwitch(), SealedHeader.LENGTH));

        // the switch renews the flow's key (same flow, same endpoint): its frames stay on the direct path
        session.pairs().take(send(0x7B, 12, peerAddress), clock.nanos());
        byte[] frame = PairsTest.frame(Pair.UNTAGGED, A, B, 100);
        ByteBuffer d = encode(frame);
        assertEquals(0x7B, SealedHeader.receiverIndex(d, 0));
        assertEquals(peerAddress, codec.directTo(), "no detour through the switch while the new key is probed");
        tick();
        ByteBuffer ack = pairAckToSwitch();
        assertEquals(0x7B, Pair.ackIndex(ack, SealedHeader.LENGTH));
        assertEquals(Pair.DIRECT, Pair.ackStatus(ack, SealedHeader.LENGTH), "the new pair is direct at the switch");

        // another endpoint (the receiver moved): probed anew, through the switch meanwhile
        session.pairs().take(send(0x7C, 13, new InetSocketAddress(InetAddress.getLoopbackAddress(), 9)),
                clock.nanos());
        encode(frame);
        assertNull(codec.directTo());
    }

    @Test
    void behindANatTheReceiverIsProbedWhereItsOwnProbesComeFromAndFramesGoWhereTheAckCameFrom() throws Exception {
        startWithPeer();
        // the switch sees B at an endpoint that does not reach it from here (a NAT that mapped B's flow to this agent
        // on another port): nobody answers there
        InetSocketAddress switchView = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9);
        session.pairs().take(send(0x7D, 14, switchView), clock.nanos());
        session.pairs().take(new Pair(0, 0x8D, Pair.RECEIVE, switchKeys.cipher().wireId(), Pair.UNTAGGED, B, A, 60,
                PairsTest.key(15)), clock.nanos());
        tick();
        assertEquals(1, counters.probesSent.get(), "only the switch's view so far");

        // B probes its pair (B -> A) from the NAT's mapping: the reverse path is probed there as well
        assertEquals(-1, peerDecode(sealed(peer(0x8D, 15, 60), 0x8D, Wire.PROBE, id(1), clock.nanos()), peerAddress));
        assertEquals(Wire.PROBE_ACK, Wire.type(fromAgentToPeer()), "B's probe answered");
        clock.advance(DirectPaths.PROBE_MILLIS);
        byte[] frame = PairsTest.frame(Pair.UNTAGGED, A, B, 100);
        encode(frame);
        tick();
        ByteBuffer probe = fromAgentToPeer();
        assertEquals(Wire.PROBE, Wire.type(probe));
        assertEquals(0x7D, SealedHeader.receiverIndex(probe, 0), "A's pair probed where B's probes come from");
        Session senderSide = peer(0x7D, 14, 60);
        assertEquals(Probe.LENGTH, senderSide.open(probe, 0, SealedHeader.LENGTH, probe.limit() - SealedHeader.LENGTH,
                clock.nanos()));
        assertEquals(-1, peerDecode(sealed(replies(0x7D, 14), 0x7D, Wire.PROBE_ACK,
                id(probe.getLong(SealedHeader.LENGTH)), clock.nanos()), peerAddress));
        ByteBuffer d = encode(frame);
        assertEquals(peerAddress, codec.directTo(), "frames go where the acknowledgement came from");
        assertEquals(100, senderSide.open(d, 0, SealedHeader.LENGTH, d.limit() - SealedHeader.LENGTH, clock.nanos()));
    }

    @Test
    void aPathThatNeverAnswersIsProbedFiveTimesThenEveryThirtySeconds() throws Exception {
        startWithPeer();
        session.pairs().take(send(0x78, 2, peerAddress), clock.nanos());
        byte[] frame = PairsTest.frame(Pair.UNTAGGED, A, B, 100);
        long due = tick();
        for (int i = 1; i < DirectPaths.FIRST_PROBES; i++) {
            assertEquals(clock.millis() + DirectPaths.PROBE_MILLIS, due, "probe " + i);
            clock.advance(DirectPaths.PROBE_MILLIS);
            encode(frame);
            due = tick();
        }
        assertEquals(DirectPaths.FIRST_PROBES, counters.probesSent.get());
        clock.advance(DirectPaths.PROBE_MILLIS);
        encode(frame);
        tick();
        assertEquals(DirectPaths.FIRST_PROBES + 1, counters.probesSent.get());
        clock.advance(DirectPaths.PROBE_MILLIS);
        encode(frame);
        tick();
        assertEquals(DirectPaths.FIRST_PROBES + 1, counters.probesSent.get(), "now every 30 s");
        clock.advance(DirectPaths.RETRY_MILLIS);
        encode(frame);
        tick();
        assertEquals(DirectPaths.FIRST_PROBES + 2, counters.probesSent.get());
        clock.advance(DirectPaths.IDLE_MILLIS + DirectPaths.RETRY_MILLIS);
        tick();
        assertEquals(DirectPaths.FIRST_PROBES + 2, counters.probesSent.get(), "a pair without frames is not probed");
    }

    @Test
    void aProbeUnderAReceivePairIsAnsweredOnceToItsSourceAndNothingUnauthenticatedIsAnswered() throws Exception {
        startWithPeer();
        session.pairs().take(new Pair(0, 0x88, Pair.RECEIVE, switchKeys.cipher().wireId(), Pair.UNTAGGED, B, A, 60,
                PairsTest.key(3)), clock.nanos());
        ByteBuffer probe = sealed(peer(0x88, 3, 60), 0x88, Wire.PROBE, id(0x1234_5678_9ABCL), clock.nanos());
        assertEquals(-1, peerDecode(probe, peerAddress));
        assertEquals(1, counters.probesAnswered.get());
        ByteBuffer ack = fromAgentToPeer();
        assertEquals(probe.remaining(), ack.limit(), "no longer than the probe: nothing to amplify");
        assertEquals(Wire.PROBE_ACK, Wire.type(ack));
        assertEquals(0x88, SealedHeader.receiverIndex(ack, 0));
        assertEquals(Probe.LENGTH, replies(0x88, 3).open(ack, 0, SealedHeader.LENGTH,
                ack.limit() - SealedHeader.LENGTH, clock.nanos()), "sealed with the reply keys");
        assertEquals(0x1234_5678_9ABCL, ack.getLong(SealedHeader.LENGTH), "the probe's id");

        assertEquals(-1, peerDecode(probe, peerAddress), "the same probe again (a replay)");
        assertEquals(-1, peerDecode(sealed(peer(0x88, 4, 60), 0x88, Wire.PROBE, id(1), clock.nanos()), peerAddress));
        assertEquals(-1, peerDecode(sealed(peer(0x89, 7, 60), 0x89, Wire.PROBE, id(1), clock.nanos()), peerAddress));
        assertEquals(1, counters.probesAnswered.get(), "a replay, another key, an unknown index: no answer");
        assertEquals(2, counters.unopened.get());
        assertEquals(1, counters.foreign.get());
    }

    @Test
    void probeAcksAreBoundedPerSecondWhateverTheProbesSay() throws Exception {
        startWithPeer();
        session.pairs().take(new Pair(0, 0x8A, Pair.RECEIVE, switchKeys.cipher().wireId(), Pair.UNTAGGED, B, A, 60,
                PairsTest.key(8)), clock.nanos());
        Session sender = peer(0x8A, 8, 60);
        for (int i = 0; i < PeerCodec.MAX_ACKS_PER_SECOND + 10; i++) {
            peerDecode(sealed(sender, 0x8A, Wire.PROBE, id(i), clock.nanos()), peerAddress);
        }
        assertEquals(PeerCodec.MAX_ACKS_PER_SECOND, counters.probesAnswered.get(), "at most this many a second");
        assertEquals(10, counters.ignored.get());
        clock.advance(1_000);
        peerDecode(sealed(sender, 0x8A, Wire.PROBE, id(-1), clock.nanos()), peerAddress);
        assertEquals(PeerCodec.MAX_ACKS_PER_SECOND + 1, counters.probesAnswered.get(), "and again the next second");
    }

    @Test
    void aPairsFrameStraightFromItsSenderIsTakenAndNothingButAPairsMessagesIs() throws Exception {
        startWithPeer();
        session.pairs().take(new Pair(0, 0x90, Pair.RECEIVE, switchKeys.cipher().wireId(), Pair.UNTAGGED, B, A, 60,
                PairsTest.key(5)), clock.nanos());
        Session sender = peer(0x90, 5, 60);
        byte[] frame = PairsTest.frame(Pair.UNTAGGED, B, A, 120);
        assertEquals(120, peerDecode(sealed(sender, 0x90, Wire.FRAME, frame, clock.nanos()), peerAddress));
        assertEquals(1, counters.directReceived.get());
        assertEquals(-1, peerDecode(sealed(sender, 0x90, Wire.FRAME, PairsTest.frame(Pair.UNTAGGED, C, A, 120),
                clock.nanos()), peerAddress));
        assertEquals(1, counters.pairMismatch.get(), "another flow under the pair: what the switch would refuse");

        // the switch's messages are never taken from a peer, even sealed under the session (a copy of the switch's)
        long authentic = session.lastAuthentic();
        clock.advance(1_000);
        assertEquals(-1, peerDecode(sealed(switchKeys, switchKeys.remoteIndex(), Wire.KEEPALIVE_ACK, new byte[8],
                clock.nanos()), peerAddress));
        assertEquals(-1, peerDecode(sealed(switchKeys, switchKeys.remoteIndex(), Wire.FRAME, frame, clock.nanos()),
                peerAddress));
        assertEquals(-1, peerDecode(ByteBuffer.wrap(new byte[] {0x56, 1, (byte) Wire.ERROR, 0, 0, 0}), peerAddress));
        assertEquals(authentic, session.lastAuthentic(), "nothing from a peer counts as the switch heard");
        assertEquals(3, counters.foreign.get());
        assertEquals(1, counters.directReceived.get());
    }

    @Test
    void withDirectPathsOffTheJoinSaysSoThereIsNoPeerSocketAndAnEndpointIsIgnored() throws Exception {
        startWithPeer(new TestConfig().switchKey(switchIdentity.fingerprint()).direct(false));
        assertEquals(0, join.capabilities() & Join.CAP_DIRECT);
        assertEquals(Join.CAP_PAIRS, join.capabilities() & Join.CAP_PAIRS);
        assertNull(links.link().peers());
        session.pairs().take(send(0x79, 6, peerAddress), clock.nanos());
        assertNull(session.pairs().sendingIndex(0x79).path());
        assertEquals(Long.MAX_VALUE, tick());
        assertEquals(0, counters.probesSent.get());
    }
}
