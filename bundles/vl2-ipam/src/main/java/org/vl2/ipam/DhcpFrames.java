package org.vl2.ipam;

import java.nio.ByteBuffer;

/**
 * What a switch needs to know about DHCP frames without running the server: whether a frame is for a DHCP server
 * (to charge a port's DHCP budget first) and which address a reply leases (to bind it to the port it went to).
 * Byte-wise access at absolute positions, so the buffer's byte order and position do not matter; no allocation.
 */
public final class DhcpFrames {

    private static final int ETH_IPV4 = 0x0800;
    private static final int ETH_VLAN = 0x8100;
    private static final int SERVER_PORT = 67;
    private static final int BOOTP_FIXED = 236;
    private static final int OPT_MESSAGE_TYPE = 53;
    private static final int ACK = 5;

    private DhcpFrames() {
    }

    /**
     * Whether the frame is UDP to the DHCP server port (67), the cheap test callers use to charge a DHCP budget
     * before {@link DhcpServer#handle}; reads a few bytes at absolute positions, allocates nothing.
     */
    public static boolean isToServerPort(ByteBuffer frame) {
        final int base = frame.position();
        final int lim = frame.limit();
        if (lim - base < 14) {
            return false;
        }
        int type = u16(frame, base + 12);
        int l3 = base + 14;
        if (type == ETH_VLAN) {
            if (lim - base < 18) {
                return false;
            }
            type = u16(frame, base + 16);
            l3 = base + 18;
        }
        return type == ETH_IPV4 && toServerPort(frame, l3, lim) >= 0;
    }

    /** The UDP header's offset of an unfragmented IPv4 datagram at {@code l3} to port 67, else -1. */
    static int toServerPort(ByteBuffer f, int l3, int lim) {
        if (lim - l3 < 28 || (f.get(l3 + 9) & 0xFF) != 17) {
            return -1;
        }
        int vihl = f.get(l3) & 0xFF;
        int ihl = (vihl & 0x0F) * 4;
        if ((vihl >>> 4) != 4 || ihl < 20 || (u16(f, l3 + 6) & 0x3FFF) != 0) {
            return -1; // not IPv4, or a fragment: a DHCP request is never fragmented
        }
        int l4 = l3 + ihl;
        return lim - l4 < 8 || u16(f, l4 + 2) != SERVER_PORT ? -1 : l4;
    }

    /**
     * The address a reply written by {@link DhcpServer#handle} leases: yiaddr of a DHCPACK, else 0 (an OFFER only
     * reserves; a NAK, an INFORM's ACK and ARP replies lease nothing).
     */
    public static int ackedAddress(ByteBuffer reply) {
        int p = reply.position();
        int lim = reply.limit();
        int l3 = p + (lim - p >= 14 && u16(reply, p + 12) == ETH_VLAN ? 18 : 14);
        int bp = l3 + 28;
        if (lim - bp < BOOTP_FIXED + 7 || u16(reply, l3 - 2) != ETH_IPV4 || reply.get(bp) != 2
                || (reply.get(bp + BOOTP_FIXED + 4) & 0xFF) != OPT_MESSAGE_TYPE
                || (reply.get(bp + BOOTP_FIXED + 6) & 0xFF) != ACK) {
            return 0;
        }
        return u32(reply, bp + 16);
    }

    static int u16(ByteBuffer b, int i) {
        return ((b.get(i) & 0xFF) << 8) | (b.get(i + 1) & 0xFF);
    }

    static int u32(ByteBuffer b, int i) {
        return (u16(b, i) << 16) | u16(b, i + 2);
    }
}
