package org.vl2.protocol;

import java.nio.ByteBuffer;

/**
 * KEEPALIVE (agent to switch, type 4) or KEEPALIVE-ACK (switch to agent, type 5), 24 bytes.
 *
 * @param ack      true for KEEPALIVE-ACK
 * @param port     the agent's port id
 * @param token    session token
 * @param sequence chosen by the agent, echoed in the ACK
 */
public record Keepalive(boolean ack, int port, long token, long sequence) {

    /** Writes exactly 24 bytes at the position and advances it. */
    public void encode(ByteBuffer out) {
        int at = Codec.reserve(out, Wire.KEEPALIVE_LENGTH);
        Codec.putHeader(out, at, ack ? Wire.KEEPALIVE_ACK : Wire.KEEPALIVE, 0);
        Codec.put32(out, at + 4, port);
        Codec.put64(out, at + 8, token);
        Codec.put64(out, at + 16, sequence);
        out.position(at + Wire.KEEPALIVE_LENGTH);
    }

    /** Reads a KEEPALIVE or KEEPALIVE-ACK from [position, limit) without moving either. */
    public static Keepalive decode(ByteBuffer datagram) throws ProtocolException {
        int p = Codec.check(datagram, Wire.KEEPALIVE, Wire.KEEPALIVE_ACK, Wire.KEEPALIVE_LENGTH);
        return new Keepalive(Codec.u8(datagram, p + 2) == Wire.KEEPALIVE_ACK, Codec.i32(datagram, p + 4),
                Codec.i64(datagram, p + 8), Codec.i64(datagram, p + 16));
    }
}
