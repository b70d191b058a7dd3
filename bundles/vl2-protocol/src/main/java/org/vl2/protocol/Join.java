package org.vl2.protocol;

import java.net.Inet4Address;
import java.nio.ByteBuffer;

/**
 * JOIN (agent to switch), exactly 64 bytes: asks for a port on a network.
 *
 * @param network       64-bit network id, 0 = the default network
 * @param member        the agent's 64-bit identity
 * @param nonce         random per attempt, echoed in WELCOME and ERROR
 * @param maxFrameSize  largest Ethernet frame (no FCS) the agent sends and accepts, 0..65535 (the switch
 *                      rejects less than 64 with bad-request, so the codec does not)
 * @param capabilities  bit field, {@link #CAP_IPV6}, {@link #CAP_PAIRS}, {@link #CAP_DIRECT}; 0..65535
 * @param requestedIpv4 static address wanted, {@code null} (or 0.0.0.0) = one from the network's pool
 * @param name          host name for display; {@code null} becomes "", longer than 27 UTF-8 bytes is cut at
 *                      a character boundary
 */
public record Join(long network, long member, long nonce, int maxFrameSize, int capabilities,
        Inet4Address requestedIpv4, String name) {

    /** Capability bit 0: the agent wants an IPv6 address. */
    public static final int CAP_IPV6 = 1;
    /** Capability bit 1: the agent takes PAIR messages and seals and opens frames with pair keys ({@link Pair}). */
    public static final int CAP_PAIRS = 2;
    /**
     * Capability bit 2: the agent takes a pair's frames straight from its sender and sends its own pairs' frames
     * straight to their receivers when a probe gets through (direct paths, {@link Probe}); it gets its receivers'
     * endpoints in PAIR SEND.
     */
    public static final int CAP_DIRECT = 4;

    /** Longest name in UTF-8 bytes. */
    static final int MAX_NAME = 27;

    public Join {
        Codec.unsigned16("max frame size", maxFrameSize);
        Codec.unsigned16("capabilities", capabilities);
        if (requestedIpv4 != null && requestedIpv4.isAnyLocalAddress()) {
            requestedIpv4 = null;   // 0.0.0.0 means "from the pool" on the wire; one representation only
        }
        name = name == null ? "" : Codec.truncate(name, MAX_NAME);
    }

    /** Writes exactly 64 bytes at the position and advances it. */
    public void encode(ByteBuffer out) {
        int at = Codec.reserve(out, Wire.JOIN_LENGTH);
        byte[] nameBytes = Codec.utf8Prefix(name, MAX_NAME);
        Codec.putHeader(out, at, Wire.JOIN, 0);
        Codec.put64(out, at + 4, network);
        Codec.put64(out, at + 12, member);
        Codec.put64(out, at + 20, nonce);
        Codec.put16(out, at + 28, maxFrameSize);
        Codec.put16(out, at + 30, capabilities);
        Codec.putIpv4(out, at + 32, requestedIpv4);
        Codec.put8(out, at + 36, nameBytes.length);
        out.put(at + 37, nameBytes);
        Codec.zero(out, at + 37 + nameBytes.length, MAX_NAME - nameBytes.length);
        out.position(at + Wire.JOIN_LENGTH);
    }

    /** Reads a JOIN from [position, limit) without moving either; bytes after the 64th are ignored. */
    public static Join decode(ByteBuffer datagram) throws ProtocolException {
        int p = Codec.check(datagram, Wire.JOIN, Wire.JOIN, Wire.JOIN_LENGTH);
        int nameLength = Codec.u8(datagram, p + 36);
        if (nameLength > MAX_NAME) {
            throw new ProtocolException("join name length " + nameLength + " > " + MAX_NAME);
        }
        return new Join(Codec.i64(datagram, p + 4), Codec.i64(datagram, p + 12), Codec.i64(datagram, p + 20),
                Codec.u16(datagram, p + 28), Codec.u16(datagram, p + 30), Codec.ipv4(datagram, p + 32),
                Codec.utf8(datagram, p + 37, nameLength));
    }
}
