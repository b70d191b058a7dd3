package org.vl2.crypto;

/**
 * X25519 through Bouncy Castle's RFC 7748 code (org.bouncycastle.math.ec.rfc7748: constant-time, 64-bit limbs), about
 * 2.5 times faster than the JDK 17 "XDH" provider per scalar multiplication and 5 times for a key pair (a fixed-base
 * table): a switch answering a join does five (a rekey four), so this is most of a handshake's CPU (docs/crypto.md).
 * Bouncy Castle is an optional import: the switch's feature installs it; where it is absent (the agent)
 * {@link X25519} uses the JDK.
 * This class is the only one that names Bouncy Castle, so loading it is the test of whether it is there.
 */
final class FastX25519 {

    private FastX25519() {
    }

    /** r = X25519(k, u[off..off+32)); false if the result is all zeros (u of low order). */
    static boolean agreement(byte[] k, byte[] u, int off, byte[] r) {
        return org.bouncycastle.math.ec.rfc7748.X25519.calculateAgreement(k, 0, u, off, r, 0);
    }

    /** pub = X25519(k, 9). */
    static void publicKey(byte[] k, byte[] pub) {
        org.bouncycastle.math.ec.rfc7748.X25519.scalarMultBase(k, 0, pub, 0);
    }
}
