package org.vl2.transport.vxlan.internal;

import java.nio.ByteBuffer;

import org.vl2.api.EthernetFrame;

/**
 * The 8-byte VXLAN header of RFC 7348, section 5:
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
 * Absolute reads and writes only: no buffer position moves.
 */
final class VxlanHeader {

    static final int LENGTH = 8;
    /** The I flag: "MUST be set to 1 for a valid VXLAN Network ID". */
    static final int FLAG_I = 0x08;
    /** Header plus an Ethernet header: anything shorter carries no frame. */
    static final int MIN_DATAGRAM = LENGTH + EthernetFrame.HEADER_LENGTH;
    static final int MIN_VNI = 1;
    static final int MAX_VNI = 0xFF_FFFF;

    /** {@link #check} results. */
    static final int OK = 0;
    static final int MALFORMED = 1;
    static final int BAD_FLAGS = 2;

    private VxlanHeader() {
    }

    /** Writes a header for {@code vni} at {@code at}: the I flag, the VNI, every reserved bit zero. */
    static void write(ByteBuffer buffer, int at, int vni) {
        buffer.putInt(at, FLAG_I << 24);
        buffer.putInt(at + 4, vni << 8);
    }

    /**
     * Whether the datagram between position and limit is a VXLAN packet with a frame: long enough and with the I
     * flag set. The reserved bits are ignored, as the RFC demands (extensions such as GBP set some of them).
     */
    static int check(ByteBuffer datagram) {
        if (datagram.remaining() < MIN_DATAGRAM) {
            return MALFORMED;
        }
        return (datagram.get(datagram.position()) & FLAG_I) == 0 ? BAD_FLAGS : OK;
    }

    /** The 24-bit VNI of the header at {@code at}. */
    static int vni(ByteBuffer buffer, int at) {
        return buffer.getInt(at + 4) >>> 8;
    }
}
