package org.vl2.crypto;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.XECPrivateKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;

import javax.crypto.KeyAgreement;

/**
 * X25519 (RFC 7748) through the JDK's "XDH" provider, with keys as the RFC's 32-byte little-endian strings, which
 * is what travels on the wire and in identity files.
 */
final class X25519 {

    static final int KEY_LENGTH = 32;
    /** The field prime 2^255 - 19. */
    private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));

    private static final byte[] BASE_POINT = new byte[KEY_LENGTH];

    static {
        BASE_POINT[0] = 9;
    }

    private X25519() {
    }

    static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance("X25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no X25519 (Java 11+ always has)", e);
        }
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
        if (!canonical(peer, off)) {
            throw new CryptoException(CryptoException.Reason.BAD_KEY, "public key is not canonical (bit 255 set, or"
                    + " at or above 2^255 - 19)");
        }
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
