package org.vl2.crypto;

import java.security.GeneralSecurityException;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * The AEADs of {@link CipherSuite} on byte arrays, for the handshake (ChaCha20-Poly1305, rare, so a Cipher per
 * call) and the tests' vectors. Sessions use their own per-thread Ciphers on the hot path.
 */
final class Aead {

    static final String TRANSFORMATION = CipherSuite.CHACHA20_POLY1305.transformation;
    static final int KEY_LENGTH = 32;
    static final int NONCE_LENGTH = 12;
    static final int TAG_LENGTH = 16;

    private Aead() {
    }

    /** ChaCha20-Poly1305: ciphertext | tag of {@code plaintext}. */
    static byte[] seal(byte[] key, byte[] nonce, byte[] ad, byte[] plaintext) {
        return seal(CipherSuite.CHACHA20_POLY1305, key, nonce, ad, plaintext);
    }

    /** ciphertext | tag of {@code plaintext}, with {@code suite}. */
    static byte[] seal(CipherSuite suite, byte[] key, byte[] nonce, byte[] ad, byte[] plaintext) {
        try {
            Cipher c = Cipher.getInstance(suite.transformation);
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, suite.keyAlgorithm), suite.nonceSpec(nonce));
            c.updateAAD(ad);
            return c.doFinal(plaintext);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(suite.displayName() + " failed to seal", e);
        }
    }

    /** ChaCha20-Poly1305: {@link #open(CipherSuite, byte[], byte[], byte[], byte[], int, int)}. */
    static byte[] open(byte[] key, byte[] nonce, byte[] ad, byte[] in, int off, int len) throws CryptoException {
        return open(CipherSuite.CHACHA20_POLY1305, key, nonce, ad, in, off, len);
    }

    /**
     * The plaintext of {@code in[off..off+len)} (ciphertext | tag), with {@code suite}.
     *
     * @throws CryptoException ({@link CryptoException.Reason#AUTH_FAILED}) if the tag does not verify: another
     *                         key, nonce or associated data, or modified bytes
     */
    static byte[] open(CipherSuite suite, byte[] key, byte[] nonce, byte[] ad, byte[] in, int off, int len)
            throws CryptoException {
        if (len < TAG_LENGTH) {
            throw new CryptoException(CryptoException.Reason.MALFORMED, "sealed field shorter than its tag");
        }
        try {
            Cipher c = Cipher.getInstance(suite.transformation);
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, suite.keyAlgorithm), suite.nonceSpec(nonce));
            c.updateAAD(ad);
            return c.doFinal(in, off, len);
        } catch (AEADBadTagException e) {
            throw new CryptoException(CryptoException.Reason.AUTH_FAILED, "tag mismatch", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(suite.displayName() + " failed to open", e);
        }
    }
}
