package org.vl2.crypto;

import java.nio.ByteBuffer;
import java.util.Arrays;

import javax.crypto.spec.SecretKeySpec;

/**
 * The AEAD work of one {@link Session}: its two keys and how they seal and open a message in place, header as
 * associated data, nonce from the counter ({@link Session} has the layout). Two ways, chosen once per session:
 * {@link CipherAead} (the JDK {@code Cipher}: ChaCha20-Poly1305, and AES-256-GCM where {@link IntrinsicGcm} is off)
 * and {@link IntrinsicAead} (AES-256-GCM on the JDK's intrinsics). Both keep per-thread state in
 * {@link #SLOTS} slots per direction, a session taking the slot of its local index, so that a thread relaying between
 * members finds each one's key schedule still there; the thread-locals hold JDK types only (a thread that outlives
 * this bundle must not pin its class loader).
 *
 * <p>Direct buffers go through a per-thread scratch array: the JDK 17 would copy them into temporary arrays itself
 * (measured: about 3x the allocation for AES-GCM with a Cipher, no faster). docs/crypto.md has the costs.
 */
abstract class SessionAead {

    /** Per-thread slots per direction and suite: sessions of one thread share them (and take turns) past this. */
    static final int SLOTS = 16;
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[2048]);

    final CipherSuite suite;
    /** This session's slot on every thread. */
    final int slot;
    final SecretKeySpec sendKey;
    final SecretKeySpec receiveKey;

    SessionAead(CipherSuite suite, int slot, byte[] sendKey, byte[] receiveKey) {
        this.suite = suite;
        this.slot = slot;
        this.sendKey = new SecretKeySpec(sendKey, suite.keyAlgorithm);
        this.receiveKey = new SecretKeySpec(receiveKey, suite.keyAlgorithm);
        Arrays.fill(sendKey, (byte) 0);
        Arrays.fill(receiveKey, (byte) 0);
    }

    /** The AEAD of a session with these keys (zeroed here; the key objects keep copies) and slot. */
    static SessionAead of(CipherSuite suite, int slot, byte[] sendKey, byte[] receiveKey) {
        return suite == CipherSuite.AES_256_GCM && IntrinsicGcm.available()
                ? new IntrinsicAead(slot, sendKey, receiveKey)
                : new CipherAead(suite, slot, sendKey, receiveKey);
    }

    /**
     * Seals in place: {@code payloadLength} bytes after the {@code headerLength}-byte header at {@code offset},
     * under nonce {@code counter}; the tag goes after the payload. The caller checked the bounds.
     */
    final void seal(ByteBuffer packet, int offset, int headerLength, int payloadLength, long counter) {
        if (packet.hasArray()) {
            seal(packet.array(), packet.arrayOffset() + offset, headerLength, payloadLength, counter);
        } else {
            byte[] s = scratch(headerLength + payloadLength + Session.TAG_LENGTH);
            packet.get(offset, s, 0, headerLength + payloadLength);
            seal(s, 0, headerLength, payloadLength, counter);
            packet.put(offset + headerLength, s, headerLength, payloadLength + Session.TAG_LENGTH);
        }
    }

    /**
     * Verifies the tag of {@code sealedLength} bytes (ciphertext and tag) after the header and decrypts them in place;
     * false, and nothing decrypted into {@code packet}, when the tag does not match. The caller checked the bounds.
     */
    final boolean open(ByteBuffer packet, int offset, int headerLength, int sealedLength, long counter) {
        if (packet.hasArray()) {
            return open(packet.array(), packet.arrayOffset() + offset, headerLength, sealedLength, counter);
        }
        byte[] s = scratch(headerLength + sealedLength);
        packet.get(offset, s, 0, headerLength + sealedLength);
        if (!open(s, 0, headerLength, sealedLength, counter)) {
            return false;
        }
        packet.put(offset + headerLength, s, headerLength, sealedLength - Session.TAG_LENGTH);
        return true;
    }

    abstract void seal(byte[] a, int at, int headerLength, int payloadLength, long counter);

    abstract boolean open(byte[] a, int at, int headerLength, int sealedLength, long counter);

    /** Tests: this thread's Cipher or engine of this session for sealing or opening. */
    abstract Object perThread(boolean open);

    private static byte[] scratch(int length) {
        byte[] s = SCRATCH.get();
        if (s.length < length) {
            s = new byte[length > 1 << 30 ? length : Integer.highestOneBit(length - 1) << 1];
            SCRATCH.set(s);
        }
        return s;
    }
}
