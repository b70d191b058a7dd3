package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.crypto.CipherSuite.AES_256_GCM;
import static org.vl2.crypto.CipherSuite.CHACHA20_POLY1305;
import static org.vl2.crypto.Fixtures.AGENT;
import static org.vl2.crypto.Fixtures.SWITCH;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.vl2.crypto.CryptoException.Reason;

/** Cipher negotiation in the handshake (docs/crypto.md, "Cipher negotiation"): policy, matrix, binding, compatibility. */
class CipherNegotiationTest {

    private static final byte[] JOIN = "the JOIN".getBytes();
    private static final byte[] WELCOME = "the WELCOME".getBytes();

    private static final CipherPolicy AUTO_AES_NI = CipherPolicy.of(null, true);
    private static final CipherPolicy AUTO_SOFTWARE = CipherPolicy.of(null, false);
    private static final CipherPolicy PIN_AES = CipherPolicy.of(AES_256_GCM, true);
    private static final CipherPolicy PIN_CHACHA = CipherPolicy.of(CHACHA20_POLY1305, true);

    @Test
    void configurationValues() {
        assertNull(CipherPolicy.parse("auto").pinned());
        assertNull(CipherPolicy.parse("").pinned());
        assertNull(CipherPolicy.parse(null).pinned());
        assertEquals(AES_256_GCM, CipherPolicy.parse(" AES-256-GCM ").pinned());
        assertEquals(CHACHA20_POLY1305, CipherPolicy.parse("chacha20-poly1305").pinned());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CipherPolicy.parse("aes128"));
        assertEquals("cipher 'aes128' is not auto, aes-256-gcm or chacha20-poly1305", e.getMessage());
        assertEquals("aes-256-gcm", CipherPolicy.parse("aes-256-gcm").configValue());
        assertEquals("auto", CipherPolicy.parse("AUTO").configValue());
    }

    @Test
    void autoRanksAesFirstOnlyWithAesInstructions() {
        assertEquals(List.of(AES_256_GCM, CHACHA20_POLY1305), AUTO_AES_NI.offer());
        assertEquals(List.of(CHACHA20_POLY1305, AES_256_GCM), AUTO_SOFTWARE.offer());
        assertEquals(List.of(AES_256_GCM), PIN_AES.offer());
        assertEquals(List.of(CHACHA20_POLY1305), CipherPolicy.of(CHACHA20_POLY1305, false).offer());
        assertTrue(AUTO_AES_NI.describe().startsWith("auto (prefers aes-256-gcm"));
        assertEquals("aes-256-gcm (pinned)", PIN_AES.describe());
    }

    @Test
    void hardwareAesFromCpuinfo() {
        List<String> x86 = List.of("processor\t: 0", "vendor_id\t: GenuineIntel",
                "flags\t\t: fpu vme sse2 ssse3 pclmulqdq aes avx avx2", "bugs\t\t: spectre_v1");
        assertTrue(HardwareAes.fromCpuinfo("amd64", x86));
        assertTrue(HardwareAes.fromCpuinfo("x86_64", x86));
        assertFalse(HardwareAes.fromCpuinfo("amd64", List.of("flags\t\t: fpu vme sse2 vaes_like aesx")),
                "whole flags only");
        assertFalse(HardwareAes.fromCpuinfo("amd64", List.of()), "no /proc/cpuinfo");
        assertTrue(HardwareAes.fromCpuinfo("aarch64", List.of("Features\t: fp asimd evtstrm aes pmull sha1 sha2")));
        assertFalse(HardwareAes.fromCpuinfo("aarch64", List.of("Features\t: fp asimd evtstrm crc32")));
        assertFalse(HardwareAes.fromCpuinfo("riscv64", x86), "another architecture: not assumed");
    }

    /** Every pair of policies: the suite both sessions use, or null where the handshake is refused. */
    @Test
    void negotiationMatrix() throws CryptoException {
        CipherPolicy[] sides = {AUTO_AES_NI, AUTO_SOFTWARE, PIN_AES, PIN_CHACHA};
        CipherSuite[][] expected = {
                // switch: auto (AES-NI), auto (software), aes pinned, chacha pinned        agent:
                {AES_256_GCM, CHACHA20_POLY1305, AES_256_GCM, CHACHA20_POLY1305},        // auto (AES-NI)
                {CHACHA20_POLY1305, CHACHA20_POLY1305, AES_256_GCM, CHACHA20_POLY1305},  // auto (software)
                {AES_256_GCM, AES_256_GCM, AES_256_GCM, null},                           // aes pinned
                {CHACHA20_POLY1305, CHACHA20_POLY1305, null, CHACHA20_POLY1305},         // chacha pinned
        };
        for (int a = 0; a < sides.length; a++) {
            for (int s = 0; s < sides.length; s++) {
                String what = "agent " + sides[a].describe() + ", switch " + sides[s].describe();
                Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 10 * a + s + 1, JOIN, null, sides[a].offer());
                Responder r = Responder.consume(SWITCH, ByteBuffer.wrap(i.initiation()), new TimestampGuard());
                assertEquals(sides[a].offer(), r.offer(), what);
                assertTrue(r.offered());
                CipherSuite chosen = r.choose(sides[s]);
                assertEquals(expected[a][s], chosen, what);
                if (chosen == null) {
                    continue; // refused: the switch answers an ERROR naming both sides' ciphers
                }
                Responder.Reply reply = r.respond(99, WELCOME, Session.Limits.DEFAULT, chosen);
                Initiator.Completion done = i.consume(ByteBuffer.wrap(reply.response()));
                assertArrayEquals(WELCOME, done.payload(), what);
                assertEquals(chosen, done.session().cipher(), what);
                assertEquals(chosen, reply.session().cipher(), what);
                HandshakeTest.assertSessionsMatch(done.session(), reply.session());
            }
        }
    }

    @Test
    void theResponderCannotChooseWhatWasNotOffered() throws CryptoException {
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 1, JOIN, null, List.of(CHACHA20_POLY1305));
        Responder r = Responder.consume(SWITCH, ByteBuffer.wrap(i.initiation()), new TimestampGuard());
        assertThrows(IllegalArgumentException.class, () -> r.respond(2, WELCOME, Session.Limits.DEFAULT, AES_256_GCM));
        assertThrows(IllegalArgumentException.class, () -> Initiator.create(AGENT, SWITCH.publicKey(), 1, JOIN, null,
                List.of(AES_256_GCM, AES_256_GCM)));
    }

    /** An agent from before negotiation offers nothing: it gets ChaCha20-Poly1305 and a response it understands. */
    @Test
    void anOldInitiatorGetsChaChaOrARefusal() throws CryptoException {
        Initiator old = Initiator.create(AGENT, SWITCH.publicKey(), 7, JOIN, null, List.of());
        Responder r = Responder.consume(SWITCH, ByteBuffer.wrap(old.initiation()), new TimestampGuard());
        assertFalse(r.offered());
        assertEquals(List.of(), r.offer());
        assertEquals(CHACHA20_POLY1305, r.choose(AUTO_AES_NI));
        assertEquals(CHACHA20_POLY1305, r.choose(PIN_CHACHA));
        assertNull(r.choose(PIN_AES), "a switch pinned to AES-256-GCM refuses it");
        assertThrows(IllegalArgumentException.class, () -> r.respond(8, WELCOME, Session.Limits.DEFAULT, AES_256_GCM));
        Responder.Reply reply = r.respond(8, WELCOME, Session.Limits.DEFAULT, CHACHA20_POLY1305);
        assertEquals(Handshake.RESPONSE_OVERHEAD + WELCOME.length, reply.response().length,
                "no choice byte: exactly the response an old agent expects");
        Initiator.Completion done = old.consume(ByteBuffer.wrap(reply.response()));
        assertEquals(CHACHA20_POLY1305, done.session().cipher());
        HandshakeTest.assertSessionsMatch(done.session(), reply.session());
    }

    /** A switch from before negotiation ignores the offer (padding to it) and answers without a choice: ChaCha20. */
    @Test
    void anOldResponderGivesChaChaOrAClearMismatch() throws CryptoException {
        Initiator both = Initiator.create(AGENT, SWITCH.publicKey(), 3, JOIN, null, AUTO_AES_NI.offer());
        Responder.Reply reply = Responder.consume(SWITCH, ByteBuffer.wrap(both.initiation()), new TimestampGuard())
                .respondAsBeforeNegotiation(4, WELCOME);
        Initiator.Completion done = both.consume(ByteBuffer.wrap(reply.response()));
        assertEquals(CHACHA20_POLY1305, done.session().cipher());
        HandshakeTest.assertSessionsMatch(done.session(), reply.session());

        Initiator aesOnly = Initiator.create(AGENT, SWITCH.publicKey(), 5, JOIN, null, PIN_AES.offer());
        byte[] response = Responder.consume(SWITCH, ByteBuffer.wrap(aesOnly.initiation()), new TimestampGuard())
                .respondAsBeforeNegotiation(6, WELCOME).response();
        CryptoException e = assertThrows(CryptoException.class, () -> aesOnly.consume(ByteBuffer.wrap(response)));
        assertEquals(Reason.CIPHER_MISMATCH, e.reason());
        assertTrue(e.getMessage().contains("chacha20-poly1305") && e.getMessage().contains("aes-256-gcm"),
                e.getMessage());
    }

    /**
     * Downgrade: the offer is sealed inside the initiation's body and hashed into the transcript, the choice inside
     * the response's. A man in the middle who changes any bit of them (to strip AES-256-GCM or ChaCha20-Poly1305
     * from the offer, or to change the choice) fails the handshake, even when it recomputes mac1.
     */
    @Test
    void aTamperedOfferOrChoiceFailsTheHandshake() throws CryptoException {
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 11, JOIN, null, AUTO_AES_NI.offer());
        byte[] initiation = i.initiation();
        int offerAt = Handshake.I_BODY + Handshake.I_BODY_PREFIX + JOIN.length; // count, then the suite ids
        for (int at = offerAt; at <= offerAt + 2; at++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] tampered = initiation.clone();
                tampered[at] ^= (byte) (1 << bit);
                recomputeMac1(tampered);
                CryptoException e = assertThrows(CryptoException.class, () -> Responder.consume(SWITCH,
                        ByteBuffer.wrap(tampered), new TimestampGuard()));
                assertEquals(Reason.AUTH_FAILED, e.reason());
            }
        }
        Responder r = Responder.consume(SWITCH, ByteBuffer.wrap(initiation), new TimestampGuard());
        byte[] response = r.respond(12, WELCOME, Session.Limits.DEFAULT, AES_256_GCM).response();
        int choiceAt = response.length - Handshake.TAG_LENGTH - 1;
        for (int bit = 0; bit < 8; bit++) {
            byte[] tampered = response.clone();
            tampered[choiceAt] ^= (byte) (1 << bit);
            CryptoException e = assertThrows(CryptoException.class, () -> i.consume(ByteBuffer.wrap(tampered)));
            assertEquals(Reason.AUTH_FAILED, e.reason());
        }
        assertEquals(AES_256_GCM, i.consume(ByteBuffer.wrap(response)).session().cipher(), "the original still works");
    }

    /** The transport keys depend on the suite: one key never serves two algorithms. */
    @Test
    void transportKeysDependOnTheSuite() {
        SymmetricState s = SymmetricState.start(SWITCH.publicKey());
        s.mixChain(new byte[32]);
        byte[][] chacha = s.copy().split(CHACHA20_POLY1305);
        byte[][] aes = s.copy().split(AES_256_GCM);
        assertNotEquals(Fixtures.hex(chacha[0]), Fixtures.hex(aes[0]));
        assertNotEquals(Fixtures.hex(chacha[1]), Fixtures.hex(aes[1]));
    }

    @Test
    void offerParsing() throws CryptoException {
        // body: 3 bytes of payload, then the offer, then padding
        assertNull(Responder.parseOffer(new byte[] {9, 9, 9, 0, 0, 0}, 3), "zero padding: no offer (an old agent)");
        assertNull(Responder.parseOffer(new byte[] {9, 9, 9}, 3), "no room: no offer");
        assertEquals(List.of(AES_256_GCM, CHACHA20_POLY1305), Responder.parseOffer(new byte[] {9, 9, 9, 2, 2, 1, 0}, 3));
        // a later version's offer: unknown ids are skipped, duplicates dropped
        assertEquals(List.of(CHACHA20_POLY1305), Responder.parseOffer(new byte[] {9, 9, 9, 3, 77, 1, 1}, 3));
        assertEquals(List.of(), Responder.parseOffer(new byte[] {9, 9, 9, 1, 77}, 3), "unknown only: a mismatch");
        for (byte[] bad : new byte[][] {{9, 9, 9, 3, 1, 2}, {9, 9, 9, 9, 1, 2, 1, 2, 1, 2, 1, 2, 1}}) {
            assertEquals(Reason.MALFORMED, assertThrows(CryptoException.class, () -> Responder.parseOffer(bad, 3))
                    .reason());
        }
    }

    private static void recomputeMac1(byte[] msg) {
        int at = Handshake.mac1Offset(msg.length);
        System.arraycopy(Handshake.mac1(SWITCH.publicKey(), msg, at), 0, msg, at, Handshake.MAC_LENGTH);
    }
}
