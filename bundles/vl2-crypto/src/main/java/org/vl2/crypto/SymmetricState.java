package org.vl2.crypto;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

import javax.crypto.Mac;

/**
 * Noise's symmetric state for the handshake: the chaining key {@code ck} (every Diffie-Hellman result goes in
 * through HKDF) and the transcript hash {@code h} (every byte sent goes in, and is the associated data of each
 * AEAD, so that any modified byte fails the next tag). SHA-256, HKDF-SHA256, ChaCha20-Poly1305 with nonce 0:
 * each key from {@link #mixKey} seals exactly one field.
 */
final class SymmetricState {

    /** Names the construction; hashed into ck and h first, so no other protocol's transcript can match ours. */
    static final byte[] CONSTRUCTION = "vl2 Noise_IK_25519_ChaChaPoly_SHA256 v1".getBytes(StandardCharsets.US_ASCII);
    static final byte[] IDENTIFIER = "vl2 private network handshake, docs/crypto.md"
            .getBytes(StandardCharsets.US_ASCII);

    private static final byte[] ZERO_NONCE = new byte[Aead.NONCE_LENGTH];

    private byte[] ck;
    private byte[] h;
    /** One JCA look-up each per handshake, not one per hash or HKDF (a handshake does about twenty). */
    private final MessageDigest digest = sha256();
    private final Mac hmac = Hkdf.newMac();

    private SymmetricState(byte[] ck, byte[] h) {
        this.ck = ck;
        this.h = h;
    }

    /** ck = HASH(CONSTRUCTION); h = HASH(HASH(ck | IDENTIFIER) | responder's static public key). */
    static SymmetricState start(byte[] responderStatic) {
        byte[] ck = hash(CONSTRUCTION);
        SymmetricState s = new SymmetricState(ck, hash(ck, IDENTIFIER));
        s.mixHash(responderStatic, 0, responderStatic.length);
        return s;
    }

    SymmetricState copy() {
        return new SymmetricState(ck.clone(), h.clone());
    }

    /** h = HASH(h | data[off..off+len)). */
    void mixHash(byte[] data, int off, int len) {
        digest.update(h);
        digest.update(data, off, len);
        h = digest.digest();
    }

    /** ck = HKDF(ck, ikm, 1): what WireGuard does with the ephemeral keys and ee. */
    void mixChain(byte[] ikm) {
        byte[] out = kdf(ikm, 1);
        Arrays.fill(ck, (byte) 0);
        ck = out;
    }

    /** (ck, k) = HKDF(ck, ikm, 2); returns k. Wipes ikm (a Diffie-Hellman result). */
    byte[] mixKey(byte[] ikm) {
        byte[] out = kdf(ikm, 2);
        Arrays.fill(ck, (byte) 0);
        ck = Arrays.copyOfRange(out, 0, 32);
        byte[] k = Arrays.copyOfRange(out, 32, 64);
        Arrays.fill(out, (byte) 0);
        Arrays.fill(ikm, (byte) 0);
        return k;
    }

    /** c = AEAD(k, 0, plaintext, ad = h); h = HASH(h | c). */
    byte[] encryptAndHash(byte[] k, byte[] plaintext) {
        byte[] c = Aead.seal(k, ZERO_NONCE, h, plaintext);
        Arrays.fill(k, (byte) 0);
        mixHash(c, 0, c.length);
        return c;
    }

    /** The plaintext of msg[off..off+len), authenticated with ad = h; then h = HASH(h | that field). */
    byte[] decryptAndHash(byte[] k, byte[] msg, int off, int len) throws CryptoException {
        try {
            byte[] p = Aead.open(k, ZERO_NONCE, h, msg, off, len);
            mixHash(msg, off, len);
            return p;
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    /**
     * Noise's Split(): (k1, k2) = HKDF(ck, "", 2) for ChaCha20-Poly1305 (as before negotiation), HKDF(ck,
     * "vl2 transport " + suite name, 2) for another suite, so that a key never serves two algorithms and two
     * sides that disagreed on the suite could not even open each other's frames. The initiator sends with k1, the
     * responder with k2.
     */
    byte[][] split(CipherSuite suite) {
        byte[] ikm = suite == CipherSuite.CHACHA20_POLY1305 ? new byte[0]
                : ("vl2 transport " + suite.configName()).getBytes(StandardCharsets.US_ASCII);
        byte[] out = kdf(ikm, 2);
        byte[][] keys = {Arrays.copyOfRange(out, 0, 32), Arrays.copyOfRange(out, 32, 64)};
        Arrays.fill(out, (byte) 0);
        wipe();
        return keys;
    }

    void wipe() {
        Arrays.fill(ck, (byte) 0);
        Arrays.fill(h, (byte) 0);
    }

    private byte[] kdf(byte[] ikm, int outputs) {
        byte[] prk = Hkdf.extract(hmac, ck, ikm);
        byte[] out = Hkdf.expand(hmac, prk, null, 32 * outputs);
        Arrays.fill(prk, (byte) 0);
        return out;
    }

    static byte[] hash(byte[]... parts) {
        MessageDigest d = sha256();
        for (byte[] p : parts) {
            d.update(p);
        }
        return d.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }
}
