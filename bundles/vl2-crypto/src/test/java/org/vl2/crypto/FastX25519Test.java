package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.crypto.Fixtures.hex;

import java.security.PrivateKey;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * Bouncy Castle's X25519 and the JDK's give the same answers: both engines the switch and the agent may run, against
 * RFC 7748 and each other on random keys (PrimitivesTest and the handshake tests run the engine in use).
 */
class FastX25519Test {

    @Test
    void bouncyCastleIsUsedWhereItIsThere() {
        assertTrue(X25519.FAST, "Bouncy Castle is on this module's test class path");
        assertEquals("bouncycastle", X25519.engine());
    }

    /** RFC 7748 6.1 on both engines. */
    @Test
    void bothEnginesGiveTheRfcVector() throws CryptoException {
        PrivateKey alice = X25519.privateKey(hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
        byte[] bob = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        String shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
        assertEquals(shared, hex(X25519.fastDh(alice, bob, 0)));
        assertEquals(shared, hex(X25519.jdkDh(alice, bob, 0)));
    }

    private static final byte[] BASE = {9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0};

    @Test
    void bothEnginesAgreeOnRandomKeysAndGeneratedPairs() throws CryptoException {
        SplittableRandom random = new SplittableRandom(0x25519);
        for (int i = 0; i < 200; i++) {
            byte[] scalar = new byte[32];
            byte[] peer = new byte[32];
            random.nextBytes(scalar);
            random.nextBytes(peer);
            peer[31] &= 0x7F; // canonical: bit 255 clear (values at or above p are 19 in 2^255: not drawn here)
            PrivateKey key = X25519.privateKey(scalar);
            assertArrayEquals(X25519.jdkDh(key, peer, 0), X25519.fastDh(key, peer, 0), "key " + i);
            // the responder's ephemeral key, kept as its scalar
            assertArrayEquals(X25519.jdkDh(key, peer, 0), X25519.dh(scalar, peer, 0), "scalar " + i);
            assertArrayEquals(X25519.jdkDh(key, BASE, 0), X25519.publicKeyOf(scalar), "public key of scalar " + i);
        }
        for (int i = 0; i < 20; i++) {
            var pair = X25519.generate();
            assertArrayEquals(X25519.jdkDh(pair.getPrivate(), BASE, 0), X25519.publicKey(pair), "pair " + i);
        }
    }

    @Test
    void bothEnginesRefuseLowOrderPoints() {
        PrivateKey me = X25519.generate().getPrivate();
        byte[] one = new byte[32];
        one[0] = 1;
        byte[] pMinus1 = hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        // a point of order 8 (RFC 7748's and libsodium's blocklist)
        byte[] order8 = hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
        for (byte[] point : new byte[][] {new byte[32], one, pMinus1, order8}) {
            assertEquals(CryptoException.Reason.BAD_KEY,
                    assertThrows(CryptoException.class, () -> X25519.fastDh(me, point, 0)).reason());
            assertEquals(CryptoException.Reason.BAD_KEY,
                    assertThrows(CryptoException.class, () -> X25519.jdkDh(me, point, 0)).reason());
        }
    }
}
