package org.vl2.crypto;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.spec.AlgorithmParameterSpec;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;

/**
 * A session's AEAD on the JDK {@code Cipher} (ChaCha20-Poly1305; AES-256-GCM where {@link IntrinsicGcm} is off): per
 * thread, per suite and direction, {@link SessionAead#SLOTS} Ciphers, each made when first used. A Cipher keeps the
 * key schedule of the last key it was initialised with, and the JDK 17 redoes the AES one in plain Java whenever the
 * key changes (1.4-1.9 us warm, measured, more than the AES-GCM of a 1400-byte frame). Separate for sealing and
 * opening: the JDK refuses to initialise a ChaCha20 Cipher with the key and nonce of its previous initialisation (and
 * a GCM one for encryption), which a thread that seals for one side and opens for the other (a test, a loopback)
 * would otherwise do. What the JDK 17 allocates per message here: the nonce's parameter spec and its copy of the
 * nonce, and inside Cipher.init a copy of the key and the Poly1305 set-up (ChaCha20) or the GCM engine and GHASH
 * state (AES-GCM), and on opening its buffer of the whole ciphertext, held until the tag is verified.
 */
final class CipherAead extends SessionAead {

    private static final ThreadLocal<Cipher[]> CIPHERS = ThreadLocal.withInitial(
            () -> new Cipher[2 * CipherSuite.values().length * SLOTS]);
    private static final ThreadLocal<byte[]> NONCE = ThreadLocal.withInitial(() -> new byte[12]);
    /** Never a real nonce (counters stay below 2^60): re-initialises the open Cipher away from a failed nonce. */
    private static final byte[] RESET_NONCE = {0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1};

    CipherAead(CipherSuite suite, int slot, byte[] sendKey, byte[] receiveKey) {
        super(suite, slot, sendKey, receiveKey);
    }

    @Override
    void seal(byte[] a, int at, int headerLength, int payloadLength, long counter) {
        Cipher c = cipher(false);
        try {
            c.init(Cipher.ENCRYPT_MODE, sendKey, nonce(counter));
            c.updateAAD(a, at, headerLength);
            c.doFinal(a, at + headerLength, payloadLength, a, at + headerLength);
        } catch (GeneralSecurityException e) {
            // includes the JDK's refusal to reuse a key and nonce: a counter that repeated would be a bug here
            throw new IllegalStateException(suite.displayName() + " failed to seal", e);
        }
    }

    @Override
    boolean open(byte[] a, int at, int headerLength, int sealedLength, long counter) {
        Cipher c = cipher(true);
        try {
            AlgorithmParameterSpec nonce = nonce(counter);
            try {
                c.init(Cipher.DECRYPT_MODE, receiveKey, nonce);
            } catch (InvalidKeyException sameKeyAndNonce) {
                // ChaCha20: the last open on this thread used this key and counter and failed, or lost the race to
                // accept it (else the window would have rejected the counter): step away from it, then initialise again
                c.init(Cipher.DECRYPT_MODE, receiveKey, suite.nonceSpec(RESET_NONCE));
                c.init(Cipher.DECRYPT_MODE, receiveKey, nonce);
            }
            c.updateAAD(a, at, headerLength);
            c.doFinal(a, at + headerLength, sealedLength, a, at + headerLength);
            return true;
        } catch (AEADBadTagException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(suite.displayName() + " failed to open", e);
        }
    }

    @Override
    Object perThread(boolean open) {
        return cipher(open);
    }

    /** 4 zero bytes and the 8-byte counter: 96 bits, unique per key while counters stay below 2^60. */
    private AlgorithmParameterSpec nonce(long counter) {
        byte[] n = NONCE.get();
        for (int i = 0; i < 8; i++) {
            n[4 + i] = (byte) (counter >>> (56 - 8 * i));
        }
        return suite.nonceSpec(n); // copies the array
    }

    /** This thread's sealing or opening Cipher of this session's suite and slot. */
    private Cipher cipher(boolean open) {
        Cipher[] ciphers = CIPHERS.get();
        int i = (2 * suite.ordinal() + (open ? 1 : 0)) * SLOTS + slot;
        Cipher c = ciphers[i];
        if (c == null) {
            try {
                c = Cipher.getInstance(suite.transformation);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("this JDK has no " + suite.displayName() + " (Java 11+ has both)", e);
            }
            ciphers[i] = c;
        }
        return c;
    }
}
