package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.crypto.CipherPolicy;
import org.vl2.crypto.CipherSuite;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Initiator;
import org.vl2.crypto.Session;
import org.vl2.ipam.Ipv4Pool;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.Join;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.Wire;

/** The switch's {@code cipher} setting in handshakes (docs/crypto.md, "Cipher negotiation"). */
class CipherNegotiationSwitchTest {

    private static final long PUB = 0xa1L;
    private static final long PRIV = 0xb2L;
    private static final List<CipherSuite> AES_ONLY = List.of(CipherSuite.AES_256_GCM);
    private static final List<CipherSuite> CHACHA_ONLY = List.of(CipherSuite.CHACHA20_POLY1305);
    private static final List<CipherSuite> OLD_AGENT = List.of();

    @TempDir
    Path stateDir;

    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final Identity switchIdentity = Identity.generate();
    private final Identity alice = Identity.generate();
    private final Identity mallory = Identity.generate();
    private final FakeTransport vl2 = new FakeTransport("vl2", "vl2");
    private final SocketAddress from = TestFrames.endpoint(40001);
    private SwitchCore sw;
    private Initiator initiator;
    private int index = 0x100;

    private void start(String cipher) throws Exception {
        sw = new SwitchCore(new FakeMacTable(), Fakes.cipher(cipher), clock::get, false, stateDir, switchIdentity);
        sw.bindPolicy(new LearningPolicy());
        sw.attach(vl2);
        sw.bindNetwork(new NetworkDefinition(Vl2ProtocolTest.network(PUB, "10.1.0.0/24", null).withPlaintext(false)));
        sw.bindNetwork(new NetworkDefinition(new NetworkSettings(PRIV, "secret", 1400, null,
                Ipv4Pool.parse("10.2.0.0/24", null), null, true, Duration.ofHours(1), null, List.of(), true,
                Set.of(Identity.fingerprint(alice.publicKey())), HygieneSettings.DEFAULTS)));
    }

    @AfterEach
    void stop() {
        if (sw != null) {
            sw.deactivate();
        }
    }

    /** One handshake offering {@code offer}; the switch's answer. */
    private byte[] handshake(Identity who, long network, List<CipherSuite> offer) {
        ByteBuffer join = ByteBuffer.allocate(64);
        new Join(network, who.memberId(), 99, 1518, 0, null, "agent").encode(join);
        initiator = Initiator.create(who, switchIdentity.publicKey(), index++, join.array(), null, offer);
        vl2.clear();
        vl2.inject(from, ByteBuffer.wrap(initiator.initiation()));
        byte[] answer = vl2.last(from);
        assertNotNull(answer, "an answer");
        return answer;
    }

    /** The session of a handshake the switch answered; a sealed keepalive then gets a sealed ack under it. */
    private Session session(byte[] answer) throws Exception {
        assertEquals(Handshake.RESPONSE, answer[2], "a RESPONSE");
        Session s = initiator.consume(ByteBuffer.wrap(answer)).session();
        ByteBuffer k = ByteBuffer.allocate(40);
        k.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) Wire.KEEPALIVE)
                .put(3, (byte) Wire.FLAG_SEALED).putInt(4, s.remoteIndex()).putLong(16, 7);
        s.seal(k, 0, 16, 8, System.nanoTime());
        vl2.clear();
        vl2.inject(from, k);
        byte[] ack = vl2.last(from);
        assertNotNull(ack, "a sealed KEEPALIVE-ACK");
        ByteBuffer b = ByteBuffer.wrap(ack);
        assertEquals(8, s.open(b, 0, 16, ack.length - 16, System.nanoTime()));
        assertEquals(7, b.getLong(16));
        return s;
    }

    private static ProtocolError error(byte[] answer) throws Exception {
        return ProtocolError.decode(ByteBuffer.wrap(answer));
    }

    @Test
    void autoMeetsEveryOfferAndTheSessionUsesTheChoice() throws Exception {
        start("auto");
        List<CipherSuite> both = CipherPolicy.auto().offer();
        assertEquals(CipherPolicy.auto().choose(both), session(handshake(alice, PUB, both)).cipher());
        assertEquals(CipherSuite.AES_256_GCM, session(handshake(alice, PUB, AES_ONLY)).cipher());
        assertEquals(CipherSuite.CHACHA20_POLY1305, session(handshake(alice, PUB, CHACHA_ONLY)).cipher());
        assertEquals(List.of(CipherSuite.CHACHA20_POLY1305.displayName()),
                sw.members(PUB).stream().map(m -> m.cipher()).toList(), "vl2:members shows the session's cipher");
        byte[] old = handshake(alice, PUB, OLD_AGENT);
        assertEquals(Handshake.RESPONSE_OVERHEAD + Wire.WELCOME_LENGTH, old.length, "an old agent's response");
        assertEquals(CipherSuite.CHACHA20_POLY1305, session(old).cipher());
    }

    @Test
    void aPinnedSwitchRefusesTheOtherCipherNamingItsSetting() throws Exception {
        start("chacha20-poly1305");
        long bad = sw.statistics().badSession();
        ProtocolError e = error(handshake(alice, PUB, AES_ONLY));
        assertEquals(ErrorCode.CIPHER_MISMATCH, e.code());
        assertEquals("the switch accepts chacha20-poly1305 only (its cipher setting)", e.message());
        assertEquals(bad + 1, sw.statistics().badSession(), "counted");
        assertTrue(sw.ports().isEmpty(), "no port, no lease");
        error(handshake(alice, PUB, AES_ONLY));
        assertEquals(bad + 2, sw.statistics().badSession(), "every refusal counted (logged once)");
        assertEquals(CipherSuite.CHACHA20_POLY1305,
                session(handshake(alice, PUB, CipherPolicy.auto().offer())).cipher(), "auto agents still join");
    }

    @Test
    void aSwitchPinnedToAesTellsAnOldAgentWithACodeItKnows() throws Exception {
        start("aes-256-gcm");
        assertEquals(CipherSuite.AES_256_GCM, session(handshake(alice, PUB, CipherPolicy.auto().offer())).cipher());
        ProtocolError e = error(handshake(alice, PUB, OLD_AGENT));
        assertEquals(ErrorCode.BAD_REQUEST, e.code(), "an agent from before negotiation knows no cipher-mismatch");
        assertTrue(e.message().contains("aes-256-gcm") && e.message().contains("chacha20-poly1305"), e.message());
    }

    @Test
    void anUnauthorizedMemberLearnsNothingOfTheSetting() throws Exception {
        start("aes-256-gcm");
        ProtocolError e = error(handshake(mallory, PRIV, CHACHA_ONLY));
        assertEquals(ErrorCode.NOT_AUTHORIZED, e.code());
        assertEquals(ErrorCode.CIPHER_MISMATCH, error(handshake(alice, PRIV, CHACHA_ONLY)).code());
    }

    @Test
    void aBadSettingIsRefusedNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Settings.from(Fakes.cipher("aes")));
        assertEquals("Invalid configuration org.vl2.switching: cipher='aes' (must be auto, aes-256-gcm or"
                + " chacha20-poly1305)", e.getMessage());
    }
}
