package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.crypto.Fixtures.AGENT;
import static org.vl2.crypto.Fixtures.SWITCH;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.vl2.crypto.CryptoException.Reason;

class HandshakeTest {

    private final TimestampGuard guard = new TimestampGuard();

    @Test
    void roundTripDeliversBothPayloadsAndIdentities() throws CryptoException {
        byte[] join = "network a1, name host-1".getBytes();
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 0xCAFE0001, join);
        assertEquals(Handshake.MIN_INITIATION_LENGTH, i.initiation().length, "padded to the minimum");
        assertEquals(Handshake.INITIATION, Handshake.type(ByteBuffer.wrap(i.initiation())));

        ByteBuffer datagram = ByteBuffer.wrap(i.initiation());
        Responder r = Responder.consume(SWITCH, datagram, guard);
        assertEquals(0, datagram.position(), "absolute reads");
        assertArrayEquals(AGENT.publicKey(), r.initiatorPublicKey());
        assertEquals(AGENT.memberId(), r.initiatorMemberId());
        assertArrayEquals(join, r.payload());
        assertEquals(0xCAFE0001, r.initiatorIndex());

        byte[] welcome = "port 7, 10.1.1.5/24".getBytes();
        Responder.Reply reply = r.respond(0xBEEF0002, welcome);
        assertEquals(Handshake.RESPONSE_OVERHEAD + welcome.length + 1, reply.response().length, "and the cipher choice");
        assertEquals(Handshake.RESPONSE, Handshake.type(ByteBuffer.wrap(reply.response())));
        assertEquals(0xCAFE0001, Handshake.receiverIndex(ByteBuffer.wrap(reply.response())));

        Initiator.Completion done = i.consume(ByteBuffer.wrap(reply.response()));
        assertArrayEquals(welcome, done.payload());

        Session agent = done.session();
        Session sw = reply.session();
        assertTrue(agent.isInitiator());
        assertFalse(sw.isInitiator());
        assertEquals(0xCAFE0001, agent.localIndex());
        assertEquals(0xBEEF0002, agent.remoteIndex());
        assertEquals(0xBEEF0002, sw.localIndex());
        assertEquals(0xCAFE0001, sw.remoteIndex());
        assertArrayEquals(SWITCH.publicKey(), agent.remotePublicKey());
        assertArrayEquals(AGENT.publicKey(), sw.remotePublicKey());
        assertEquals(AGENT.memberId(), sw.remoteMemberId());
        assertTrue(agent.isConfirmed());
        assertFalse(sw.isConfirmed(), "the responder waits for the initiator's first frame");

        assertSessionsMatch(agent, sw);
        assertTrue(sw.isConfirmed());
    }

    @Test
    void emptyAndLargestPayloads() throws CryptoException {
        // without an offer (as before negotiation) and with the largest this version makes
        for (List<CipherSuite> offer : List.of(List.<CipherSuite>of(), CipherPolicy.auto().offer())) {
            emptyAndLargestPayloads(offer);
        }
    }

    private static void emptyAndLargestPayloads(List<CipherSuite> offer) throws CryptoException {
        int extension = offer.isEmpty() ? 0 : 1 + offer.size();
        // 106 = 256 - 150: the largest payload (with the offer) of a minimum-length initiation
        for (int n : new int[] {0, 1, 105 - extension, 106 - extension, 107 - extension, 500,
                Handshake.MAX_PAYLOAD - extension}) {
            byte[] payload = new byte[n];
            Arrays.fill(payload, (byte) n);
            Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), n, payload, null, offer);
            byte[] initiation = i.initiation();
            assertEquals(Math.max(256, (Handshake.INITIATION_OVERHEAD + n + extension + 15) / 16 * 16),
                    initiation.length);
            assertTrue(initiation.length <= Handshake.MAX_INITIATION_LENGTH);
            assertEquals(0, initiation.length % 16);
            Responder r = Responder.consume(SWITCH, ByteBuffer.wrap(initiation), new TimestampGuard());
            assertArrayEquals(payload, r.payload());
            byte[] answer = new byte[r.maxResponsePayload()];
            Responder.Reply reply = r.respond(n + 1, answer);
            assertTrue(reply.response().length <= initiation.length, "no amplification");
            assertArrayEquals(answer, i.consume(ByteBuffer.wrap(reply.response())).payload());
        }
        assertThrows(IllegalArgumentException.class, () -> Initiator.create(AGENT, SWITCH.publicKey(), 1,
                new byte[Handshake.MAX_PAYLOAD - extension + 1], null, offer));
    }

    @Test
    void responseLargerThanTheInitiationIsRefused() throws CryptoException {
        Responder r = Responder.consume(SWITCH, ByteBuffer.wrap(initiation(1)), guard);
        assertEquals(Handshake.MIN_INITIATION_LENGTH - Handshake.RESPONSE_OVERHEAD - 1, r.maxResponsePayload(),
                "the cipher choice takes one byte");
        assertThrows(IllegalArgumentException.class, () -> r.respond(2, new byte[r.maxResponsePayload() + 1]));
        assertEquals(0, guard.size(), "a refused answer records nothing");
        r.respond(2, new byte[r.maxResponsePayload()]);
        assertThrows(IllegalStateException.class, () -> r.respond(3, new byte[0]), "one answer per initiation");
    }

    @Test
    void initiationForAnotherResponderKeyIsRejected() {
        Identity impostor = Identity.generate();
        // the agent pinned SWITCH; the datagram reaches another responder
        assertReason(Reason.BAD_MAC, () -> Responder.consume(impostor, ByteBuffer.wrap(initiation(1)), guard));
        // the agent pinned a wrong key; the real switch cannot use the initiation
        byte[] wrongPin = Initiator.create(AGENT, impostor.publicKey(), 1, new byte[0]).initiation();
        assertReason(Reason.BAD_MAC, () -> Responder.consume(SWITCH, ByteBuffer.wrap(wrongPin), guard));
        // even with a mac1 recomputed for SWITCH's key (anyone can: the key is public), es does not open
        int macAt = wrongPin.length - 32;
        System.arraycopy(Handshake.mac1(SWITCH.publicKey(), wrongPin, macAt), 0, wrongPin, macAt, 16);
        assertReason(Reason.AUTH_FAILED, () -> Responder.consume(SWITCH, ByteBuffer.wrap(wrongPin), guard));
    }

    @Test
    void responseFromAnImpostorIsRejected() throws CryptoException {
        // an impostor cannot read an initiation sealed to SWITCH's key; the best it can do is answer one sealed to
        // its own key: the agent that pinned SWITCH rejects that response
        Identity impostor = Identity.generate();
        Initiator toSwitch = Initiator.create(AGENT, SWITCH.publicKey(), 5, new byte[0]);
        Initiator toImpostor = Initiator.create(AGENT, impostor.publicKey(), 5, new byte[0]);
        byte[] forged = Responder.consume(impostor, ByteBuffer.wrap(toImpostor.initiation()), guard)
                .respond(6, new byte[0]).response();
        assertReason(Reason.AUTH_FAILED, () -> toSwitch.consume(ByteBuffer.wrap(forged)));
    }

    @Test
    void unauthorizedInitiatorIsVisibleBeforeAnyAnswer() throws CryptoException {
        Identity rogue = Identity.generate();
        Set<String> authorized = Set.of(AGENT.fingerprint());
        byte[] initiation = Initiator.create(rogue, SWITCH.publicKey(), 9, new byte[] {42}).initiation();
        Responder r = Responder.consume(SWITCH, ByteBuffer.wrap(initiation), guard);
        assertArrayEquals(rogue.publicKey(), r.initiatorPublicKey());
        assertEquals(rogue.memberId(), r.initiatorMemberId());
        assertFalse(authorized.contains(Identity.fingerprint(r.initiatorPublicKey())));
        // the switch does not respond: nothing is remembered for the rogue key
        assertEquals(0, guard.size());
    }

    @Test
    void replayedInitiationIsRejected() throws CryptoException {
        byte[] first = initiation(1);
        byte[] second = initiation(2);
        Responder.consume(SWITCH, ByteBuffer.wrap(first), guard).respond(10, new byte[0]);
        assertReason(Reason.REPLAYED, () -> Responder.consume(SWITCH, ByteBuffer.wrap(first), guard));
        Responder.consume(SWITCH, ByteBuffer.wrap(second), guard).respond(11, new byte[0]);
        assertReason(Reason.REPLAYED, () -> Responder.consume(SWITCH, ByteBuffer.wrap(second), guard));
        assertReason(Reason.REPLAYED, () -> Responder.consume(SWITCH, ByteBuffer.wrap(first), guard),
                "an older initiation after a newer one");
        assertEquals(1, guard.size());
        // forgetting the member (deauthorized) forgets its timestamp
        guard.forget(AGENT.publicKey());
        assertEquals(0, guard.size());
    }

    @Test
    void twoCopiesOfOneInitiationGetOneAnswer() throws CryptoException {
        byte[] initiation = initiation(1);
        Responder a = Responder.consume(SWITCH, ByteBuffer.wrap(initiation), guard);
        Responder b = Responder.consume(SWITCH, ByteBuffer.wrap(initiation), guard);
        a.respond(1, new byte[0]);
        assertReason(Reason.REPLAYED, () -> b.respond(2, new byte[0]));
    }

    @Test
    void timestampGuardIsPerInitiatorKey() throws CryptoException {
        Identity other = Identity.generate();
        Responder.consume(SWITCH, ByteBuffer.wrap(initiation(1)), guard).respond(1, new byte[0]);
        byte[] fromOther = Initiator.create(other, SWITCH.publicKey(), 2, new byte[0]).initiation();
        Responder.consume(SWITCH, ByteBuffer.wrap(fromOther), guard).respond(2, new byte[0]);
        assertEquals(2, guard.size());
    }

    @Test
    void aMembersRekeysUseTheStaticSecretTheGuardKeptAndWorkAsBefore() throws CryptoException {
        assertEquals(null, guard.staticSecret(SWITCH, AGENT.publicKey()), "nothing before the first answer");
        Responder.consume(SWITCH, ByteBuffer.wrap(initiation(1)), guard).respond(1, new byte[0]);
        byte[] ss = X25519.dh(SWITCH.privateKey(), AGENT.publicKey(), 0);
        assertArrayEquals(ss, guard.staticSecret(SWITCH, AGENT.publicKey()), "kept when answered");
        assertEquals(null, guard.staticSecret(Identity.generate(), AGENT.publicKey()), "only for that responder");
        for (int n = 2; n < 5; n++) { // rekeys with the kept ss: sessions that work
            Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), n, new byte[] {(byte) n});
            Responder.Reply reply = Responder.consume(SWITCH, ByteBuffer.wrap(i.initiation()), guard)
                    .respond(n, new byte[] {1});
            assertSessionsMatch(i.consume(ByteBuffer.wrap(reply.response())).session(), reply.session());
        }
        // it is used: a wrong ss in the guard (never there in practice) fails the body's tag
        byte[] wrong = ss.clone();
        wrong[0] ^= 1;
        guard.forget(AGENT.publicKey());
        assertTrue(guard.record(AGENT.publicKey(), new byte[12], SWITCH, wrong));
        assertReason(Reason.AUTH_FAILED, () -> Responder.consume(SWITCH, ByteBuffer.wrap(initiation(9)), guard));
        guard.forget(AGENT.publicKey());
        assertEquals(null, guard.staticSecret(SWITCH, AGENT.publicKey()), "forgotten with the member");
        Responder.consume(SWITCH, ByteBuffer.wrap(initiation(10)), guard).respond(10, new byte[0]);
        assertArrayEquals(ss, guard.staticSecret(SWITCH, AGENT.publicKey()), "computed again");
    }

    @Test
    void aGuardSharedByTwoResponderIdentitiesNeverMixesTheirStaticSecrets() throws CryptoException {
        Identity second = Identity.generate();
        for (int n = 1; n < 5; n++) {
            Identity to = n % 2 == 0 ? SWITCH : second;
            Initiator i = Initiator.create(AGENT, to.publicKey(), n, new byte[0]);
            Responder.Reply reply = Responder.consume(to, ByteBuffer.wrap(i.initiation()), guard)
                    .respond(n, new byte[0]);
            assertSessionsMatch(i.consume(ByteBuffer.wrap(reply.response())).session(), reply.session());
        }
    }

    @Test
    void timestampGuardStaysWithinItsCapacity() throws CryptoException {
        TimestampGuard small = new TimestampGuard(2);
        for (int n = 0; n < 5; n++) {
            byte[] initiation = Initiator.create(Identity.generate(), SWITCH.publicKey(), n, new byte[0]).initiation();
            Responder.consume(SWITCH, ByteBuffer.wrap(initiation), small).respond(n, new byte[0]);
            assertTrue(small.size() <= 2);
        }
        assertThrows(IllegalArgumentException.class, () -> new TimestampGuard(0));
    }

    @Test
    void anyFlippedBitInTheInitiationBeforeMac2IsRejected() throws CryptoException {
        byte[] good = initiation(1);
        int mac2At = good.length - 16;
        for (int at = 0; at < mac2At; at++) {
            byte[] bad = good.clone();
            bad[at] ^= (byte) (1 << (at % 8));
            int index = at;
            assertThrows(CryptoException.class, () -> Responder.consume(SWITCH, ByteBuffer.wrap(bad), guard),
                    "flip at " + index);
        }
        // mac2 is the CookieChecker's (CookieTest): the responder ignores it, whatever it holds
        for (int at = mac2At; at < good.length; at++) {
            byte[] other = good.clone();
            other[at] ^= (byte) (1 << (at % 8));
            Responder.consume(SWITCH, ByteBuffer.wrap(other), guard);
        }
    }

    @Test
    void anyFlippedBitInTheInitiationIsRejectedEvenWithMac1Recomputed() {
        // mac1 is keyed with the responder's public key, which an attacker knows: the AEADs and the transcript
        // hash must catch every modified byte on their own
        byte[] good = initiation(1);
        int macAt = good.length - 32;
        for (int at = 0; at < macAt; at++) {
            byte[] bad = good.clone();
            bad[at] ^= (byte) (0x80 >>> (at % 8));
            System.arraycopy(Handshake.mac1(SWITCH.publicKey(), bad, macAt), 0, bad, macAt, 16);
            int index = at;
            CryptoException e = assertThrows(CryptoException.class,
                    () -> Responder.consume(SWITCH, ByteBuffer.wrap(bad), guard), "flip at " + index);
            assertNotEquals(Reason.BAD_MAC, e.reason());
        }
    }

    @Test
    void anyFlippedBitInTheResponseIsRejectedAndTheHandshakeSurvives() throws CryptoException {
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 77, new byte[0]);
        byte[] response = Responder.consume(SWITCH, ByteBuffer.wrap(i.initiation()), guard)
                .respond(78, "welcome".getBytes()).response();
        for (int at = 0; at < response.length; at++) {
            byte[] bad = response.clone();
            bad[at] ^= (byte) (1 << (at % 8));
            int index = at;
            assertThrows(CryptoException.class, () -> i.consume(ByteBuffer.wrap(bad)), "flip at " + index);
        }
        // forged responses did not disturb the pending handshake
        Initiator.Completion done = i.consume(ByteBuffer.wrap(response));
        assertArrayEquals("welcome".getBytes(), done.payload());
        assertReason(Reason.REPLAYED, () -> i.consume(ByteBuffer.wrap(response)), "a replayed response");
    }

    @Test
    void responseToAnotherHandshakeIsRejected() throws CryptoException {
        Initiator mine = Initiator.create(AGENT, SWITCH.publicKey(), 100, new byte[0]);
        Initiator other = Initiator.create(AGENT, SWITCH.publicKey(), 200, new byte[0]);
        byte[] toOther = Responder.consume(SWITCH, ByteBuffer.wrap(other.initiation()), guard)
                .respond(1, new byte[0]).response();
        assertReason(Reason.UNKNOWN_RECEIVER, () -> mine.consume(ByteBuffer.wrap(toOther)));
        // the same receiver index cannot help: the response is bound to the other initiation's ephemeral key
        Initiator sameIndex = Initiator.create(AGENT, SWITCH.publicKey(), 200, new byte[0]);
        assertReason(Reason.AUTH_FAILED, () -> sameIndex.consume(ByteBuffer.wrap(toOther)));
        other.consume(ByteBuffer.wrap(toOther));
    }

    @Test
    void wrongTypeAndLengthAreMalformed() throws CryptoException {
        byte[] initiation = initiation(1);
        Responder.Reply reply = Responder.consume(SWITCH, ByteBuffer.wrap(initiation(2)), new TimestampGuard())
                .respond(1, new byte[0]);
        byte[] response = reply.response();
        // a response given to the responder, an initiation given to the initiator
        assertReason(Reason.MALFORMED, () -> Responder.consume(SWITCH, ByteBuffer.wrap(response), guard));
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 1, new byte[0]);
        assertReason(Reason.MALFORMED, () -> i.consume(ByteBuffer.wrap(initiation)));
        assertReason(Reason.MALFORMED, () -> Handshake.receiverIndex(ByteBuffer.wrap(initiation)));
        // truncated, extended
        assertReason(Reason.MALFORMED,
                () -> Responder.consume(SWITCH, ByteBuffer.wrap(Arrays.copyOf(initiation, 255)), guard));
        assertReason(Reason.MALFORMED, () -> Responder.consume(SWITCH,
                ByteBuffer.wrap(Arrays.copyOf(initiation, Handshake.MAX_INITIATION_LENGTH + 1)), guard));
        assertReason(Reason.MALFORMED, () -> i.consume(ByteBuffer.wrap(Arrays.copyOf(response, 61))));
        // another type in an otherwise valid initiation
        byte[] typed = initiation.clone();
        typed[2] = 3;
        assertReason(Reason.MALFORMED, () -> Responder.consume(SWITCH, ByteBuffer.wrap(typed), guard));
        assertEquals(-1, Handshake.type(ByteBuffer.wrap(typed)));
        typed[2] = 11;
        assertEquals(-1, Handshake.type(ByteBuffer.wrap(typed)), "11-15 are still reserved");
        assertEquals(-1, Handshake.type(ByteBuffer.wrap(new byte[3])));
    }

    @Test
    void initiationAtAnOffsetInALargerBuffer() throws CryptoException {
        byte[] initiation = initiation(1);
        ByteBuffer direct = ByteBuffer.allocateDirect(2000);
        direct.position(100);
        direct.put(initiation);
        direct.limit(100 + initiation.length).position(100);
        Responder r = Responder.consume(SWITCH, direct, guard);
        assertEquals(100, direct.position());
        assertArrayEquals(AGENT.publicKey(), r.initiatorPublicKey());
    }

    @Test
    void badResponderKeysAreConfigurationErrors() {
        assertThrows(IllegalArgumentException.class, () -> Initiator.create(AGENT, new byte[31], 1, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> Initiator.create(AGENT, new byte[32], 1, new byte[0]),
                "the zero point");
    }

    @Test
    void sessionsOfTwoHandshakesDoNotOpenEachOthersFrames() throws CryptoException {
        Fixtures.Pair a = Fixtures.handshake();
        Fixtures.Pair b = Fixtures.handshake();
        ByteBuffer buf = Fixtures.frame(ByteBuffer.allocate(100), 1, new byte[20]);
        int n = a.agent().seal(buf, 0, 16, 20, System.nanoTime());
        assertReason(Reason.AUTH_FAILED, () -> b.sw().open(buf, 0, 16, n - 16, System.nanoTime()));
    }

    private static byte[] initiation(int senderIndex) {
        return Initiator.create(AGENT, SWITCH.publicKey(), senderIndex, "join".getBytes()).initiation();
    }

    /** Frames sealed on either side open on the other, heap and direct, both directions. */
    static void assertSessionsMatch(Session agent, Session sw) throws CryptoException {
        for (Session[] dir : new Session[][] {{agent, sw}, {sw, agent}}) {
            for (ByteBuffer buf : new ByteBuffer[] {ByteBuffer.allocate(1600), ByteBuffer.allocateDirect(1600)}) {
                byte[] payload = new byte[1400];
                for (int k = 0; k < payload.length; k++) {
                    payload[k] = (byte) (k * 7);
                }
                Fixtures.frame(buf, dir[0].remoteIndex(), payload);
                int sealed = dir[0].seal(buf, 0, 16, payload.length, System.nanoTime());
                byte[] ciphertext = new byte[payload.length];
                buf.get(16, ciphertext);
                assertFalse(Arrays.equals(payload, ciphertext));
                assertEquals(payload.length, dir[1].open(buf, 0, 16, sealed - 16, System.nanoTime()));
                byte[] opened = new byte[payload.length];
                buf.get(16, opened);
                assertArrayEquals(payload, opened);
            }
        }
    }

    interface Call {
        void run() throws Exception;
    }

    static void assertReason(Reason expected, Call call) {
        assertReason(expected, call, null);
    }

    static void assertReason(Reason expected, Call call, String what) {
        CryptoException e = assertThrows(CryptoException.class, call::run, what);
        assertEquals(expected, e.reason(), () -> (what == null ? "" : what + ": ") + e.getMessage());
    }
}
