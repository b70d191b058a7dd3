package org.vl2.api.spi;

import java.net.SocketAddress;
import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;
import org.vl2.api.PortId;

/**
 * Where a {@link Transport} delivers the frames it receives: implemented by the switch core. Only
 * {@link #receive} is abstract, so tools and tests can pass a lambda; the switch implements every method.
 */
@ProviderType
public interface FrameReceiver {

    /**
     * One frame from {@code source}, between {@code frame}'s position and limit. The buffer belongs to the
     * transport and is reused after the call returns: the receiver must not keep it. The receiver may move
     * position and limit. Called from the transport's receive thread(s), concurrently for different
     * transports.
     */
    void receive(Transport transport, SocketAddress source, ByteBuffer frame);

    /**
     * One frame that the transport has decapsulated itself (e.g. VXLAN: the transport maps the VNI to a
     * network), between {@code frame}'s position and limit. The port is the pair ({@code remote},
     * {@code network}) on this transport: created on first use like a raw port, and answered through
     * {@link Transport#sendFrame}. Same buffer rules as {@link #receive}. Frames for a network the switch does
     * not host are dropped and counted.
     *
     * @param remote the remote endpoint that identifies the port, as the transport normalises it (for VXLAN the
     *               remote VTEP's address and destination port, not the flow-hashed source port)
     */
    default void receiveFrame(Transport transport, SocketAddress remote, long network, ByteBuffer frame) {
        receive(transport, remote, frame); // receivers without networks (tools, tests) see a plain frame
    }

    /**
     * Makes sure a permanent port exists for ({@code remote}, {@code network}) on this transport, e.g. a
     * statically configured remote VTEP, so that floods reach it before it has sent anything. Permanent ports
     * never expire; {@link #detachPort} removes them. Idempotent.
     *
     * @return the port, or null if the switch has no room for another port
     */
    default PortId attachPort(Transport transport, SocketAddress remote, long network) {
        return null;
    }

    /**
     * Frames that a transport accepted from {@link Transport#send} (which returned true) but could not put on the
     * wire after all, e.g. a batch the kernel refused when it was flushed, for a transport that cannot say whose
     * they were: the switch moves them from its TX frames to its TX errors (a port's own counters stay as they are).
     * Called from the transport's receive thread. Transports that can say use
     * {@link #transmitFailed(Transport, PortId, int, long)}.
     */
    default void transmitFailed(Transport transport, int frames) {
        // receivers without counters (tools, tests) ignore it
    }

    /**
     * Datagrams that a transport accepted (a send returned true) but could not put on the wire after all, e.g.
     * refused by the kernel when a batch was flushed: {@code frames} datagrams of {@code bytes} bytes in all that
     * were handed over with {@code port} ({@link Transport#send(SocketAddress, ByteBuffer, PortId)},
     * {@link Transport#sendFrame(SocketAddress, long, ByteBuffer, PortId)}). The switch moves them from the port's TX
     * frames and bytes (and its own) to the port's TX drops and its TX errors, so TX counts what really left.
     * {@code port} null: datagrams sent without a port (control replies), which were never counted as sent: only
     * TX errors. {@code bytes} counts what the caller handed over (for {@code sendFrame} the frame, without the
     * transport's own encapsulation). Called from the thread that flushed (the transport's receive thread); no
     * allocation on the way. The default reports the count only.
     *
     * @since 1.4
     */
    default void transmitFailed(Transport transport, PortId port, int frames, long bytes) {
        transmitFailed(transport, frames);
    }

    /**
     * A stream transport's connection from {@code remote} ended while the transport runs (the peer closed or reset
     * it, it was idle too long, its stream broke): the switch frees the port reached through it, and its address, a
     * few seconds later unless the member shows up again on another connection or transport. Not called when the
     * transport itself stops (its ports stay, detached). Called from the transport's thread.
     *
     * @since 1.5
     */
    default void connectionClosed(Transport transport, SocketAddress remote) {
        // receivers without ports (tools, tests) ignore it
    }

    /** Removes a port added with {@link #attachPort} (its MAC entries are flushed); false if there is none. */
    default boolean detachPort(Transport transport, SocketAddress remote, long network) {
        return false;
    }
}
