package org.vl2.api.spi;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;
import org.vl2.api.PortId;

/**
 * Carries Ethernet frames between the switch and remote ports, e.g. over UDP. Registered as an OSGi
 * service with the property {@value #PROPERTY} (its name); the switch binds every transport it finds and
 * unbinds it when it goes, so transports can be added, replaced and removed while the switch runs.
 */
@ConsumerType
public interface Transport {

    /** Service property naming the transport. */
    String PROPERTY = "vl2.transport";

    /**
     * Service property of a transport whose datagrams name no network (raw mode): the network (1 to 16 hex digits)
     * its ports land in. Without it they land in {@link org.vl2.api.Networks#RAW}. The switch admits them only if
     * that network is open to plaintext.
     */
    String NETWORK = "network";

    /** Short name, e.g. {@code udp}; unique among the registered transports. */
    String name();

    /** How frames are framed on this transport, e.g. {@code raw}. */
    String mode();

    /** The local endpoint, for display, e.g. {@code 0.0.0.0:9990}. */
    String localAddress();

    /**
     * Starts delivering received frames to {@code receiver}, on the transport's own thread(s). Idempotent
     * for the same receiver.
     */
    void start(FrameReceiver receiver);

    /** Stops delivering frames. After return, no call to the receiver is in progress or will follow. */
    void stop();

    /**
     * Sends one frame (between position and limit) to a remote endpoint. Position and limit are unchanged
     * on return. Safe to call from any thread.
     *
     * @return false if the frame could not be sent (counted by the caller as a transmit error)
     */
    boolean send(SocketAddress remote, ByteBuffer frame);

    /**
     * Sends one frame to a port created by {@link FrameReceiver#receiveFrame} or
     * {@link FrameReceiver#attachPort}: transports that encapsulate frames themselves (e.g. VXLAN, which maps
     * {@code network} to its VNI) override this. Same buffer rules as {@link #send}. The default sends the frame
     * as it is.
     *
     * @return false if the frame could not be sent (counted by the caller as a transmit error)
     */
    default boolean sendFrame(SocketAddress remote, long network, ByteBuffer frame) {
        return send(remote, frame);
    }

    /**
     * {@link #send(SocketAddress, ByteBuffer)} for a frame of {@code port}: the switch counts it as the port's TX
     * when this returns true. A transport that only queues here and can still fail later (a batch the kernel
     * refuses at flush) reports the port with {@link FrameReceiver#transmitFailed(Transport, PortId, int, long)}, so
     * the port's counters move the frame to its TX drops. The port is a reference to keep until the flush, not to
     * copy: nothing is allocated per frame. The default ignores the port.
     *
     * @since 1.4
     */
    default boolean send(SocketAddress remote, ByteBuffer frame, PortId port) {
        return send(remote, frame);
    }

    /**
     * {@link #sendFrame(SocketAddress, long, ByteBuffer)} for a frame of {@code port}; refusals after acceptance
     * are reported as for {@link #send(SocketAddress, ByteBuffer, PortId)}. The default ignores the port.
     *
     * @since 1.4
     */
    default boolean sendFrame(SocketAddress remote, long network, ByteBuffer frame, PortId port) {
        return sendFrame(remote, network, frame);
    }

    /**
     * What this transport dropped on the receive side before anything reached the switch, by reason: totals since it
     * started, read from counters it keeps anyway (a call costs no per-frame work). Reasons are lower case with
     * underscores, a small fixed set per transport (docs/api.md lists them), e.g. {@code bad_flags} for VXLAN; a
     * stream transport counts refused or closed connections. The default: none counted.
     *
     * @since 1.6
     */
    default Map<String, Long> receiveDrops() {
        return Map.of();
    }
}
