package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.crypto.Fixtures.hex;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;

/**
 * AES-256-GCM on the JDK's intrinsics ({@link IntrinsicGcm}): the GCM specification's AES-256 test cases, and
 * thousands of random messages sealed and opened both here and by the JDK's {@code AES/GCM/NoPadding} Cipher (every
 * header and payload length class, offsets inside a larger array, nonces of both halves, alternating keys in one
 * engine), tampering anywhere refused with nothing decrypted. The build runs the JVM with {@link IntrinsicGcm#OPENS}
 * as bin/setenv does; a second run of the session tests turns this path off (vl2.crypto.aesgcm=cipher, see the pom).
 */
@DisabledIfSystemProperty(named = IntrinsicGcm.PROPERTY, matches = "cipher")
class IntrinsicGcmTest {

    private static final byte[] K15 = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");

    private static SecretKeySpec key(byte[] k) {
        return new SecretKeySpec(k, "AES");
    }

    @Test
    void availableWithTheBuildsJvmOption() {
        assertNull(IntrinsicGcm.unavailable(), "the build runs with " + IntrinsicGcm.OPENS);
        assertTrue(IntrinsicGcm.available());
        assertEquals("JDK intrinsics, one engine per key", Session.aesGcmImplementation());
    }

    @Test
    void gcmSpecTestCases13To16() {
        Object[] zero = IntrinsicGcm.keyed(IntrinsicGcm.engine(), key(new byte[32]));
        // 13: nothing at all, the tag alone
        byte[] m13 = new byte[16];
        IntrinsicGcm.seal(zero, 0, 0, m13, 0, 0, 0);
        assertEquals("530f8afbc74536b9a963b4f1c4cb738b", hex(m13));
        // 14: one zero block (another engine: one refuses to seal twice in a row under a nonce, as the JDK Cipher)
        assertThrows(IllegalStateException.class, () -> IntrinsicGcm.seal(zero, 0, 0, new byte[32], 0, 0, 16));
        byte[] m14 = new byte[32];
        IntrinsicGcm.seal(IntrinsicGcm.keyed(IntrinsicGcm.engine(), key(new byte[32])), 0, 0, m14, 0, 0, 16);
        assertEquals("cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919", hex(m14));
        // 16: 20 bytes of associated data, a partial last block; nonce cafebabe facedbaddecaf888
        Object[] k15 = IntrinsicGcm.keyed(IntrinsicGcm.engine(), key(K15));
        byte[] a16 = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        byte[] p16 = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
        byte[] m16 = new byte[a16.length + p16.length + 16];
        System.arraycopy(a16, 0, m16, 0, a16.length);
        System.arraycopy(p16, 0, m16, a16.length, p16.length);
        IntrinsicGcm.seal(k15, 0xcafebabe, 0xfacedbaddecaf888L, m16, 0, a16.length, p16.length);
        assertEquals(hex(a16) + "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" + "76fc6ece0f4e1768cddf8853bb2d551b",
                hex(m16));
        assertTrue(IntrinsicGcm.open(k15, 0xcafebabe, 0xfacedbaddecaf888L, m16, 0, a16.length, p16.length + 16));
        assertArrayEquals(p16, Arrays.copyOfRange(m16, a16.length, a16.length + p16.length));
    }

    @Test
    void sealsAndOpensAsTheJdkCipherDoes() throws Exception {
        SplittableRandom random = new SplittableRandom(20261206);
        byte[][] keys = new byte[3][32];
        SecretKeySpec[] specs = new SecretKeySpec[keys.length];
        for (int i = 0; i < keys.length; i++) {
            random.nextBytes(keys[i]);
            specs[i] = key(keys[i]);
        }
        Object[] engine = IntrinsicGcm.engine(); // one engine, keys alternating as in a shared slot
        Cipher jdk = Cipher.getInstance("AES/GCM/NoPadding");
        for (int n = 0; n < 3000; n++) {
            SecretKeySpec key = specs[random.nextInt(specs.length)];
            int headerLength = n % 7 == 0 ? random.nextInt(4) * 16 : random.nextInt(65);
            int length = n < 100 ? n : random.nextInt(2100);
            int at = random.nextInt(40);
            int nonceHigh = random.nextInt();
            long nonceLow = random.nextLong();
            byte[] nonce = new byte[12];
            ByteBuffer.wrap(nonce).putInt(nonceHigh).putLong(nonceLow);
            byte[] plain = new byte[at + headerLength + length + 16 + random.nextInt(8)];
            random.nextBytes(plain);

            byte[] ours = plain.clone();
            IntrinsicGcm.seal(IntrinsicGcm.keyed(engine, key), nonceHigh, nonceLow, ours, at, headerLength, length);
            byte[] theirs = plain.clone();
            jdk.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
            jdk.updateAAD(theirs, at, headerLength);
            jdk.doFinal(theirs, at + headerLength, length, theirs, at + headerLength);
            assertArrayEquals(theirs, ours, "header " + headerLength + ", payload " + length + " at " + at);

            // the JDK opens ours
            jdk.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, nonce));
            jdk.updateAAD(ours, at, headerLength);
            byte[] opened = jdk.doFinal(ours, at + headerLength, length + 16);
            assertArrayEquals(Arrays.copyOfRange(plain, at + headerLength, at + headerLength + length), opened);

            // ours opens the JDK's, in place
            assertTrue(IntrinsicGcm.open(IntrinsicGcm.keyed(engine, key), nonceHigh, nonceLow, theirs, at,
                    headerLength, length + 16));
            assertArrayEquals(Arrays.copyOfRange(plain, 0, at + headerLength + length),
                    Arrays.copyOfRange(theirs, 0, at + headerLength + length));

            // a flipped bit anywhere in header, ciphertext or tag, or another nonce, opens nothing and decrypts nothing
            byte[] tampered = ours.clone();
            int flip = at + random.nextInt(headerLength + length + 16);
            tampered[flip] ^= (byte) (1 << random.nextInt(8));
            byte[] before = tampered.clone();
            assertFalse(IntrinsicGcm.open(IntrinsicGcm.keyed(engine, key), nonceHigh, nonceLow, tampered, at,
                    headerLength, length + 16), "bit flipped at " + (flip - at));
            assertArrayEquals(before, tampered);
            assertFalse(IntrinsicGcm.open(IntrinsicGcm.keyed(engine, key), nonceHigh, nonceLow ^ 1, ours.clone(), at,
                    headerLength, length + 16));
        }
    }

    @Test
    void anotherKeyOpensNothing() {
        byte[] other = K15.clone();
        other[31] ^= 1;
        byte[] m = new byte[16 + 100 + 16];
        IntrinsicGcm.seal(IntrinsicGcm.keyed(IntrinsicGcm.engine(), key(K15)), 0, 7, m, 0, 16, 100);
        assertFalse(IntrinsicGcm.open(IntrinsicGcm.keyed(IntrinsicGcm.engine(), key(other)), 0, 7, m, 0, 16, 116));
        assertTrue(IntrinsicGcm.open(IntrinsicGcm.keyed(IntrinsicGcm.engine(), key(K15)), 0, 7, m, 0, 16, 116));
    }
}
