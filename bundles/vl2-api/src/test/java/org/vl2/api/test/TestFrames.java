package org.vl2.api.test;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;

import org.vl2.api.MacAddress;

/** Ethernet frames and endpoints for tests. */
public final class TestFrames {

    private TestFrames() {
    }

    /**
     * An IPv4-typed Ethernet frame in a direct buffer (position 0, limit at its end): {@code payload} bytes of 0x5a
     * after the header; {@code vlan < 0} means untagged, else one 802.1Q tag with that VLAN id.
     */
    public static ByteBuffer frame(String dst, String src, int vlan, int payload) {
        int len = 14 + (vlan >= 0 ? 4 : 0) + payload;
        ByteBuffer b = ByteBuffer.allocateDirect(len);
        b.put(MacAddress.valueOf(dst).toBytes()).put(MacAddress.valueOf(src).toBytes());
        if (vlan >= 0) {
            b.putShort((short) 0x8100).putShort((short) vlan);
        }
        b.putShort((short) 0x0800);
        while (b.hasRemaining()) {
            b.put((byte) 0x5a);
        }
        return b.flip();
    }

    /** 127.0.0.1:{@code port}. */
    public static SocketAddress endpoint(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    /** The bytes between position and limit, without moving them. */
    public static byte[] bytes(ByteBuffer b) {
        byte[] copy = new byte[b.remaining()];
        b.duplicate().get(copy);
        return copy;
    }
}
