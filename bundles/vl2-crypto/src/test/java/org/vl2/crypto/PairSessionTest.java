package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** Session.pair: the keys the switch hands two members for one flow (docs/crypto.md, "Pair keys"). */
class PairSessionTest {

    private static byte[] key(int seed) {
        byte[] k = new byte[32];
        Arrays.fill(k, (byte) seed);
        return k;
    }

    @Test
    void senderAndReceiverOfOnePairRoundTripInBothSuitesAndRefuseReplays() throws CryptoException {
        for (CipherSuite suite : CipherSuite.values()) {
            long now = System.nanoTime();
            Session sender = Session.pair(suite, 0x1234, key(7), Duration.ofSeconds(120), now);
            Session receiver = Session.pair(suite, 0x1234, key(7), Duration.ofSeconds(120), now);
            assertEquals(0x1234, sender.localIndex());
            assertEquals(0x1234, sender.remoteIndex());
            assertTrue(sender.toString().startsWith("Session[pair, "), sender.toString());
            byte[] payload = "a frame of one flow".getBytes();
            for (int i = 0; i < 3; i++) {
                ByteBuffer buf = Fixtures.frame(ByteBuffer.allocate(256), 0x1234, payload);
                int sealed = sender.seal(buf, 0, 16, payload.length, now);
                ByteBuffer copy = ByteBuffer.allocate(256).put(buf.duplicate().position(0).limit(sealed)).clear();
                assertEquals(payload.length, receiver.open(buf, 0, 16, sealed - 16, now));
                byte[] out = new byte[payload.length];
                buf.get(16, out);
                assertArrayEquals(payload, out);
                CryptoException replay = assertThrows(CryptoException.class,
                        () -> receiver.open(copy, 0, 16, sealed - 16, System.nanoTime()));
                assertEquals(CryptoException.Reason.REPLAYED, replay.reason());
            }
        }
    }

    @Test
    void replyKeysAreTheSameAtBothEndsAndNotThePairKey() throws CryptoException {
        for (CipherSuite suite : CipherSuite.values()) {
            long now = System.nanoTime();
            Session receiverReplies = Session.pairReplies(suite, 0x77, key(9), Duration.ofSeconds(120), now);
            Session senderReplies = Session.pairReplies(suite, 0x77, key(9), Duration.ofSeconds(120), now);
            Session pairKey = Session.pair(suite, 0x77, key(9), Duration.ofSeconds(120), now);
            byte[] payload = "probe-ack".getBytes();
            ByteBuffer buf = Fixtures.frame(ByteBuffer.allocate(128), 0x77, payload);
            int sealed = receiverReplies.seal(buf, 0, 16, payload.length, now);
            ByteBuffer copy = ByteBuffer.allocate(128).put(buf.duplicate().position(0).limit(sealed)).clear();
            assertEquals(payload.length, senderReplies.open(buf, 0, 16, sealed - 16, now));
            // under the pair key itself it does not open: the receiver's counters never meet the sender's
            assertThrows(CryptoException.class, () -> pairKey.open(copy, 0, 16, sealed - 16, now));
        }
        byte[] k = key(3);
        Session.pairReplies(CipherSuite.AES_256_GCM, 1, k, Duration.ofSeconds(1), System.nanoTime());
        assertArrayEquals(new byte[32], k, "the key passed in is zeroed");
    }

    @Test
    void anotherKeyDoesNotOpenAndTheKeyPassedInIsZeroed() throws CryptoException {
        long now = System.nanoTime();
        byte[] k = key(7);
        Session sender = Session.pair(CipherSuite.AES_256_GCM, 9, k, Duration.ofSeconds(60), now);
        assertArrayEquals(new byte[32], k, "the caller's copy of the key is wiped");
        Session stranger = Session.pair(CipherSuite.AES_256_GCM, 9, key(8), Duration.ofSeconds(60), now);
        ByteBuffer buf = Fixtures.frame(ByteBuffer.allocate(128), 9, new byte[40]);
        int sealed = sender.seal(buf, 0, 16, 40, now);
        assertEquals(CryptoException.Reason.AUTH_FAILED,
                assertThrows(CryptoException.class, () -> stranger.open(buf, 0, 16, sealed - 16, now)).reason());
    }

    @Test
    void aPairEndsWithItsLifetime() throws CryptoException {
        long now = System.nanoTime();
        Session p = Session.pair(CipherSuite.CHACHA20_POLY1305, 9, key(1), Duration.ofSeconds(30), now);
        ByteBuffer buf = Fixtures.frame(ByteBuffer.allocate(128), 9, new byte[8]);
        p.seal(buf, 0, 16, 8, now + Duration.ofSeconds(29).toNanos());
        assertTrue(p.isExpired(now + Duration.ofSeconds(30).toNanos()));
        assertEquals(CryptoException.Reason.EXPIRED, assertThrows(CryptoException.class,
                () -> p.seal(Fixtures.frame(ByteBuffer.allocate(128), 9, new byte[8]), 0, 16, 8,
                        now + Duration.ofSeconds(30).toNanos())).reason());
        assertThrows(IllegalArgumentException.class,
                () -> Session.pair(CipherSuite.AES_256_GCM, 9, new byte[16], Duration.ofSeconds(30), now));
        assertThrows(IllegalArgumentException.class,
                () -> Session.pair(CipherSuite.AES_256_GCM, 9, key(1), Duration.ZERO, now));
    }
}
