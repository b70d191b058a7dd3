package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.MemberInfo;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Initiator;
import org.vl2.crypto.Session;
import org.vl2.ipam.Ipv4Pool;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.Join;
import org.vl2.protocol.KeyReply;
import org.vl2.protocol.KeyRequest;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.vl2.HandshakeGate;

/** The encrypted vl2 protocol on the switch (docs/crypto.md): handshake, sealed messages, private networks. */
class EncryptedProtocolTest {

    private static final long PUB = 0xa1L;
    private static final long PRIV = 0xb2L;
    private static final String BCAST = "ff:ff:ff:ff:ff:ff";

    @TempDir
    Path stateDir;

    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final Identity switchIdentity = Identity.generate();
    private final Identity alice = Identity.generate();
    private final Identity bob = Identity.generate();
    private final Identity mallory = Identity.generate();
    private FakeTransport vl2;
    private SwitchCore sw;
    private NetworkDefinition privateNet;
    private NetworkDefinition publicNet;

    @AfterEach
    void stopSwitch() {
        sw.deactivate(); // waits for its lease writes before the state directory is deleted
    }

    @BeforeEach
    void setUp() throws Exception {
        vl2 = new FakeTransport("vl2", "vl2");
        sw = Fakes.vl2Switch(vl2, 1024, clock::get, stateDir, switchIdentity, null);
        publicNet = new NetworkDefinition(Vl2ProtocolTest.network(PUB, "10.1.0.0/24", null).withPlaintext(false));
        sw.bindNetwork(publicNet);
        privateNet = new NetworkDefinition(privateSettings(Set.of(Identity.fingerprint(alice.publicKey()),
                Identity.formatMemberId(bob.memberId()))));
        sw.bindNetwork(privateNet);
    }

    private static NetworkSettings privateSettings(Set<String> members) throws Exception {
        return new NetworkSettings(PRIV, "secret", 1400, null, Ipv4Pool.parse("10.2.0.0/24", null), null, true,
                Duration.ofHours(1), null, List.of(), true, members, HygieneSettings.DEFAULTS);
    }

    /** An encrypted agent as the switch sees it. */
    private final class Agent {
        final Identity identity;
        final SocketAddress address;
        final String mac;
        Session session;
        Welcome welcome;
        byte[] lastInitiation;
        Initiator initiator;

        Agent(Identity identity, int port, String mac) {
            this.identity = identity;
            this.address = TestFrames.endpoint(port);
            this.mac = mac;
        }

        /** Handshake; the WELCOME, or null when the switch answered something else (then {@link #error}). */
        Welcome join(long network) throws Exception {
            return join(network, null);
        }

        /** A handshake whose initiation carries {@code cookie} (mac2), or none if null. */
        Welcome join(long network, byte[] cookie) throws Exception {
            ByteBuffer join = ByteBuffer.allocate(64);
            new Join(network, identity.memberId(), 99, 1518, 0, null, "agent").encode(join);
            Initiator i = Initiator.create(identity, switchIdentity.publicKey(), 0x1000 + address.hashCode() % 1000,
                    join.array(), cookie);
            initiator = i;
            lastInitiation = i.initiation();
            vl2.clear();
            vl2.inject(address, ByteBuffer.wrap(lastInitiation));
            byte[] answer = vl2.last(address);
            if (answer == null || answer[2] != 9) {
                return null;
            }
            Initiator.Completion c = i.consume(ByteBuffer.wrap(answer));
            session = c.session();
            welcome = Welcome.decode(ByteBuffer.wrap(c.payload()));
            return welcome;
        }

        ProtocolError error() throws Exception {
            byte[] answer = vl2.last(address);
            assertNotNull(answer, "an answer");
            assertTrue(answer.length <= lastInitiation.length, "no longer than the initiation");
            return ProtocolError.decode(ByteBuffer.wrap(answer));
        }

        /** A sealed message of this agent: header, body sealed in place, tag. */
        byte[] seal(int type, byte[] body) throws Exception {
            ByteBuffer b = ByteBuffer.allocate(16 + body.length + 16);
            b.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) type).put(3, (byte) Wire.FLAG_SEALED)
                    .putInt(4, session.remoteIndex()).put(16, body);
            session.seal(b, 0, 16, body.length, System.nanoTime());
            return b.array();
        }

        void send(String dst) throws Exception {
            ByteBuffer f = TestFrames.frame(dst, mac, -1, 46);
            byte[] frame = new byte[f.remaining()];
            f.get(frame);
            vl2.inject(address, ByteBuffer.wrap(seal(Wire.FRAME, frame)));
        }

        /** Opens the last datagram the switch sent this agent; null if none. */
        byte[] lastOpened(int type) throws Exception {
            byte[] d = vl2.last(address);
            if (d == null) {
                return null;
            }
            assertEquals(type, d[2]);
            assertEquals(Wire.FLAG_SEALED, d[3]);
            ByteBuffer b = ByteBuffer.wrap(d.clone());
            int n = session.open(b, 0, 16, d.length - 16, System.nanoTime());
            return Arrays.copyOfRange(b.array(), 16, 16 + n);
        }
    }

    @Test
    void plaintextJoinsAreRefusedBySealedAndPrivateNetworksAlike() throws Exception {
        for (long network : new long[] {PUB, PRIV, 0L}) {
            ByteBuffer b = ByteBuffer.allocate(64);
            new Join(network, 1, 5, 1518, 0, null, "").encode(b);
            SocketAddress from = TestFrames.endpoint(40000);
            vl2.clear();
            vl2.inject(from, b.flip());
            ProtocolError e = ProtocolError.decode(ByteBuffer.wrap(vl2.last(from)));
            assertEquals(ErrorCode.NOT_AUTHORIZED, e.code());
            assertEquals("encrypted joins only (agent: switch.key)", e.message(), "the same text for every network");
        }
        assertTrue(sw.ports().isEmpty());
    }

    @Test
    void closingANetworkToPlaintextCutsOffEveryPortWithoutAnIdentityAndKeepsTheEncryptedOnes() throws Exception {
        publicNet.replace(publicNet.settings().withPlaintext(true));
        sw.updatedNetwork(publicNet);
        FakeTransport raw = new FakeTransport("udp");
        FakeTransport vxlan = new FakeTransport("vxlan", "vxlan");
        sw.attach(raw, PUB);
        sw.attach(vxlan);
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        a.join(PUB);
        ByteBuffer b = ByteBuffer.allocate(64);
        new Join(PUB, 7, 5, 1518, 0, null, "").encode(b);
        SocketAddress plain = TestFrames.endpoint(40007);
        vl2.inject(plain, b.flip());
        assertEquals(Wire.WELCOME, vl2.last(plain)[2], "a plaintext join while the network is open");
        raw.inject(TestFrames.endpoint(50000), TestFrames.frame(BCAST, "02:00:00:00:00:aa", -1, 46));
        sw.ingress().receiveFrame(vxlan, TestFrames.endpoint(4789), PUB,
                TestFrames.frame(BCAST, "02:00:00:00:00:bb", -1, 46));
        assertEquals(4, sw.ports().size());

        publicNet.replace(publicNet.settings().withPlaintext(false));
        sw.updatedNetwork(publicNet);
        assertEquals(1, sw.ports().size(), "only the encrypted member is left");
        assertEquals("vl2/encrypted", sw.ports().get(0).mode());
        vl2.clear();
        raw.clear();
        a.send(BCAST);
        assertEquals(0, raw.sentTotal() + vxlan.sentTotal(), "her broadcast reaches no plaintext port");
        raw.inject(TestFrames.endpoint(50000), TestFrames.frame(BCAST, "02:00:00:00:00:aa", -1, 46));
        assertNull(vl2.last(a.address), "and raw frames no longer reach her");
        assertEquals(1, sw.statistics().dropSealed());
        assertEquals(1, sw.ports().size());
    }

    @Test
    void underAHandshakeFloodOnlyInitiationsWithACookieGetAHandshake() throws Exception {
        // a flood of initiations that pass mac1 (anyone who knows the switch's key can make them), spoofed sources
        ByteBuffer join = ByteBuffer.allocate(64);
        new Join(0x77, 1, 1, 1518, 0, null, "").encode(join);
        Identity flooder = Identity.generate();
        for (int i = 0; i <= HandshakeGate.LOAD_THRESHOLD; i++) {
            byte[] initiation = Initiator.create(flooder, switchIdentity.publicKey(), i + 1, join.array()).initiation();
            vl2.inject(new InetSocketAddress("192.0.2." + (i % 250 + 1), 40000 + i), ByteBuffer.wrap(initiation));
        }
        assertTrue(sw.ports().isEmpty());

        // now an honest agent's first initiation gets a cookie reply, not a handshake: 52 bytes, no state
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        vl2.clear();
        assertNull(a.join(PUB), "no handshake without a cookie under load");
        byte[] reply = vl2.last(a.address);
        assertNotNull(reply);
        assertEquals(Handshake.COOKIE_REPLY, reply[2]);
        assertEquals(Handshake.COOKIE_REPLY_LENGTH, reply.length);
        assertTrue(reply.length < a.lastInitiation.length);
        assertTrue(sw.ports().isEmpty());

        // with the cookie its next initiation is answered
        byte[] cookie = a.initiator.consumeCookieReply(ByteBuffer.wrap(reply));
        assertNotNull(a.join(PUB, cookie));
        assertEquals(1, sw.ports().size());

        // the same cookie from another address proves nothing: a cookie reply again
        Agent b = new Agent(bob, 40002, "02:00:00:00:00:02");
        vl2.clear();
        assertNull(b.join(PUB, cookie));
        assertEquals(Handshake.COOKIE_REPLY, vl2.last(b.address)[2]);

        // and a source address that proves itself gets at most PER_SOURCE handshakes per second
        int answered = 0;
        for (int i = 0; i < HandshakeGate.PER_SOURCE + 3; i++) {
            Agent c = new Agent(Identity.generate(), 40010, "02:00:00:00:00:10");
            vl2.clear();
            assertNull(c.join(PUB));
            byte[] r = vl2.last(c.address);
            if (c.join(PUB, c.initiator.consumeCookieReply(ByteBuffer.wrap(r))) != null) {
                answered++;
            }
        }
        assertEquals(HandshakeGate.PER_SOURCE - 1, answered, "alice's address (127.0.0.1) used one already");
    }

    @Test
    void aKeyRequestGetsTheSwitchKeyInAShorterReplyAndNothingElse() throws Exception {
        SocketAddress from = TestFrames.endpoint(40000);
        ByteBuffer request = ByteBuffer.allocate(Wire.KEY_REQUEST_LENGTH);
        new KeyRequest().encode(request);
        vl2.inject(from, request.flip());
        byte[] reply = vl2.last(from);
        assertNotNull(reply);
        assertEquals(Wire.KEY_REPLY_LENGTH, reply.length);
        assertTrue(reply.length < Wire.KEY_REQUEST_LENGTH);
        assertArrayEquals(switchIdentity.publicKey(), KeyReply.decode(ByteBuffer.wrap(reply)).publicKey());
        assertTrue(sw.ports().isEmpty(), "no state for an unauthenticated request");

        // A short request is malformed and unanswered (a reply must never be longer than what it answers).
        vl2.clear();
        long malformed = sw.statistics().malformed();
        vl2.inject(from, ByteBuffer.wrap(Arrays.copyOf(request.array(), 40)));
        assertNull(vl2.last(from));
        assertEquals(malformed + 1, sw.statistics().malformed());

        // Answers to a flood of requests (spoofed sources) are bounded like error answers: 50 per second.
        vl2.clear();
        int answered = 0;
        for (int i = 0; i < 500; i++) {
            SocketAddress spoofed = TestFrames.endpoint(41000 + i);
            vl2.inject(spoofed, ByteBuffer.wrap(request.array()));
            if (vl2.last(spoofed) != null) {
                answered++;
            }
        }
        assertTrue(answered <= 50, answered + " answered");
    }

    @Test
    void anEncryptedJoinGetsAPortWhoseMemberIdComesFromTheKey() throws Exception {
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        Welcome w = a.join(PUB);
        assertNotNull(w);
        assertEquals("10.1.0.1", w.ipv4().getHostAddress());
        assertEquals(Identity.formatMemberId(alice.memberId()), sw.ports().get(0).member());
        assertEquals("vl2/encrypted", sw.ports().get(0).mode());
        assertEquals(switchIdentity.fingerprint(), sw.publicKey());
    }

    @Test
    void framesAreSealedBothWaysAndNeverInTheClear() throws Exception {
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        Agent b = new Agent(bob, 40002, "02:00:00:00:00:02");
        a.join(PUB);
        b.join(PUB);
        vl2.clear();
        a.send(BCAST);
        byte[] expected = new byte[60];
        TestFrames.frame(BCAST, a.mac, -1, 46).get(expected);
        byte[] onTheWire = vl2.last(b.address);
        assertFalse(indexOf(onTheWire, Arrays.copyOfRange(expected, 6, 12)) >= 0, "the source MAC is not in the clear");
        assertArrayEquals(expected, b.lastOpened(Wire.FRAME));
        b.send(a.mac);
        assertNotNull(a.lastOpened(Wire.FRAME));
        assertEquals(1, sw.statistics().unicast());
    }

    @Test
    void tamperedReplayedAndForeignFramesAreDropped() throws Exception {
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        Agent b = new Agent(bob, 40002, "02:00:00:00:00:02");
        a.join(PUB);
        b.join(PUB);
        ByteBuffer f = TestFrames.frame(BCAST, a.mac, -1, 46);
        byte[] frame = new byte[f.remaining()];
        f.get(frame);
        byte[] sealed = a.seal(Wire.FRAME, frame);
        byte[] tampered = sealed.clone();
        tampered[30] ^= 1;
        vl2.clear();
        vl2.inject(a.address, ByteBuffer.wrap(tampered));
        assertNull(vl2.last(b.address), "a flipped bit: dropped");
        vl2.inject(a.address, ByteBuffer.wrap(sealed.clone()));
        assertNotNull(vl2.last(b.address), "the genuine one passes");
        vl2.clear();
        vl2.inject(a.address, ByteBuffer.wrap(sealed.clone()));
        assertNull(vl2.last(b.address), "a replay: dropped");
        assertEquals(2, sw.statistics().badSession());
        ByteBuffer plain = ByteBuffer.allocate(16 + 60);
        org.vl2.protocol.FrameHeader.write(plain, 0, a.welcome.port(), 0);
        plain.position(16);
        plain.put(frame).flip();
        vl2.inject(a.address, plain);
        assertNull(vl2.last(b.address), "a plaintext FRAME for an encrypted port: dropped");
    }

    @Test
    void privateNetworksAdmitOnlyAuthorizedMembersByKeyOrId() throws Exception {
        Agent m = new Agent(mallory, 40003, "02:00:00:00:00:03");
        assertNull(m.join(PRIV));
        assertEquals(ErrorCode.NOT_AUTHORIZED, m.error().code());
        assertTrue(sw.ports().isEmpty(), "an unauthorized member gets an error and nothing else");
        assertNotNull(new Agent(alice, 40001, "02:00:00:00:00:01").join(PRIV), "authorized by key");
        assertNotNull(new Agent(bob, 40002, "02:00:00:00:00:02").join(PRIV), "authorized by member id");
        List<MemberInfo> members = sw.members(PRIV);
        List<MemberInfo> online = members.stream().filter(i -> MemberInfo.ONLINE.equals(i.state())).toList();
        assertEquals(2, online.size(), members.toString());
        assertTrue(online.stream().allMatch(i -> i.authorized() && i.port() != null && i.encrypted()));
        // mallory proved its key and was refused: listed as waiting for an operator, with no port
        List<MemberInfo> waiting = members.stream().filter(i -> MemberInfo.WAITING.equals(i.state())).toList();
        assertEquals(1, waiting.size(), members.toString());
        assertFalse(waiting.get(0).authorized());
        assertNull(waiting.get(0).port());
        assertNotNull(waiting.get(0).refused());
        assertEquals(3, members.size(), members.toString());
    }

    @Test
    void deauthorizingCutsAMemberOffAtOnce() throws Exception {
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        Agent b = new Agent(bob, 40002, "02:00:00:00:00:02");
        a.join(PRIV);
        b.join(PRIV);
        privateNet.replace(privateSettings(Set.of(Identity.formatMemberId(bob.memberId()))));
        sw.updatedNetwork(privateNet);
        assertEquals(1, sw.ports().size(), "alice's port is gone");
        vl2.clear();
        a.send(BCAST);
        assertNull(vl2.last(b.address), "her frames go nowhere");
        assertEquals(ErrorCode.UNKNOWN_PORT, ProtocolError.decode(ByteBuffer.wrap(vl2.last(a.address))).code());
        assertNull(a.join(PRIV), "and she cannot come back");
        assertEquals(ErrorCode.NOT_AUTHORIZED, a.error().code());
    }

    @Test
    void aSealedKeepaliveGetsASealedAckOfTheSameSize() throws Exception {
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        a.join(PUB);
        vl2.clear();
        byte[] ka = a.seal(Wire.KEEPALIVE, ByteBuffer.allocate(8).putLong(4242).array());
        vl2.inject(a.address, ByteBuffer.wrap(ka));
        byte[] ack = vl2.last(a.address);
        assertEquals(40, ack.length);
        assertEquals(4242, ByteBuffer.wrap(a.lastOpened(Wire.KEEPALIVE_ACK)).getLong());
    }

    @Test
    void anAuthenticatedFrameFromANewAddressMovesThePort() throws Exception {
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        Agent b = new Agent(bob, 40002, "02:00:00:00:00:02");
        a.join(PUB);
        b.join(PUB);
        SocketAddress natted = TestFrames.endpoint(41001);
        ByteBuffer f = TestFrames.frame(BCAST, a.mac, -1, 46);
        byte[] frame = new byte[f.remaining()];
        f.get(frame);
        vl2.inject(natted, ByteBuffer.wrap(a.seal(Wire.FRAME, frame)));
        assertTrue(sw.ports().stream().anyMatch(p -> p.remote().equals("127.0.0.1:41001")));
        vl2.clear();
        b.send(a.mac);
        assertNotNull(vl2.last(natted));
    }

    @Test
    void aSealedMessageOnAnotherTransportMovesThePortWithItsSession() throws Exception {
        FakeTransport tcp = new FakeTransport("tcp", "vl2");
        sw.attach(tcp);
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        Agent b = new Agent(bob, 40002, "02:00:00:00:00:02");
        a.join(PUB);
        b.join(PUB);
        SocketAddress connection = TestFrames.endpoint(41001);
        tcp.inject(connection, ByteBuffer.wrap(a.seal(Wire.KEEPALIVE, ByteBuffer.allocate(8).putLong(7).array())));
        assertNotNull(tcp.last(connection), "the keepalive is answered over the new transport, no unknown-port");
        assertTrue(sw.ports().stream().anyMatch(p -> p.transport().equals("tcp")
                && p.remote().equals("127.0.0.1:41001")), "the same port, now over tcp: " + sw.ports());
        assertEquals(2, sw.ports().size());
        b.send(a.mac);
        byte[] d = tcp.last(connection);
        ByteBuffer opened = ByteBuffer.wrap(d.clone());
        assertTrue(a.session.open(opened, 0, 16, d.length - 16, System.nanoTime()) > 0,
                "frames reach the member over tcp, sealed with the session it made over udp");
        vl2.inject(a.address, ByteBuffer.wrap(a.seal(Wire.KEEPALIVE, ByteBuffer.allocate(8).putLong(8).array())));
        assertTrue(sw.ports().stream().anyMatch(p -> p.transport().equals("vl2")
                && p.remote().equals(a.address.toString().replace("/", ""))), "and back: " + sw.ports());
    }

    @Test
    void aClosedConnectionFreesThePortAndItsAddressUnlessTheMemberComesBack() throws Exception {
        FakeTransport tcp = new FakeTransport("tcp", "vl2");
        sw.attach(tcp);
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        a.join(PUB);
        assertFalse(sw.network(PUB).orElseThrow().leases().isEmpty(), "the member holds an address");
        SocketAddress first = TestFrames.endpoint(41001);
        tcp.inject(first, ByteBuffer.wrap(a.seal(Wire.KEEPALIVE, ByteBuffer.allocate(8).putLong(1).array())));
        tcp.receiver.connectionClosed(tcp, first);
        SocketAddress again = TestFrames.endpoint(41002); // the agent connected again within the grace
        tcp.inject(again, ByteBuffer.wrap(a.seal(Wire.KEEPALIVE, ByteBuffer.allocate(8).putLong(2).array())));
        clock.addAndGet(PortRegistry.CONNECTION_GRACE_NANOS + 1_000_000_000L);
        sw.expireIdlePorts();
        assertEquals(1, sw.ports().size(), "it came back on a new connection: the port stays");

        tcp.receiver.connectionClosed(tcp, TestFrames.endpoint(41001)); // the old connection: not the port's
        tcp.receiver.connectionClosed(tcp, again);
        sw.expireIdlePorts();
        assertEquals(1, sw.ports().size(), "within the grace");
        clock.addAndGet(PortRegistry.CONNECTION_GRACE_NANOS + 1_000_000_000L);
        sw.expireIdlePorts();
        assertTrue(sw.ports().isEmpty(), "freed after the grace, long before the session timeout");
        assertTrue(sw.network(PUB).orElseThrow().leases().isEmpty(), "and its address with it");
    }

    @Test
    void aRekeyKeepsThePortAndTheOldSessionStillOpens() throws Exception {
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        Agent b = new Agent(bob, 40002, "02:00:00:00:00:02");
        int port = a.join(PUB).port();
        b.join(PUB);
        Session old = a.session;
        ByteBuffer f = TestFrames.frame(BCAST, a.mac, -1, 46);
        byte[] frame = new byte[f.remaining()];
        f.get(frame);
        byte[] sealedWithOld = a.seal(Wire.FRAME, frame);
        Session fresh;
        assertEquals(port, a.join(PUB).port(), "same port after the new handshake");
        fresh = a.session;
        assertTrue(old != fresh);
        vl2.clear();
        vl2.inject(a.address, ByteBuffer.wrap(sealedWithOld));
        assertNotNull(vl2.last(b.address), "a frame sealed just before the rekey still counts");
        vl2.clear();
        b.send(a.mac);
        a.session = old;
        assertNotNull(a.lastOpened(Wire.FRAME), "until the agent uses the new keys, frames to it use the old ones");
        a.session = fresh;
        vl2.inject(a.address, ByteBuffer.wrap(a.seal(Wire.KEEPALIVE, new byte[8]))); // confirms the new session
        vl2.clear();
        b.send(a.mac);
        assertNotNull(a.lastOpened(Wire.FRAME), "then they use the new session");
    }

    /**
     * The switch's session index is random 32-bit (not the port number and a generation byte, which an attacker could
     * guess and which wrapped after 2^24 ports), and each handshake's index is released with its session: a member
     * rekeying in a loop holds at most three (current, pending, previous), and none once it left. A port's later
     * handshakes keep the lowest byte of its index, which picks its receive thread.
     */
    @Test
    void sessionIndicesAreRandomAndReleasedWithTheirSessions() throws Exception {
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        int port = a.join(PUB).port();
        Set<Integer> indices = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            assertEquals(port, a.join(PUB).port());
            int index = a.session.remoteIndex();
            assertTrue(indices.add(index), "index " + index + " handed out twice");
            if (i % 2 == 0) {
                vl2.inject(a.address, ByteBuffer.wrap(a.seal(Wire.KEEPALIVE, new byte[8]))); // confirms it
            }
            assertTrue(sw.registry.sealedSessionCount() <= 3, sw.registry.sealedSessionCount() + " indices held");
        }
        assertTrue(indices.stream().filter(i -> i >>> 8 == port).count() <= 1, "not the port number: " + indices);
        // a re-join keeps the lowest byte, the one the vl2 transport picks the member's receive thread by
        assertEquals(1, indices.stream().map(i -> i & 0xff).distinct().count(), "one low byte: " + indices);
        vl2.inject(a.address, ByteBuffer.wrap(a.seal(Wire.LEAVE, new byte[0])));
        assertTrue(sw.ports().isEmpty());
        assertEquals(0, sw.registry.sealedSessionCount(), "released with the port");
    }

    /**
     * Member ids are no secret: a plaintext JOIN that claims a sealed member's id gets a generic refusal and touches
     * neither its port nor, once the member is gone, its lease or IPv6 address.
     */
    @Test
    void aPlaintextJoinClaimingASealedMembersIdTouchesNeitherItsPortNorItsAddresses() throws Exception {
        sw.modified(Fakes.config("learning", 1522, 300, 1024, 1000, true)); // plaintext allowed
        sw.bindNetwork(new NetworkDefinition(Vl2ProtocolTest.network(0xc6L, "10.6.0.0/24", "fd00:6::")));
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        ByteBuffer join = ByteBuffer.allocate(64);
        new Join(0xc6L, alice.memberId(), 99, 1518, Join.CAP_IPV6, null, "agent").encode(join);
        Initiator i = Initiator.create(alice, switchIdentity.publicKey(), 77, join.array(), null);
        vl2.inject(a.address, ByteBuffer.wrap(i.initiation()));
        Initiator.Completion c = i.consume(ByteBuffer.wrap(vl2.last(a.address)));
        a.session = c.session();
        Welcome hers = Welcome.decode(ByteBuffer.wrap(c.payload()));

        SocketAddress mallory = TestFrames.endpoint(40066);
        ByteBuffer claim = ByteBuffer.allocate(64);
        new Join(0xc6L, alice.memberId(), 5, 1518, Join.CAP_IPV6, hers.ipv4(), "mallory").encode(claim);
        vl2.inject(mallory, claim.flip());
        ProtocolError e = ProtocolError.decode(ByteBuffer.wrap(vl2.last(mallory)));
        assertEquals(ErrorCode.NOT_AUTHORIZED, e.code());
        assertEquals("not authorized", e.message(), "generic: it names nobody");
        assertEquals(1, sw.ports().size());
        assertEquals("127.0.0.1:40001", sw.ports().get(0).remote(), "her port stays hers");

        vl2.inject(a.address, ByteBuffer.wrap(a.seal(Wire.LEAVE, new byte[0]))); // she leaves; her lease is kept
        assertTrue(sw.ports().isEmpty());
        claim.clear();
        new Join(0xc6L, alice.memberId(), 6, 1518, Join.CAP_IPV6, null, "mallory").encode(claim);
        vl2.inject(mallory, claim.flip());
        Welcome his = Welcome.decode(ByteBuffer.wrap(vl2.last(mallory)));
        assertNotEquals(hers.ipv4(), his.ipv4(), "not her lease");
        assertNotNull(his.ipv6());
        assertNotEquals(hers.ipv6(), his.ipv6(), "not her IPv6 address");
        claim.clear();
        new Join(0xc6L, alice.memberId(), 7, 1518, 0, hers.ipv4(), "mallory").encode(claim);
        vl2.inject(mallory, claim.flip());
        e = ProtocolError.decode(ByteBuffer.wrap(vl2.last(mallory)));
        assertEquals(ErrorCode.ADDRESS_CONFLICT, e.code(), "her address stays leased to her");
        assertFalse(e.message().contains(Identity.formatMemberId(alice.memberId())), e.message());
    }

    /**
     * An initiation is authentic but may be a replay (a switch restart, a guard that forgot): a handshake from a new
     * address does not move the member's port; only a message that opens under the new session does.
     */
    @Test
    void aNewHandshakeFromAnotherAddressMovesThePortOnlyOnceItsSessionIsConfirmed() throws Exception {
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        Agent b = new Agent(bob, 40002, "02:00:00:00:00:02");
        int port = a.join(PUB).port();
        b.join(PUB);
        Agent elsewhere = new Agent(alice, 40099, a.mac);
        assertEquals(port, elsewhere.join(PUB).port());
        assertTrue(sw.ports().stream().anyMatch(p -> p.remote().equals("127.0.0.1:40001")), "not moved yet");
        vl2.clear();
        b.send(a.mac);
        assertNotNull(a.lastOpened(Wire.FRAME), "frames still go to the confirmed session's address");
        vl2.inject(elsewhere.address, ByteBuffer.wrap(elsewhere.seal(Wire.KEEPALIVE, new byte[8])));
        assertTrue(sw.ports().stream().anyMatch(p -> p.remote().equals("127.0.0.1:40099")), "moved once it opened");
    }

    /** Refusals before authentication say nothing about other members. */
    @Test
    void unauthenticatedRefusalsAreGeneric() throws Exception {
        Agent m = new Agent(mallory, 40003, "02:00:00:00:00:03");
        assertNull(m.join(PRIV));
        assertEquals("not authorized", m.error().message());
        assertNull(m.join(0x7777L));
        assertEquals(ErrorCode.UNKNOWN_NETWORK, m.error().code());
        assertEquals("no such network", m.error().message());
    }

    @Test
    void aReplayedInitiationIsNotAnswered() throws Exception {
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        a.join(PUB);
        vl2.clear();
        vl2.inject(TestFrames.endpoint(40009), ByteBuffer.wrap(a.lastInitiation));
        assertNull(vl2.last(TestFrames.endpoint(40009)));
    }

    @Test
    void aSealedLeaveRemovesThePort() throws Exception {
        Agent a = new Agent(alice, 40001, "02:00:00:00:00:01");
        a.join(PUB);
        vl2.inject(a.address, ByteBuffer.wrap(a.seal(Wire.LEAVE, new byte[0])));
        assertTrue(sw.ports().isEmpty());
    }

    @Test
    void theSwitchKeepsItsKeyPairAcrossRestarts() throws Exception {
        SwitchCore first = new SwitchCore(new FakeMacTable(), Fakes.defaults(), clock::get, false, stateDir, null);
        SwitchCore second = new SwitchCore(new FakeMacTable(), Fakes.defaults(), clock::get, false, stateDir, null);
        assertEquals(first.publicKey(), second.publicKey());
        assertTrue(java.nio.file.Files.getPosixFilePermissions(stateDir.resolve("switch-identity")).stream()
                .noneMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")), "owner only");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
