package org.vl2.protocol;

import java.nio.ByteBuffer;

/**
 * The 16-byte header of a sealed vl2 message (docs/crypto.md): magic, version, type, flags {@link Wire#FLAG_SEALED},
 * the receiver's 32-bit session index at offset 4 and the 8-byte counter at offset 8, which the session writes when
 * it seals. The header is the associated data of the seal; the body follows it encrypted, then the 16-byte tag.
 *
 * <pre>
 *   0      1       2     3       4              8                        16
 *   | 0x56 | ver 1 | type | 0x01 | receiver idx | counter (big-endian)   | ciphertext ... | tag (16) |
 * </pre>
 *
 * Hot path: absolute gets and puts only, in network byte order whatever the buffer's order, never allocates.
 */
public final class SealedHeader {

    public static final int LENGTH = 16;
    /** Where the receiver's session index starts. */
    public static final int RECEIVER_OFFSET = 4;
    /** Where the counter starts (written by the session's seal, checked by its open). */
    public static final int COUNTER_OFFSET = 8;

    private SealedHeader() {
    }

    /**
     * Writes magic, version, {@code type}, flags SEALED and {@code receiverIndex} at absolute index {@code at} of
     * {@code out}, leaving the counter's 8 bytes to the seal; does not move the position.
     *
     * @throws IndexOutOfBoundsException if the 16 bytes do not fit below the limit
     */
    public static void write(ByteBuffer out, int at, int type, int receiverIndex) {
        if (at < 0 || at > out.limit() - LENGTH) {
            throw new IndexOutOfBoundsException("sealed header at " + at + " does not fit below limit " + out.limit());
        }
        Codec.putHeader(out, at, type, Wire.FLAG_SEALED);
        Codec.put32(out, at + RECEIVER_OFFSET, receiverIndex);
    }

    /** True if the message at absolute index {@code at} has the SEALED flag (the caller checked the length). */
    public static boolean isSealed(ByteBuffer in, int at) {
        return (Codec.u8(in, at + 3) & Wire.FLAG_SEALED) != 0;
    }

    /** The receiver's session index of the message at absolute index {@code at} (the caller checked the length). */
    public static int receiverIndex(ByteBuffer in, int at) {
        return Codec.i32(in, at + RECEIVER_OFFSET);
    }

    /** The counter of the message at absolute index {@code at} (the caller checked the length). */
    public static long counter(ByteBuffer in, int at) {
        return Codec.i64(in, at + COUNTER_OFFSET);
    }
}
