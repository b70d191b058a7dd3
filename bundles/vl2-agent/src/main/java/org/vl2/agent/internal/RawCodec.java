package org.vl2.agent.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.vl2.api.EthernetFrame;

/**
 * Raw mode, the seed VPort's wire format: every datagram carries exactly one Ethernet frame (no FCS) and nothing
 * else, both ways. No header, no identity: the switch learns the port from its first datagram.
 */
final class RawCodec implements FrameCodec {

    /** IEEE 802 local experimental EtherType 1: what the keepalive frame carries. */
    static final int KEEPALIVE_ETHERTYPE = 0x88B5;

    private final CodecContext c;

    RawCodec(CodecContext context) {
        this.c = context;
    }

    @Override
    public int headroom() {
        return 0;
    }

    @Override
    public int tailroom() {
        return 0;
    }

    @Override
    public boolean encode(ByteBuffer buf, int frameAt, int length) {
        buf.limit(frameAt + length).position(frameAt);
        return true;
    }

    @Override
    public int decode(ByteBuffer buf, int at, int length, InetSocketAddress from, Link link) {
        c.links().heard(c.links().clock().millis());
        if (length >= c.room() || length < EthernetFrame.HEADER_LENGTH) {
            c.counters().drop(); // longer than the TAP's MTU allows, or a runt
            return -1;
        }
        buf.limit(at + length).position(at);
        return length;
    }

    @Override
    public ByteBuffer keepalive(byte[] mac) {
        return keepaliveFrame(mac);
    }

    /** A minimum-size frame from this port's MAC to itself: the switch learns it and filters it (split horizon). */
    static ByteBuffer keepaliveFrame(byte[] mac) {
        ByteBuffer f = ByteBuffer.allocate(60);
        f.put(mac).put(mac).putShort((short) KEEPALIVE_ETHERTYPE);
        f.put("vl2 keepalive".getBytes(StandardCharsets.US_ASCII));
        return f.clear();
    }
}
