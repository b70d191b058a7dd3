package org.vl2.agent.internal;

import java.nio.ByteBuffer;

/**
 * The 8-byte VXLAN header of RFC 7348, section 5, as the agent writes and reads it in vxlan mode:
 *
 * <pre>
 *  0               1               2               3
 * +---------------+-----------------------------------------------+
 * |R|R|R|R|I|R|R|R|                 Reserved                      |
 * +---------------+-----------------------------------------------+
 * |          VXLAN Network Identifier (VNI)       |   Reserved    |
 * +-----------------------------------------------+---------------+
 * </pre>
 *
 * The agent's own copy rather than the vxlan transport's: that one is internal to the switch's bundle, and an
 * agent host does not install it. Absolute reads and writes only: no buffer position moves, nothing allocates.
 */
final class VxlanHeader {

    static final int LENGTH = 8;
    /** The I flag: "MUST be set to 1 for a valid VXLAN Network ID (VNI)". */
    static final int FLAG_I = 0x08;
    static final int MIN_VNI = 1;
    static final int MAX_VNI = 0xFF_FFFF;
    /** The IANA port of VXLAN, which the switch's vxlan transport listens on by default. */
    static final int DEFAULT_PORT = 4789;

    private VxlanHeader() {
    }

    /** Writes a header for {@code vni} at {@code at}: the I flag, the VNI, every reserved bit zero. */
    static void write(ByteBuffer buffer, int at, int vni) {
        buffer.putInt(at, FLAG_I << 24);
        buffer.putInt(at + 4, (vni & MAX_VNI) << 8);
    }

    /**
     * Whether the header at {@code at} has the I flag. The reserved bits are ignored, as the RFC demands of a
     * receiver (extensions such as GBP set some of them).
     */
    static boolean hasVni(ByteBuffer buffer, int at) {
        return (buffer.get(at) & FLAG_I) != 0;
    }

    /** The 24-bit VNI of the header at {@code at}. */
    static int vni(ByteBuffer buffer, int at) {
        return buffer.getInt(at + 4) >>> 8;
    }
}
