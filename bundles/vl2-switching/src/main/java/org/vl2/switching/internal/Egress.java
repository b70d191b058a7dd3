package org.vl2.switching.internal;

import java.nio.ByteBuffer;

import org.vl2.api.EthernetFrame;
import org.vl2.api.Networks;
import org.vl2.protocol.FrameHeader;

/**
 * Per receive thread scratch state, so that forwarding allocates nothing: the frame view, the port lookup
 * probe, and direct buffers for FRAME messages, control replies and DHCP answers.
 */
public final class Egress {

    private static final int MAX_FRAME = 65_536;

    public final EthernetFrame view = new EthernetFrame();
    final PortKey probe = new PortKey(new java.net.InetSocketAddress(0), Networks.DEFAULT);
    /** Room for a FRAME header followed by a frame copied from a raw or VXLAN port. */
    private final ByteBuffer vl2 = ByteBuffer.allocateDirect(FrameHeader.LENGTH + MAX_FRAME);
    /** A sealed FRAME for one encrypted port: header, frame, tag (a flood seals once per port). */
    public final ByteBuffer sealed = ByteBuffer.allocateDirect(16 + MAX_FRAME + 16);
    /** Control replies (WELCOME, ERROR). */
    public final ByteBuffer control = ByteBuffer.allocateDirect(512);
    /** DHCP/ARP answers of the switch. */
    final ByteBuffer dhcp = ByteBuffer.allocateDirect(2048);

    /** What vl2 holds now: the same frame flooded to many vl2 ports is copied once. */
    private ByteBuffer copiedFrom;
    private int copiedPosition = -1;

    void reset() {
        copiedFrom = null;
        copiedPosition = -1;
    }

    /** The frame copied behind {@link FrameHeader#LENGTH} bytes of header room; position 0, limit at its end. */
    public ByteBuffer vl2Copy(ByteBuffer frame, int length) {
        if (copiedFrom != frame || copiedPosition != frame.position() || vl2.limit() != FrameHeader.LENGTH + length) {
            vl2.clear();
            vl2.put(FrameHeader.LENGTH, frame, frame.position(), length);
            vl2.limit(FrameHeader.LENGTH + length);
            vl2.position(0);
            copiedFrom = frame;
            copiedPosition = frame.position();
        }
        return vl2;
    }
}
