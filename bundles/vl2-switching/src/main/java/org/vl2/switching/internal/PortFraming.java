package org.vl2.switching.internal;

import java.nio.ByteBuffer;

import org.vl2.api.spi.Transport;

/**
 * How a frame leaves through one port: the framing of the port's kind. The forwarder decides where a frame goes;
 * the port's framing alone knows what goes on the wire (a raw frame, a frame the transport encapsulates itself,
 * a vl2 FRAME message plain or sealed), as each vport of Open vSwitch has one place for its header. Every send names
 * the port, so a transport that refuses a queued frame later can say whose it was
 * ({@link org.vl2.api.spi.FrameReceiver#transmitFailed(Transport, org.vl2.api.PortId, int, long)}).
 */
@FunctionalInterface
public interface PortFraming {

    /** One frame per datagram, as it is. */
    PortFraming RAW = (t, out, in, frame, length, e) -> t.send(out.remote, frame, out.id);

    /** The transport encapsulates (VXLAN: the network's VNI). */
    PortFraming ENCAP = (t, out, in, frame, length, e) -> t.sendFrame(out.remote, out.network.id, frame, out.id);

    /**
     * Sends {@code length} bytes of {@code frame} (from its position) to {@code out}; position and limit unchanged.
     *
     * @param in the ingress port, or null for the switch's own frames (DHCP answers)
     * @return whether the transport accepted the datagram
     */
    boolean send(Transport t, SwitchPort out, SwitchPort in, ByteBuffer frame, int length, Egress e);

    /**
     * Bytes this framing adds to each frame in what it hands to the transport: a transport reports datagrams it
     * refused after accepting them in those bytes, the port's counters count frames.
     */
    default int overhead() {
        return 0;
    }
}
