package org.vl2.transport.vxlan.internal;

import java.nio.ByteBuffer;

/** Ethernet frames for tests: IPv4/IPv6 with TCP/UDP ports, optionally 802.1Q-tagged. */
final class Frames {

    static final long DST = 0x02_00_00_00_00_02L;
    static final long SRC = 0x02_00_00_00_00_01L;

    private Frames() {
    }

    private static void mac(ByteBuffer b, long mac) {
        b.putShort((short) (mac >>> 32)).putInt((int) mac);
    }

    /** An IPv4 frame; {@code vlan} < 0 for untagged; {@code id}, {@code ttl}, {@code payload} are not flow fields. */
    static ByteBuffer ipv4(long dst, long src, int vlan, int srcIp, int dstIp, int protocol, int srcPort, int dstPort,
                           int id, int ttl, int fragment, int payload) {
        ByteBuffer b = ByteBuffer.allocate(14 + 4 + 20 + 8 + payload);
        mac(b, dst);
        mac(b, src);
        if (vlan >= 0) {
            b.putShort((short) 0x8100).putShort((short) vlan);
        }
        b.putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + 8 + payload)).putShort((short) id)
                .putShort((short) fragment).put((byte) ttl).put((byte) protocol).putShort((short) 0x1234)
                .putInt(srcIp).putInt(dstIp);
        b.putShort((short) srcPort).putShort((short) dstPort).putInt(0xCAFE_0000 | id);
        for (int i = 0; i < payload; i++) {
            b.put((byte) (i * 7 + id));
        }
        return b.flip();
    }

    static ByteBuffer tcp4(int srcIp, int dstIp, int srcPort, int dstPort) {
        return ipv4(DST, SRC, -1, srcIp, dstIp, 6, srcPort, dstPort, 1, 64, 0, 40);
    }

    /** An IPv6 frame with addresses fd00::{@code src} and fd00::{@code dst}. */
    static ByteBuffer ipv6(int srcLow, int dstLow, int next, int srcPort, int dstPort, int payload) {
        ByteBuffer b = ByteBuffer.allocate(14 + 40 + 8 + payload);
        mac(b, DST);
        mac(b, SRC);
        b.putShort((short) 0x86DD);
        b.putInt(0x6000_0000 | (payload & 0xFFFFF)).putShort((short) (8 + payload)).put((byte) next).put((byte) 64);
        b.putLong(0xfd00_0000_0000_0000L).putLong(srcLow);
        b.putLong(0xfd00_0000_0000_0000L).putLong(dstLow);
        b.putShort((short) srcPort).putShort((short) dstPort).putInt(payload);
        for (int i = 0; i < payload; i++) {
            b.put((byte) i);
        }
        return b.flip();
    }

    static int hash(ByteBuffer frame) {
        return FlowHash.of(frame, frame.position(), frame.remaining());
    }
}
