package org.vl2.protocol;

import java.nio.ByteBuffer;

/**
 * LEAVE (agent to switch), 16 bytes: the port goes away at once.
 *
 * @param port  the agent's port id
 * @param token session token
 */
public record Leave(int port, long token) {

    /** Writes exactly 16 bytes at the position and advances it. */
    public void encode(ByteBuffer out) {
        int at = Codec.reserve(out, Wire.LEAVE_LENGTH);
        Codec.putHeader(out, at, Wire.LEAVE, 0);
        Codec.put32(out, at + 4, port);
        Codec.put64(out, at + 8, token);
        out.position(at + Wire.LEAVE_LENGTH);
    }

    /** Reads a LEAVE from [position, limit) without moving either. */
    public static Leave decode(ByteBuffer datagram) throws ProtocolException {
        int p = Codec.check(datagram, Wire.LEAVE, Wire.LEAVE, Wire.LEAVE_LENGTH);
        return new Leave(Codec.i32(datagram, p + 4), Codec.i64(datagram, p + 8));
    }
}
