package org.vl2.crypto;

import java.security.GeneralSecurityException;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * ChaCha20-Poly1305 (RFC 8439) on byte arrays, for the handshake (rare, so a Cipher per call). Sessions use
 * their own per-thread Ciphers on the hot path.
 */
final class Aead {

    static final String TRANSFORMATION = "ChaCha20-Poly1305";
    static final int KEY_LENGTH = 32;
    static final int NONCE_LENGTH = 12;
    static final int TAG_LENGTH = 16;

    private Aead() {
    }

    /** ciphertext | tag of {@code plaintext}. */
    static byte[] seal(byte[] key, byte[] nonce, byte[] ad, byte[] plaintext) {
        try {
            Cipher c = Cipher.getInstance(TRANSFORMATION);
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "ChaCha20"), new IvParameterSpec(nonce));
            c.updateAAD(ad);
            return c.doFinal(plaintext);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 failed to seal", e);
        }
    }

    /**
     * The plaintext of {@code in[off..off+len)} (ciphertext | tag).
     *
     * @throws CryptoException ({@link CryptoException.Reason#AUTH_FAILED}) if the tag does not verify: another
     *                         key, nonce or associated data, or modified bytes
     */
    static byte[] open(byte[] key, byte[] nonce, byte[] ad, byte[] in, int off, int len) throws CryptoException {
        if (len < TAG_LENGTH) {
            throw new CryptoException(CryptoException.Reason.MALFORMED, "sealed field shorter than its tag");
        }
        try {
            Cipher c = Cipher.getInstance(TRANSFORMATION);
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "ChaCha20"), new IvParameterSpec(nonce));
            c.updateAAD(ad);
            return c.doFinal(in, off, len);
        } catch (AEADBadTagException e) {
            throw new CryptoException(CryptoException.Reason.AUTH_FAILED, "tag mismatch", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 failed to open", e);
        }
    }
}
