package org.vl2.protocol;

import java.nio.ByteBuffer;

/**
 * The 16-byte header in front of every Ethernet frame (type {@link Wire#FRAME}). Hot path: absolute gets and
 * puts only, never allocates. The readers assume the caller has checked {@link Wire#type} and the length.
 */
public final class FrameHeader {

    public static final int LENGTH = 16;

    private FrameHeader() {
    }

    /**
     * Port id (offset 4) of the datagram at its position; 0 (never a port) if it is shorter than the header,
     * so that a short datagram cannot throw on the receive path.
     */
    public static int port(ByteBuffer datagram) {
        int p = datagram.position();
        return datagram.limit() - p < LENGTH ? 0 : Codec.i32(datagram, p + 4);
    }

    /** Session token (offset 8) of the datagram at its position; 0 if it is shorter than the header. */
    public static long token(ByteBuffer datagram) {
        int p = datagram.position();
        return datagram.limit() - p < LENGTH ? 0L : Codec.i64(datagram, p + 8);
    }

    /**
     * Writes the 16-byte FRAME header (plaintext, flags 0) at absolute index {@code at} of {@code out}; does
     * not move the position.
     *
     * @throws IndexOutOfBoundsException if the 16 bytes do not fit below the limit
     */
    public static void write(ByteBuffer out, int at, int port, long token) {
        if (at < 0 || at > out.limit() - LENGTH) {
            throw new IndexOutOfBoundsException("FRAME header at " + at + " does not fit below limit " + out.limit());
        }
        Codec.putHeader(out, at, Wire.FRAME, 0);
        Codec.put32(out, at + 4, port);
        Codec.put64(out, at + 8, token);
    }
}
