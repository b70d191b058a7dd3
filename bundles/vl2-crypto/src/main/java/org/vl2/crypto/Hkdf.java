package org.vl2.crypto;

import java.security.GeneralSecurityException;
import java.util.Arrays;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HKDF with HMAC-SHA256 (RFC 5869), built on the JDK's {@code Mac "HmacSHA256"}. The handshake's key schedule
 * (Noise's {@code HKDF(ck, ikm, n)}) is {@code expand(extract(ck, ikm), "", 32 n)}.
 */
public final class Hkdf {

    /** SHA-256's output length, the PRK's length. */
    public static final int HASH_LENGTH = 32;
    /** RFC 5869 2.3: L &lt;= 255 HashLen. */
    public static final int MAX_OUTPUT = 255 * HASH_LENGTH;

    private Hkdf() {
    }

    /**
     * HKDF-Extract(salt, IKM) = HMAC-SHA256(salt, IKM).
     *
     * @param salt null or empty = 32 zero bytes (RFC 5869 2.2)
     */
    public static byte[] extract(byte[] salt, byte[] ikm) {
        return extract(newMac(), salt, ikm);
    }

    /** {@link #extract(byte[], byte[])} on {@code mac} (an HmacSHA256 instance, re-initialised here). */
    static byte[] extract(Mac mac, byte[] salt, byte[] ikm) {
        init(mac, salt == null || salt.length == 0 ? new byte[HASH_LENGTH] : salt);
        mac.update(ikm);
        return mac.doFinal();
    }

    /**
     * HKDF-Expand(PRK, info, L): T(1) | T(2) | ... cut to {@code length} bytes, where
     * T(i) = HMAC-SHA256(PRK, T(i-1) | info | i).
     *
     * @param info null = empty
     * @throws IllegalArgumentException if length is negative or above {@link #MAX_OUTPUT}, or prk is empty
     */
    public static byte[] expand(byte[] prk, byte[] info, int length) {
        return expand(newMac(), prk, info, length);
    }

    /** {@link #expand(byte[], byte[], int)} on {@code mac} (an HmacSHA256 instance, re-initialised here). */
    static byte[] expand(Mac mac, byte[] prk, byte[] info, int length) {
        if (length < 0 || length > MAX_OUTPUT) {
            throw new IllegalArgumentException("HKDF-Expand length must be 0.." + MAX_OUTPUT + ", got " + length);
        }
        if (prk.length == 0) {
            throw new IllegalArgumentException("HKDF-Expand needs a non-empty PRK");
        }
        init(mac, prk);
        byte[] out = new byte[length];
        byte[] t = new byte[0];
        for (int i = 1, done = 0; done < length; i++) {
            mac.update(t);
            if (info != null) {
                mac.update(info);
            }
            mac.update((byte) i);
            t = mac.doFinal();
            int n = Math.min(HASH_LENGTH, length - done);
            System.arraycopy(t, 0, out, done, n);
            done += n;
        }
        Arrays.fill(t, (byte) 0);
        return out;
    }

    /** A Mac initialised with {@code key}, to be reused (doFinal resets it to that key). */
    static Mac mac(byte[] key) {
        Mac mac = newMac();
        init(mac, key);
        return mac;
    }

    /** An HmacSHA256 Mac without a key: one JCA look-up, for several keys in turn ({@link #init}). */
    static Mac newMac() {
        try {
            return Mac.getInstance("HmacSHA256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no HmacSHA256", e);
        }
    }

    private static void init(Mac mac, byte[] key) {
        try {
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 refused a " + key.length + "-byte key", e);
        }
    }
}
