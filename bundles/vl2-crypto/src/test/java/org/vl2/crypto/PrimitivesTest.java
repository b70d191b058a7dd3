package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.vl2.crypto.Fixtures.hex;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The JDK primitives as this bundle calls them, against the RFCs' vectors. */
class PrimitivesTest {

    /** RFC 8439 2.8.2. */
    private static final byte[] KEY = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    private static final byte[] NONCE = hex("070000004041424344454647");
    private static final byte[] AAD = hex("50515253c0c1c2c3c4c5c6c7");
    private static final byte[] PLAINTEXT = ("Ladies and Gentlemen of the class of '99: If I could offer you only one tip"
            + " for the future, sunscreen would be it.").getBytes(StandardCharsets.US_ASCII);
    private static final String CIPHERTEXT = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
            + "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
            + "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
            + "3ff4def08e4b7a9de576d26586cec64b6116";
    private static final String TAG = "1ae10b594f09e26a7e902ecbd0600691";

    @Test
    void chacha20Poly1305Rfc8439SealsToTheVector() {
        assertEquals(CIPHERTEXT + TAG, hex(Aead.seal(KEY, NONCE, AAD, PLAINTEXT)));
    }

    @Test
    void chacha20Poly1305Rfc8439OpensTheVector() throws CryptoException {
        byte[] sealed = hex(CIPHERTEXT + TAG);
        assertArrayEquals(PLAINTEXT, Aead.open(KEY, NONCE, AAD, sealed, 0, sealed.length));
    }

    @Test
    void chacha20Poly1305RefusesAnyFlippedBitOfCiphertextTagOrAad() {
        byte[] sealed = hex(CIPHERTEXT + TAG);
        for (int i = 0; i < sealed.length; i++) {
            byte[] bad = sealed.clone();
            bad[i] ^= (byte) (1 << (i % 8));
            CryptoException e = assertThrows(CryptoException.class, () -> Aead.open(KEY, NONCE, AAD, bad, 0, bad.length));
            assertEquals(CryptoException.Reason.AUTH_FAILED, e.reason());
        }
        for (int i = 0; i < AAD.length; i++) {
            byte[] aad = AAD.clone();
            aad[i] ^= 0x01;
            assertThrows(CryptoException.class, () -> Aead.open(KEY, NONCE, aad, sealed, 0, sealed.length));
        }
        assertEquals(CryptoException.Reason.MALFORMED,
                assertThrows(CryptoException.class, () -> Aead.open(KEY, NONCE, AAD, sealed, 0, 15)).reason());
    }

    /** RFC 7748 6.1. */
    @Test
    void x25519Rfc7748() throws CryptoException {
        Identity alice = Identity.fromPrivateKey(hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
        Identity bob = Identity.fromPrivateKey(hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
        assertEquals("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", hex(alice.publicKey()));
        assertEquals("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", hex(bob.publicKey()));
        String shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
        assertEquals(shared, hex(X25519.dh(alice.privateKey(), bob.publicKey(), 0)));
        assertEquals(shared, hex(X25519.dh(bob.privateKey(), alice.publicKey(), 0)));
    }

    @Test
    void x25519GeneratedPublicKeyMatchesItsPrivateKey() {
        var pair = X25519.generate();
        assertArrayEquals(X25519.publicKey(pair), X25519.publicKeyOf(pair.getPrivate()));
        Identity copy = Identity.fromPrivateKey(X25519.privateBytes(pair.getPrivate()));
        assertArrayEquals(X25519.publicKey(pair), copy.publicKey());
    }

    @Test
    void x25519RefusesLowOrderPoints() {
        Identity me = Identity.generate();
        byte[] one = new byte[32];
        one[0] = 1;
        // p - 1 (order 2) and p (= 0) encoded little-endian
        byte[] pMinus1 = hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        byte[] p = hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        for (byte[] point : new byte[][] {new byte[32], one, pMinus1, p}) {
            CryptoException e = assertThrows(CryptoException.class, () -> X25519.dh(me.privateKey(), point, 0));
            assertEquals(CryptoException.Reason.BAD_KEY, e.reason());
        }
    }

    /**
     * RFC 7748 masks bit 255 and reduces modulo p, so a key with bit 255 set (or at or above p) is another byte
     * string, hence another fingerprint and member id, for the same point: refused wherever a key enters (the
     * handshake, configuration, a KEY-REPLY).
     */
    @Test
    void nonCanonicalPublicKeysAreRefused() throws Exception {
        Identity me = Identity.generate();
        Identity peer = Identity.generate();
        byte[] alias = peer.publicKey().clone();
        alias[31] |= (byte) 0x80;
        assertFalse(X25519.canonical(alias, 0));
        assertTrue(X25519.canonical(peer.publicKey(), 0));
        X25519.dh(me.privateKey(), peer.publicKey(), 0); // the key itself works
        CryptoException e = assertThrows(CryptoException.class, () -> X25519.dh(me.privateKey(), alias, 0));
        assertEquals(CryptoException.Reason.BAD_KEY, e.reason());
        byte[] aboveP = hex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"); // p + 1, = 1
        assertFalse(X25519.canonical(aboveP, 0));
        assertThrows(IllegalArgumentException.class, () -> Identity.parsePublicKey(Identity.fingerprint(alias)));
        assertThrows(IllegalArgumentException.class, () -> Identity.parsePublicKey(hex(alias)));
        assertArrayEquals(peer.publicKey(), Identity.parsePublicKey(Identity.fingerprint(peer.publicKey())));
        assertFalse(Identity.isUsablePublicKey(alias));
        assertFalse(Identity.isUsablePublicKey(new byte[32]), "low order");
        assertTrue(Identity.isUsablePublicKey(peer.publicKey()));
    }
}
