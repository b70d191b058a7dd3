package org.vl2.crypto;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.Arrays;
import java.security.interfaces.XECPrivateKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;

import javax.crypto.KeyAgreement;

/**
 * X25519 (RFC 7748), with keys as the RFC's 32-byte little-endian strings, which is what travels on the wire and in
 * identity files; keys held as the JDK's {@code XEC} key objects. The scalar multiplications run in
 * {@link FastX25519} when Bouncy Castle is there and agrees with the JDK on a known answer at class load (system
 * property {@value #ENGINE_PROPERTY}=jdk turns it off), else in the JDK's "XDH" provider.
 */
final class X25519 {

    static final String ENGINE_PROPERTY = "vl2.crypto.x25519";

    static final int KEY_LENGTH = 32;
    /** The field prime 2^255 - 19. */
    private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));

    private static final byte[] BASE_POINT = new byte[KEY_LENGTH];

    static {
        BASE_POINT[0] = 9;
    }

    /** Whether {@link FastX25519} does the arithmetic. */
    static final boolean FAST = fastAvailable();
    private static final SecureRandom RANDOM = new SecureRandom();

    private X25519() {
    }

    /** "bouncycastle" or "jdk": what {@link #FAST} says, for the startup line. */
    static String engine() {
        return FAST ? "bouncycastle" : "jdk";
    }

    /** Bouncy Castle loads and gives the JDK's answer for one scalar and point (else: the JDK, not a wrong key). */
    private static boolean fastAvailable() {
        if ("jdk".equalsIgnoreCase(System.getProperty(ENGINE_PROPERTY, ""))) {
            return false;
        }
        try {
            byte[] k = new byte[KEY_LENGTH];
            for (int i = 0; i < KEY_LENGTH; i++) {
                k[i] = (byte) (0x5A ^ i * 7);
            }
            byte[] pub = new byte[KEY_LENGTH];
            FastX25519.publicKey(k, pub);
            byte[] shared = new byte[KEY_LENGTH];
            return FastX25519.agreement(k, pub, 0, shared)
                    && Arrays.equals(pub, jdkDh(privateKey(k), BASE_POINT, 0))
                    && Arrays.equals(shared, jdkDh(privateKey(k), pub, 0));
        } catch (LinkageError | CryptoException | RuntimeException e) {
            return false;
        }
    }

    static KeyPair generate() {
        if (FAST) {
            byte[] k = new byte[KEY_LENGTH];
            RANDOM.nextBytes(k);
            byte[] pub = new byte[KEY_LENGTH];
            FastX25519.publicKey(k, pub);
            PrivateKey priv = privateKey(k);
            Arrays.fill(k, (byte) 0);
            return new KeyPair(publicKeyObject(pub), priv);
        }
        try {
            return KeyPairGenerator.getInstance("X25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no X25519 (Java 11+ always has)", e);
        }
    }

    /**
     * A new private key as its RFC 7748 scalar: 32 random bytes (X25519 clamps them itself, RFC 7748 5), for an
     * ephemeral key that never needs the JDK's key objects (the responder's: {@link #publicKeyOf(byte[])},
     * {@link #dh(byte[], byte[], int)}). The caller wipes it.
     */
    static byte[] newScalar() {
        byte[] k = new byte[KEY_LENGTH];
        RANDOM.nextBytes(k);
        return k;
    }

    /** X25519(scalar, 9): the public key of a private scalar. */
    static byte[] publicKeyOf(byte[] scalar) {
        if (FAST) {
            byte[] pub = new byte[KEY_LENGTH];
            FastX25519.publicKey(scalar, pub);
            return pub;
        }
        return publicKeyOf(privateKey(scalar));
    }

    /** The 32-byte public key of a key pair the JDK generated. */
    static byte[] publicKey(KeyPair pair) {
        BigInteger u = ((XECPublicKey) pair.getPublic()).getU();
        byte[] be = u.toByteArray(); // big-endian, maybe with a sign byte, maybe shorter than 32
        byte[] le = new byte[KEY_LENGTH];
        for (int i = 0; i < KEY_LENGTH && i < be.length; i++) {
            le[i] = be[be.length - 1 - i];
        }
        return le;
    }

    /** The 32-byte private scalar as RFC 7748 encodes it (the identity file's content). */
    static byte[] privateBytes(PrivateKey key) {
        return ((XECPrivateKey) key).getScalar()
                .orElseThrow(() -> new IllegalStateException("private key without an exportable scalar"));
    }

    static PrivateKey privateKey(byte[] scalar) {
        if (scalar.length != KEY_LENGTH) {
            throw new IllegalArgumentException("an X25519 private key is 32 bytes, got " + scalar.length);
        }
        try {
            return KeyFactory.getInstance("XDH")
                    .generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK refused a 32-byte X25519 scalar", e);
        }
    }

    private static PublicKey publicKeyObject(byte[] le) {
        byte[] be = new byte[KEY_LENGTH];
        for (int i = 0; i < KEY_LENGTH; i++) {
            be[i] = le[KEY_LENGTH - 1 - i];
        }
        try {
            return KeyFactory.getInstance("XDH")
                    .generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, be)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK refused an X25519 public key", e);
        }
    }

    /** X25519(private, 9): the public key that belongs to a private key. */
    static byte[] publicKeyOf(PrivateKey key) {
        try {
            return dh(key, BASE_POINT, 0);
        } catch (CryptoException e) {
            throw new IllegalStateException("the base point cannot have small order", e);
        }
    }

    /**
     * Whether peer[off..off+32) is the one encoding of its point: bit 255 clear and the value below p. RFC 7748
     * masks bit 255 and reduces modulo p, so without this check two byte strings (different fingerprints and member
     * ids) would be one key: a member could appear under two identities, and a key deauthorized by its fingerprint
     * come back under the other.
     */
    static boolean canonical(byte[] peer, int off) {
        if ((peer[off + KEY_LENGTH - 1] & 0x80) != 0) {
            return false;
        }
        byte[] be = new byte[KEY_LENGTH];
        for (int i = 0; i < KEY_LENGTH; i++) {
            be[i] = peer[off + KEY_LENGTH - 1 - i];
        }
        return new BigInteger(1, be).compareTo(P) < 0;
    }

    /**
     * X25519(private, peer[off..off+32)): the shared secret.
     *
     * @throws CryptoException ({@link CryptoException.Reason#BAD_KEY}) if the peer's key is a low-order point,
     *                         so the result would be all zeros and say nothing about the key holders, or not
     *                         canonical ({@link #canonical})
     */
    static byte[] dh(PrivateKey key, byte[] peer, int off) throws CryptoException {
        requireCanonical(peer, off);
        return FAST ? fastDh(key, peer, off) : jdkDh(key, peer, off);
    }

    /** {@link #dh(PrivateKey, byte[], int)} with the private key as its 32-byte scalar ({@link #newScalar}). */
    static byte[] dh(byte[] scalar, byte[] peer, int off) throws CryptoException {
        requireCanonical(peer, off);
        return FAST ? fastDh(scalar, peer, off) : jdkDh(privateKey(scalar), peer, off);
    }

    private static void requireCanonical(byte[] peer, int off) throws CryptoException {
        if (!canonical(peer, off)) {
            throw new CryptoException(CryptoException.Reason.BAD_KEY, "public key is not canonical (bit 255 set, or"
                    + " at or above 2^255 - 19)");
        }
    }

    /** {@link #dh} in {@link FastX25519}; peer canonical. */
    static byte[] fastDh(PrivateKey key, byte[] peer, int off) throws CryptoException {
        byte[] k = privateBytes(key);
        try {
            return fastDh(k, peer, off);
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    /** X25519 in {@link FastX25519}; peer canonical. */
    private static byte[] fastDh(byte[] k, byte[] peer, int off) throws CryptoException {
        byte[] shared = new byte[KEY_LENGTH];
        if (!FastX25519.agreement(k, peer, off, shared)) {
            throw new CryptoException(CryptoException.Reason.BAD_KEY, "public key is a low-order point");
        }
        return shared;
    }

    /** {@link #dh} in the JDK's provider; peer canonical. */
    static byte[] jdkDh(PrivateKey key, byte[] peer, int off) throws CryptoException {
        byte[] be = new byte[KEY_LENGTH];
        for (int i = 0; i < KEY_LENGTH; i++) {
            be[i] = peer[off + KEY_LENGTH - 1 - i];
        }
        try {
            KeyAgreement ka = KeyAgreement.getInstance("XDH");
            ka.init(key);
            ka.doPhase(KeyFactory.getInstance("XDH")
                    .generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, be).mod(P))),
                    true);
            return ka.generateSecret();
        } catch (InvalidKeyException e) {
            // the JDK's check for an all-zero result ("Point has small order")
            throw new CryptoException(CryptoException.Reason.BAD_KEY, "public key is a low-order point", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("X25519 failed on a 32-byte key", e);
        }
    }
}
