package org.vl2.protocol;

import java.nio.ByteBuffer;

/**
 * The 8-byte VXLAN header of RFC 7348, section 5, as the switch's VXLAN transport and the agent's vxlan mode write
 * and read it:
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
 * Unlike the vl2 messages' codecs, absolute reads and writes only: no buffer position moves, nothing allocates.
 */
public final class VxlanHeader {

    public static final int LENGTH = 8;
    /** The I flag: "MUST be set to 1 for a valid VXLAN Network ID (VNI)". */
    public static final int FLAG_I = 0x08;
    /** Header plus an Ethernet header (two MAC addresses and the EtherType): anything shorter carries no frame. */
    public static final int MIN_DATAGRAM = LENGTH + 14;
    public static final int MIN_VNI = 1;
    public static final int MAX_VNI = 0xFF_FFFF;
    /** The IANA port of VXLAN, where the switch's VXLAN transport listens by default. */
    public static final int DEFAULT_PORT = 4789;

    /** {@link #check} results. */
    public static final int OK = 0;
    public static final int MALFORMED = 1;
    public static final int BAD_FLAGS = 2;

    private VxlanHeader() {
    }

    /** Writes a header for {@code vni} at {@code at}: the I flag, the VNI, every reserved bit zero. */
    public static void write(ByteBuffer buffer, int at, int vni) {
        buffer.putInt(at, FLAG_I << 24);
        buffer.putInt(at + 4, (vni & MAX_VNI) << 8);
    }

    /**
     * Whether the header at {@code at} has the I flag. The reserved bits are ignored, as the RFC demands of a
     * receiver (extensions such as GBP set some of them).
     */
    public static boolean hasVni(ByteBuffer buffer, int at) {
        return (buffer.get(at) & FLAG_I) != 0;
    }

    /**
     * Whether the datagram between position and limit is a VXLAN packet with a frame: {@link #OK}, {@link #MALFORMED}
     * (shorter than {@link #MIN_DATAGRAM}) or {@link #BAD_FLAGS} (no I flag; reserved bits are ignored).
     */
    public static int check(ByteBuffer datagram) {
        if (datagram.remaining() < MIN_DATAGRAM) {
            return MALFORMED;
        }
        return hasVni(datagram, datagram.position()) ? OK : BAD_FLAGS;
    }

    /** The 24-bit VNI of the header at {@code at}. */
    public static int vni(ByteBuffer buffer, int at) {
        return buffer.getInt(at + 4) >>> 8;
    }
}
