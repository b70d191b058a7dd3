package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.vl2.crypto.Fixtures.hex;
import static org.vl2.crypto.HandshakeTest.assertReason;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.vl2.crypto.CryptoException.Reason;

/**
 * AES-256-GCM: the test vectors of the GCM specification (McGrew and Viega, test cases 13-16, the AES-256 ones;
 * also in NIST's GCM validation vectors) through {@link Aead}, and every {@link SessionTest} with AES-256-GCM
 * sessions, plus the nonce: exactly 96 bits, 4 zero bytes and the 64-bit counter, never repeated under a key.
 */
class AesGcmSessionTest extends SessionTest {

    private static final byte[] K15 = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    private static final byte[] IV15 = hex("cafebabefacedbaddecaf888");
    private static final byte[] P16 = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
            + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    private static final byte[] A16 = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    private static final String C16 = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
            + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662";

    @Override
    CipherSuite suite() {
        return CipherSuite.AES_256_GCM;
    }

    @Test
    void gcmSpecTestCases13To16() throws CryptoException {
        CipherSuite aes = CipherSuite.AES_256_GCM;
        byte[] zeroKey = new byte[32];
        byte[] zeroIv = new byte[12];
        // 13: empty plaintext, no associated data: the tag alone
        assertEquals("530f8afbc74536b9a963b4f1c4cb738b", hex(Aead.seal(aes, zeroKey, zeroIv, new byte[0], new byte[0])));
        // 14: one zero block
        assertEquals("cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919",
                hex(Aead.seal(aes, zeroKey, zeroIv, new byte[0], new byte[16])));
        // 15: four blocks, no associated data
        byte[] p15 = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255");
        assertEquals(C16 + "898015ad" + "b094dac5d93471bdec1a502270e3cc6c",
                hex(Aead.seal(aes, K15, IV15, new byte[0], p15)));
        // 16: a partial last block and 20 bytes of associated data
        String sealed16 = C16 + "76fc6ece0f4e1768cddf8853bb2d551b";
        assertEquals(sealed16, hex(Aead.seal(aes, K15, IV15, A16, P16)));
        byte[] s = hex(sealed16);
        assertArrayEquals(P16, Aead.open(aes, K15, IV15, A16, s, 0, s.length));
    }

    @Test
    void gcmRefusesAnyFlippedBitOfCiphertextTagOrAad() {
        CipherSuite aes = CipherSuite.AES_256_GCM;
        byte[] sealed = hex(C16 + "76fc6ece0f4e1768cddf8853bb2d551b");
        for (int i = 0; i < sealed.length; i++) {
            byte[] bad = sealed.clone();
            bad[i] ^= (byte) (1 << (i % 8));
            assertReason(Reason.AUTH_FAILED, () -> Aead.open(aes, K15, IV15, A16, bad, 0, bad.length));
        }
        for (int i = 0; i < A16.length; i++) {
            byte[] aad = A16.clone();
            aad[i] ^= 0x01;
            assertReason(Reason.AUTH_FAILED, () -> Aead.open(aes, K15, IV15, aad, sealed, 0, sealed.length));
        }
        assertReason(Reason.MALFORMED, () -> Aead.open(aes, K15, IV15, A16, sealed, 0, 15));
    }

    /**
     * A session's nonce is 00 00 00 00 followed by the big-endian counter (the header's bytes 8..16): checked
     * against {@link Aead} with that nonce at counters 0, 1, 2^32 (where a 32-bit counter would wrap) and near the
     * 2^60 limit, in heap and direct buffers.
     */
    @Test
    void theNonceIsFourZeroBytesAndTheSixtyFourBitCounter() throws CryptoException {
        byte[] sendKey = new byte[32];
        Arrays.fill(sendKey, (byte) 0x42);
        Session s = new Session(true, CipherSuite.AES_256_GCM, 1, 2, sendKey.clone(), new byte[32], Fixtures.SWITCH.publicKey(),
                Session.Limits.DEFAULT);
        byte[] payload = "an Ethernet frame, or part of one".getBytes(StandardCharsets.US_ASCII);
        for (long first : new long[] {0, (1L << 32) - 1, Session.REJECT_AFTER_MESSAGES - 2}) {
            long counter = first;
            for (ByteBuffer buf : new ByteBuffer[] {ByteBuffer.allocate(128), ByteBuffer.allocateDirect(128)}) {
                s.skipTo(counter);
                Fixtures.frame(buf, 2, payload);
                int n = s.seal(buf, 0, 16, payload.length, System.nanoTime());
                byte[] header = new byte[16];
                buf.get(0, header);
                byte[] nonce = new byte[12];
                for (int i = 0; i < 8; i++) {
                    nonce[4 + i] = (byte) (counter >>> (56 - 8 * i));
                }
                assertArrayEquals(Arrays.copyOfRange(header, 8, 16), Arrays.copyOfRange(nonce, 4, 12));
                byte[] sealed = new byte[n - 16];
                buf.get(16, sealed);
                assertEquals(hex(Aead.seal(CipherSuite.AES_256_GCM, sendKey, nonce, header, payload)), hex(sealed),
                        "counter " + counter);
                counter++;
            }
        }
        assertReason(Reason.EXHAUSTED, () -> s.seal(Fixtures.frame(ByteBuffer.allocate(128), 2, payload), 0, 16,
                payload.length, System.nanoTime()), "no nonce at or beyond 2^60, far below GCM's 2^64 counter space");
        // a repeated counter (only skipTo can make one) is refused by the JDK too, as a last line
        s.skipTo(5);
        s.seal(Fixtures.frame(ByteBuffer.allocate(128), 2, payload), 0, 16, payload.length, System.nanoTime());
        s.skipTo(5);
        assertThrows(IllegalStateException.class, () -> s.seal(Fixtures.frame(ByteBuffer.allocate(128), 2, payload),
                0, 16, payload.length, System.nanoTime()));
    }
}
