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
 * Pair keys in the encrypted codec, against a real session: the agent joins through its own handshake with a socket
 * of the test playing the switch (the responder's side of vl2-crypto), so the test holds the switch's session keys.
 * Every step is a direct call on the codec or the session (no agent threads): sealing a frame of a paired flow with
 * the pair's keys and the pair's index, the session path without a pair or when it expired, opening a frame under a
 * receive pair and refusing one of another flow, a PAIR under the session handed to the control thread and answered
 * by a sealed PAIR-ACK, and the JOIN's capability. Time is a {@link TestClock}; receives wait on the socket's timeout
 * only when something fails to arrive.
 */
class SealedCodecPairsTest extends SealedAgentHarness {

    // ---------------------------------------------------------------------------------------------------------
    // Sending

    @Test
    void aFrameOfAPairedFlowGoesOutSealedWithThePairUnderItsIndexAndOthersUnderTheSession() throws Exception {
        startEncrypted();
        byte[] paired = PairsTest.frame(Pair.UNTAGGED, A, B, 100);
        byte[] other = PairsTest.frame(Pair.UNTAGGED, A, C, 100);

        ByteBuffer before = encode(paired);
        assertEquals(switchKeys.localIndex(), SealedHeader.receiverIndex(before, 0), "no pair: the session");
        assertEquals(100, switchKeys.open(before, 0, SealedHeader.LENGTH, before.limit() - SealedHeader.LENGTH,
                clock.nanos()));

        assertEquals(Pair.TAKEN, session.pairs().take(pair(0x77, Pair.SEND, 1, 60, Pair.UNTAGGED, A, B),
                clock.nanos()));
        ByteBuffer d = encode(paired);
        assertEquals(Wire.FRAME, Wire.type(d));
        assertTrue(SealedHeader.isSealed(d, 0));
        assertEquals(0x77, SealedHeader.receiverIndex(d, 0), "the pair's index, for the switch to forward");
        assertEquals(SealedHeader.LENGTH + 100 + Session.TAG_LENGTH, d.limit());
        ByteBuffer copy = ByteBuffer.allocate(d.limit()).put(d.duplicate()).flip();
        Session receiver = peer(0x77, 1, 60);
        assertEquals(100, receiver.open(d, 0, SealedHeader.LENGTH, d.limit() - SealedHeader.LENGTH, clock.nanos()));
        assertArrayEquals(paired, Arrays.copyOfRange(d.array(), SealedHeader.LENGTH, SealedHeader.LENGTH + 100));
        assertFalse(opens(switchKeys, copy), "not under the session's keys");
        assertEquals(1, counters.pairSealed.get());

        ByteBuffer o = encode(other);
        assertEquals(switchKeys.localIndex(), SealedHeader.receiverIndex(o, 0), "another flow: the session");
        assertTrue(opens(switchKeys, o));
        assertEquals(1, counters.pairSealed.get());
    }

    @Test
    void aPairWhoseLifetimeIsOverIsDroppedAndItsFrameGoesOutUnderTheSession() throws Exception {
        startEncrypted();
        session.pairs().take(pair(0x78, Pair.SEND, 2, 1, 3, A, B), clock.nanos());
        byte[] tagged = PairsTest.frame(3, A, B, 80);
        assertEquals(0x78, SealedHeader.receiverIndex(encode(tagged), 0));

        clock.advance(1_000);
        ByteBuffer d = encode(tagged);
        assertNotNull(d, "nothing lost");
        assertEquals(switchKeys.localIndex(), SealedHeader.receiverIndex(d, 0));
        assertTrue(opens(switchKeys, d));
        assertEquals(0, session.pairs().sendCount(), "dropped by the send pump that found it expired");
        assertEquals(1, counters.pairSealed.get());
    }

    private static boolean opens(Session keys, ByteBuffer d) {
        try {
            keys.open(d, 0, SealedHeader.LENGTH, d.limit() - SealedHeader.LENGTH, System.nanoTime());
            return true;
        } catch (CryptoException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Receiving

    @Test
    void aFrameUnderAReceivePairOpensWithItsKeysAndIsNotTheSwitchsWord() throws Exception {
        startEncrypted();
        session.pairs().take(pair(0x99, Pair.RECEIVE, 3, 60, Pair.UNTAGGED, B, A), clock.nanos());
        Session sender = peer(0x99, 3, 60);
        byte[] frame = PairsTest.frame(Pair.UNTAGGED, B, A, 120);
        long authentic = session.authenticMessages();

        ByteBuffer slot = ByteBuffer.allocate(ROOM);
        assertEquals(120, decode(sealed(sender, 0x99, Wire.FRAME, frame, clock.nanos()), slot));
        assertEquals(SealedHeader.LENGTH, slot.position());
        assertEquals(SealedHeader.LENGTH + 120, slot.limit());
        assertArrayEquals(frame, Arrays.copyOfRange(slot.array(), SealedHeader.LENGTH, SealedHeader.LENGTH + 120));
        assertEquals(1, counters.pairOpened.get());
        assertEquals(authentic, session.authenticMessages(), "a pair's frame proves the peer, not the switch");
        assertEquals(0, counters.drops.get());
    }

    @Test
    void aFrameOfAnotherFlowUnderAPairIsDroppedAndCounted() throws Exception {
        startEncrypted();
        session.pairs().take(pair(0x9a, Pair.RECEIVE, 4, 60, 5, B, A), clock.nanos());
        Session sender = peer(0x9a, 4, 60);
        ByteBuffer slot = ByteBuffer.allocate(ROOM);

        assertEquals(-1, decode(sealed(sender, 0x9a, Wire.FRAME, PairsTest.frame(5, C, A, 64), clock.nanos()), slot));
        assertEquals(-1, decode(sealed(sender, 0x9a, Wire.FRAME, PairsTest.frame(6, B, A, 64), clock.nanos()), slot));
        assertEquals(-1, decode(sealed(sender, 0x9a, Wire.FRAME, PairsTest.frame(5, B, C, 64), clock.nanos()), slot));
        assertEquals(3, counters.pairMismatch.get());
        assertEquals(0, counters.pairOpened.get());
        assertEquals(3, counters.drops.get());

        assertEquals(-1, decode(sealed(sender, 0x9a, Wire.KEEPALIVE_ACK, new byte[8], clock.nanos()), slot));
        assertEquals(1, counters.malformed.get(), "a pair carries frames only");
        assertEquals(64, decode(sealed(sender, 0x9a, Wire.FRAME, PairsTest.frame(5, B, A, 64), clock.nanos()), slot),
                "its own flow still passes");

        // what the agent's counters() export (vl2:agent, /metrics)
        java.util.Map<String, Long> exported = new Diagnostics(settings, life, counters, tap, links, session)
                .exported();
        assertEquals(3L, exported.get(org.vl2.api.AgentService.DISCARDED_PREFIX + "pair_mismatch"));
        assertEquals(1L, exported.get(org.vl2.api.AgentService.PAIR_FRAMES_OPENED));
        assertEquals(1L, exported.get(org.vl2.api.AgentService.PAIRS_TAKEN));
        assertEquals(0L, exported.get(org.vl2.api.AgentService.PAIR_FRAMES_SEALED));
        assertEquals(1L, exported.get(org.vl2.api.AgentService.PAIRS_RECEIVING), "a gauge: the receive pair held");
        assertEquals(0L, exported.get(org.vl2.api.AgentService.PAIRS_SENDING));
    }

    @Test
    void anIndexOfNoSessionAndNoPairIsForeignAndAForgedPairFrameDoesNotOpen() throws Exception {
        startEncrypted();
        session.pairs().take(pair(0x9b, Pair.RECEIVE, 5, 60, Pair.UNTAGGED, B, A), clock.nanos());
        ByteBuffer slot = ByteBuffer.allocate(ROOM);
        byte[] frame = PairsTest.frame(Pair.UNTAGGED, B, A, 64);

        assertEquals(-1, decode(sealed(peer(0x9c, 5, 60), 0x9c, Wire.FRAME, frame, clock.nanos()), slot));
        assertEquals(1, counters.foreign.get());
        assertEquals(-1, decode(sealed(peer(0x9b, 6, 60), 0x9b, Wire.FRAME, frame, clock.nanos()), slot),
                "another key");
        assertEquals(1, counters.unopened.get());
        assertEquals(0, counters.pairOpened.get());
    }

    // ---------------------------------------------------------------------------------------------------------
    // PAIR and PAIR-ACK

    /** A PAIR from the switch, under the session's keys. */
    private ByteBuffer pairMessage(Pair p) throws CryptoException {
        ByteBuffer body = ByteBuffer.allocate(Pair.LENGTH);
        p.encode(body, 0);
        return sealed(switchKeys, switchKeys.remoteIndex(), Wire.PAIR, body.array(), clock.nanos());
    }

    /** The next PAIR-ACK, opened with the switch's keys: its body. */
    private ByteBuffer pairAck() throws IOException, CryptoException {
        ByteBuffer d = ByteBuffer.wrap(receive(Wire.PAIR_ACK));
        assertTrue(SealedHeader.isSealed(d, 0));
        assertEquals(switchKeys.localIndex(), SealedHeader.receiverIndex(d, 0));
        assertEquals(Pair.ACK_LENGTH, switchKeys.open(d, 0, SealedHeader.LENGTH, d.limit() - SealedHeader.LENGTH,
                clock.nanos()));
        return d;
    }

    @Test
    void aPairFromTheSwitchGoesToTheControlThreadWhichTakesItAndAnswersWithAPairAck() throws Exception {
        startEncrypted();
        ByteBuffer slot = ByteBuffer.allocate(ROOM);
        assertEquals(-1, decode(pairMessage(pair(0x1234, Pair.RECEIVE, 7, 60, Pair.UNTAGGED, B, A)), slot));
        assertTrue(session.hasMail(), "handed to the control thread");
        assertEquals(0, session.pairs().receiveCount(), "not taken on the receive pump");

        session.run(clock.millis());
        assertNotNull(session.pairs().receiving(0x1234));
        ByteBuffer ack = pairAck();
        assertEquals(0L, Pair.ackNetwork(ack, SealedHeader.LENGTH));
        assertEquals(0x1234, Pair.ackIndex(ack, SealedHeader.LENGTH));
        assertEquals(Pair.RECEIVE, Pair.ackRole(ack, SealedHeader.LENGTH));
        assertEquals(Pair.TAKEN, Pair.ackStatus(ack, SealedHeader.LENGTH));
        // the key it took opens the peer's frames
        byte[] frame = PairsTest.frame(Pair.UNTAGGED, B, A, 70);
        assertEquals(70, decode(sealed(peer(0x1234, 7, 60), 0x1234, Wire.FRAME, frame, clock.nanos()), slot));

        assertEquals(-1, decode(pairMessage(new Pair(0, 0x1235, Pair.SEND, 99, Pair.UNTAGGED, A, B, 60,
                PairsTest.key(8))), slot));
        session.run(clock.millis());
        ack = pairAck();
        assertEquals(0x1235, Pair.ackIndex(ack, SealedHeader.LENGTH));
        assertEquals(Pair.SEND, Pair.ackRole(ack, SealedHeader.LENGTH));
        assertEquals(Pair.REFUSED, Pair.ackStatus(ack, SealedHeader.LENGTH), "an AEAD the agent does not have");

        assertEquals(-1, decode(pairMessage(Pair.revoke(0, 0x1234, Pair.UNTAGGED, B, A)), slot));
        session.run(clock.millis());
        ack = pairAck();
        assertEquals(0x1234, Pair.ackIndex(ack, SealedHeader.LENGTH));
        assertEquals(Pair.REVOKE, Pair.ackRole(ack, SealedHeader.LENGTH));
        assertEquals(Pair.TAKEN, Pair.ackStatus(ack, SealedHeader.LENGTH));
        assertNull(session.pairs().receiving(0x1234));
        assertEquals(1, counters.pairsTaken.get());
        assertEquals(1, counters.pairsRefused.get());
        assertEquals(1, counters.pairsRevoked.get());
    }

    @Test
    void aFrameUnderAnIndexItHoldsNoPairForMakesTheAgentSaySoAtMostTenTimesASecond() throws Exception {
        startEncrypted();
        ByteBuffer slot = ByteBuffer.allocate(ROOM);
        byte[] frame = PairsTest.frame(Pair.UNTAGGED, B, A, 64);
        assertEquals(-1, decode(sealed(peer(0x77, 5, 60), 0x77, Wire.FRAME, frame, clock.nanos()), slot));
        assertTrue(session.hasMail(), "the word goes through the control thread");
        session.run(clock.millis());
        ByteBuffer ack = pairAck();
        assertEquals(0x77, Pair.ackIndex(ack, SealedHeader.LENGTH), "I hold no pair 0x77");
        assertEquals(Pair.REVOKE, Pair.ackRole(ack, SealedHeader.LENGTH));
        // the next one within 100 ms is only counted
        assertEquals(-1, decode(sealed(peer(0x78, 5, 60), 0x78, Wire.FRAME, frame, clock.nanos()), slot));
        assertFalse(session.hasMail());
        clock.advance(100);
        assertEquals(-1, decode(sealed(peer(0x78, 6, 60), 0x78, Wire.FRAME, frame, clock.nanos()), slot));
        assertTrue(session.hasMail());
        assertEquals(3, counters.foreign.get());
    }

    @Test
    void framesOnPairKeysDoNotHoldBackTheKeepaliveThatMovesThePort() throws Exception {
        startEncrypted();
        session.pairs().take(pair(0x44, Pair.SEND, 3, 600, Pair.UNTAGGED, A, B), clock.nanos());
        ByteBuffer slot = ByteBuffer.allocate(ROOM);
        long interval = session.joined().keepaliveMillis();
        for (int round = 0; round < 2; round++) {
            // the agent sends all the time, on the pair, and the switch was just heard (a KEEPALIVE-ACK under the
            // session): only frames under the session may hold back the keepalive
            for (int i = 0; i < 10; i++) {
                assertNotNull(encode(PairsTest.frame(Pair.UNTAGGED, A, B, 80)));
                counters.tapRxFrames.incrementAndGet(); // what the link counts for each frame it sent
            }
            clock.advance(interval);
            assertEquals(-1, decode(sealed(switchKeys, switchKeys.remoteIndex(), Wire.KEEPALIVE_ACK, new byte[8],
                    clock.nanos()), slot));
            session.run(clock.millis());
            byte[] keepalive = receive(Wire.KEEPALIVE);
            assertEquals(switchKeys.localIndex(), SealedHeader.receiverIndex(ByteBuffer.wrap(keepalive), 0),
                    "a KEEPALIVE under the session, after an interval of frames on the pair only");
        }
        assertEquals(20, counters.pairSealed.get());
    }

    @Test
    void anUnknownPortNamingASendPairSendsItsFlowThroughTheSessionAndAsksTheSwitch() throws Exception {
        startEncrypted();
        session.pairs().take(pair(0x55, Pair.SEND, 3, 600, Pair.UNTAGGED, A, B), clock.nanos());
        byte[] frame = PairsTest.frame(Pair.UNTAGGED, A, B, 80);
        assertEquals(0x55, SealedHeader.receiverIndex(encode(frame), 0), "on the pair");
        ByteBuffer slot = ByteBuffer.allocate(ROOM);
        ByteBuffer error = ByteBuffer.allocate(64);
        new org.vl2.protocol.ProtocolError(org.vl2.protocol.ErrorCode.UNKNOWN_PORT, 0x56, 0, "").encode(error, 64);
        assertEquals(-1, decode(error.flip(), slot));
        session.run(clock.millis());
        assertEquals(0x55, SealedHeader.receiverIndex(encode(frame), 0), "an index it never sent under: ignored");
        // a restarted switch answers the pair's frames first: the flow goes back to the session, and the switch is
        // asked under the session's keys
        error.clear();
        new org.vl2.protocol.ProtocolError(org.vl2.protocol.ErrorCode.UNKNOWN_PORT, 0x55, 0, "").encode(error, 64);
        assertEquals(-1, decode(error.flip(), slot));
        session.run(clock.millis());
        assertEquals(switchKeys.localIndex(), SealedHeader.receiverIndex(encode(frame), 0), "under the session now");
        byte[] asked = receive(Wire.KEEPALIVE);
        assertEquals(switchKeys.localIndex(), SealedHeader.receiverIndex(ByteBuffer.wrap(asked), 0));
    }

    @Test
    void aPairUnderAPairKeyOrOfAnotherNetworkOrMalformedIsNotTaken() throws Exception {
        startEncrypted();
        session.pairs().take(pair(0x2000, Pair.RECEIVE, 9, 60, Pair.UNTAGGED, B, A), clock.nanos());
        ByteBuffer slot = ByteBuffer.allocate(ROOM);
        ByteBuffer body = ByteBuffer.allocate(Pair.LENGTH);
        pair(0x2001, Pair.RECEIVE, 10, 60, Pair.UNTAGGED, C, A).encode(body, 0);

        // a peer holding a pair key must not hand out keys: only the switch's session may
        assertEquals(-1, decode(sealed(peer(0x2000, 9, 60), 0x2000, Wire.PAIR, body.array(), clock.nanos()), slot));
        assertEquals(1, counters.malformed.get());
        assertFalse(session.hasMail());

        byte[] shortBody = Arrays.copyOf(body.array(), Pair.LENGTH - 1);
        assertEquals(-1, decode(sealed(switchKeys, switchKeys.remoteIndex(), Wire.PAIR, shortBody, clock.nanos()),
                slot));
        assertEquals(2, counters.malformed.get(), "a PAIR that does not decode");
        assertFalse(session.hasMail());

        assertEquals(-1, decode(pairMessage(new Pair(0x42, 0x2002, Pair.RECEIVE, switchKeys.cipher().wireId(),
                Pair.UNTAGGED, C, A, 60, PairsTest.key(11))), slot));
        session.run(clock.millis());
        assertEquals(3, counters.malformed.get(), "another network's");
        assertNull(session.pairs().receiving(0x2002));
        assertNull(session.pairs().receiving(0x2001));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Losing the session, joining

    @Test
    void aNewJoinRoundDropsThePairsAndARekeyKeepsThem() throws Exception {
        startEncrypted();
        session.pairs().take(pair(0x3000, Pair.SEND, 12, 60, Pair.UNTAGGED, A, B), clock.nanos());
        session.pairs().take(pair(0x3001, Pair.RECEIVE, 13, 60, Pair.UNTAGGED, B, A), clock.nanos());

        session.startRekey(clock.millis());
        assertEquals(1, session.pairs().sendCount(), "a rekey of the same port");
        assertEquals(1, session.pairs().receiveCount());

        session.startJoin(clock.millis(), null);
        assertEquals(0, session.pairs().sendCount(), "the session is given up: the switch drops the port's pairs");
        assertEquals(0, session.pairs().receiveCount());
        byte[] frame = PairsTest.frame(Pair.UNTAGGED, A, B, 64);
        ByteBuffer d = encode(frame);
        assertNotEquals(0x3000, SealedHeader.receiverIndex(d, 0));
    }

    @Test
    void theJoinOffersToTakePairKeysWhenEncryptedWithPairsOn() throws Exception {
        startEncrypted();
        assertEquals(Join.CAP_PAIRS, join.capabilities() & Join.CAP_PAIRS);
    }

    @Test
    void theJoinDoesNotOfferPairKeysWithPairsOff() throws Exception {
        start(new TestConfig().switchKey(switchIdentity.fingerprint()).pairs(false));
        assertEquals(0, join.capabilities() & Join.CAP_PAIRS);
        // and a PAIR the switch sends anyway is refused, not taken
        ByteBuffer slot = ByteBuffer.allocate(ROOM);
        assertEquals(-1, decode(pairMessage(pair(0x4000, Pair.SEND, 14, 60, Pair.UNTAGGED, A, B)), slot));
        session.run(clock.millis());
        assertEquals(Pair.REFUSED, Pair.ackStatus(pairAck(), SealedHeader.LENGTH));
        assertEquals(0, session.pairs().sendCount());
    }

    @Test
    void aPlaintextJoinNeverOffersPairKeys() throws Exception {
        start(new TestConfig().plaintext());
        assertEquals(0, join.capabilities() & Join.CAP_PAIRS);
    }
}
