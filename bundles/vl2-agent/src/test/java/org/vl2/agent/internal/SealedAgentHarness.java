package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.crypto.CipherPolicy;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Responder;
import org.vl2.crypto.Session;
import org.vl2.crypto.TimestampGuard;
import org.vl2.protocol.Join;
import org.vl2.protocol.Pair;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;

/**
 * An encrypted agent joined over a real handshake with a socket of the test playing the switch (the responder's side
 * of vl2-crypto), so that the test holds the switch's session keys; every step is a direct call on the codec or the
 * session (no agent threads). Shared by the pair-key and direct-path tests. Time is a {@link TestClock}.
 */
abstract class SealedAgentHarness {

    static final long A = PairsTest.A;
    static final long B = PairsTest.B;
    static final long C = PairsTest.C;
    static final int FRAME_AT = SealedHeader.LENGTH;
    static final int ROOM = 2048;

    @TempDir
    Path dir;

    final TestClock clock = new TestClock();
    final Counters counters = new Counters();
    final Lifecycle life = new Lifecycle("");
    final Identity switchIdentity = Identity.generate();
    DatagramSocket switchSocket;
    AgentConfig.Settings settings;
    LinkKeeper links;
    TapPort tap;
    Vl2Session session;
    SealedCodec codec;
    /** The switch's end of the session the agent joined with. */
    Session switchKeys;
    /** The JOIN inside the agent's handshake (or in the clear, plaintext). */
    Join join;

    /** An agent joined over a real handshake (encrypted) or just asked to join (plaintext). */
    void start(TestConfig config) throws Exception {
        switchSocket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        switchSocket.setSoTimeout(10_000); // only a failing test waits that long
        settings = AgentConfig.validate(config
                .switchAddress("127.0.0.1:" + switchSocket.getLocalPort()).transportNamed(AgentConfig.TRANSPORT_UDP)
                .udpOffload(false).identityFile(dir.resolve("identity").toString()));
        Timing timing = new Timing(5_000, 30_000, 30_000, 1_000, 2_000, 1_000, 30_000, 1_000, 1_000,
                Session.Limits.DEFAULT, clock);
        life.run();
        links = new LinkKeeper(settings, InetAddress::getByName, timing, life, counters);
        links.check(true);
        assertNotNull(links.link(), "a UDP socket to the test's switch");
        tap = new TapPort(new FakeTap.Factory(), settings.tap(), life);
        SwitchTrust trust = SwitchTrust.load(settings, "", new AgentInstances());
        session = new Vl2Session(settings, trust, "pairs", 1500, timing, life, (message, log) -> { }, counters, links,
                tap);
        session.startJoin(clock.millis(), null);
        session.sendJoinAttempt();
        byte[] first = receive();
        if (!settings.encrypted()) {
            join = Join.decode(ByteBuffer.wrap(first));
            return;
        }
        Responder r = Responder.consume(switchIdentity, ByteBuffer.wrap(first), new TimestampGuard());
        join = Join.decode(ByteBuffer.wrap(r.payload()));
        ByteBuffer welcome = ByteBuffer.allocate(Wire.WELCOME_LENGTH);
        new Welcome(join.network(), join.nonce(), 7, 0, 1400, 25, null, 0, null, 0).encode(welcome);
        Responder.Reply reply = r.respond(0x5eed, welcome.array(), Session.Limits.DEFAULT,
                r.choose(CipherPolicy.auto()));
        switchKeys = reply.session();
        session.handshakeAnswer(reply.response(), clock.millis());
        assertNotNull(session.joined(), "joined");
        codec = new SealedCodec(new CodecContext(counters, links, tap, ROOM), session);
    }

    void startEncrypted() throws Exception {
        start(new TestConfig().switchKey(switchIdentity.fingerprint()));
    }

    @AfterEach
    void stop() {
        Link l = links == null ? null : links.stop();
        if (l != null) {
            l.close();
        }
        if (tap != null) {
            tap.close();
        }
        if (switchSocket != null) {
            switchSocket.close();
        }
    }

    /** The next datagram the agent sent the switch. */
    byte[] receive() throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[ROOM], ROOM);
        switchSocket.receive(p);
        return Arrays.copyOf(p.getData(), p.getLength());
    }

    /** The next datagram of type {@code type} the agent sent (sealed KEEPALIVEs come and go meanwhile). */
    byte[] receive(int type) throws IOException {
        while (true) {
            byte[] d = receive();
            if (d.length >= 4 && (d[2] & 0xFF) == type) {
                return d;
            }
        }
    }

    /** The pair's keys as the other end holds them: the same key and index. */
    Session peer(int index, int seed, int lifetimeSeconds) {
        return Session.pair(switchKeys.cipher(), index, PairsTest.key(seed), Duration.ofSeconds(lifetimeSeconds),
                clock.nanos());
    }

    /** What the switch hands the agent: pair {@code index}, keyed with {@code seed}, in the session's AEAD. */
    Pair pair(int index, int role, int seed, int lifetimeSeconds, int vlan, long source, long destination) {
        return new Pair(0, index, role, switchKeys.cipher().wireId(), vlan, source, destination, lifetimeSeconds,
                PairsTest.key(seed));
    }

    /** The send pump's encode of {@code frame}: the datagram, or null if it could not go out. */
    ByteBuffer encode(byte[] frame) {
        ByteBuffer buf = ByteBuffer.allocate(ROOM);
        buf.put(FRAME_AT, frame);
        if (!codec.encode(buf, FRAME_AT, frame.length)) {
            return null;
        }
        assertEquals(0, buf.position(), "the datagram starts with the header");
        return ByteBuffer.allocate(buf.remaining()).put(buf).flip();
    }

    /** {@code type} with {@code body} sealed under {@code keys}, receiver index {@code index}. */
    static ByteBuffer sealed(Session keys, int index, int type, byte[] body, long now) throws CryptoException {
        ByteBuffer d = ByteBuffer.allocate(SealedHeader.LENGTH + body.length + Session.TAG_LENGTH);
        SealedHeader.write(d, 0, type, index);
        d.put(SealedHeader.LENGTH, body);
        keys.seal(d, 0, SealedHeader.LENGTH, body.length, now);
        return d.clear();
    }

    /** The receive pump's decode of {@code datagram}, in a slot of its own: the frame, or -1. */
    int decode(ByteBuffer datagram, ByteBuffer slot) {
        slot.clear().put(datagram.duplicate());
        return codec.decode(slot, 0, datagram.remaining(), (InetSocketAddress) switchSocket.getLocalSocketAddress(),
                links.link());
    }

}
