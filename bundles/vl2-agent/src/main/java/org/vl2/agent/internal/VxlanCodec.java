package org.vl2.agent.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.vl2.api.EthernetFrame;
import org.vl2.protocol.VxlanHeader;

/**
 * vxlan mode (RFC 7348), as a Linux vxlan device: each frame behind the 8-byte VXLAN header with the I flag and this
 * agent's VNI. No identity: only the switch's IP address (from any source port: the switch picks one per flow) and
 * this VNI let a frame through.
 */
final class VxlanCodec implements FrameCodec {

    private final int vni;
    private final CodecContext c;

    VxlanCodec(int vni, CodecContext context) {
        this.vni = vni;
        this.c = context;
    }

    @Override
    public int headroom() {
        return VxlanHeader.LENGTH;
    }

    @Override
    public int tailroom() {
        return 0;
    }

    @Override
    public boolean encode(ByteBuffer buf, int frameAt, int length) {
        int base = frameAt - VxlanHeader.LENGTH;
        VxlanHeader.write(buf, base, vni);
        buf.limit(frameAt + length).position(base);
        return true;
    }

    @Override
    public int decode(ByteBuffer buf, int at, int n, InetSocketAddress from, Link link) {
        if (from == null || !from.getAddress().equals(link.remote().getAddress())) {
            c.counters().foreign(); // not the switch: VXLAN has no identity, the source address is all there is
            return -1;
        }
        c.links().heard(c.links().clock().millis());
        int length = n - VxlanHeader.LENGTH;
        if (length < EthernetFrame.HEADER_LENGTH || !VxlanHeader.hasVni(buf, at)) {
            c.counters().malformed(); // no frame behind the header, or not VXLAN (the I flag must be set)
            return -1;
        }
        if (VxlanHeader.vni(buf, at) != vni) {
            c.counters().foreign(); // another VNI: another network's frame
            return -1;
        }
        if (length > c.tap().device().maxFrameLength() || n >= c.room()) {
            c.counters().drop(); // longer than the TAP's MTU allows
            return -1;
        }
        buf.limit(at + n).position(at + VxlanHeader.LENGTH);
        return length;
    }

    @Override
    public ByteBuffer keepalive(byte[] mac) {
        return keepaliveFrame(mac, vni);
    }

    /** The raw keepalive frame behind a VXLAN header with {@code vni}. */
    static ByteBuffer keepaliveFrame(byte[] mac, int vni) {
        ByteBuffer frame = RawCodec.keepaliveFrame(mac);
        ByteBuffer d = ByteBuffer.allocate(VxlanHeader.LENGTH + frame.remaining());
        VxlanHeader.write(d, 0, vni);
        d.position(VxlanHeader.LENGTH).put(frame);
        return d.clear();
    }
}
