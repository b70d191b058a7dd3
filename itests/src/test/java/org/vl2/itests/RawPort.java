package org.vl2.itests;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * A raw-mode port as the seed VPort is one: a UDP socket on loopback that sends and receives one Ethernet frame
 * per datagram, no header. Every receive is bounded by a timeout.
 */
final class RawPort extends UdpPeer {

    final String mac;
    private final InetSocketAddress switchAddress;

    RawPort(String mac, int switchPort) throws IOException {
        super(new InetSocketAddress("127.0.0.1", 0));
        this.mac = mac;
        this.switchAddress = new InetSocketAddress("127.0.0.1", switchPort);
    }

    /** Sends a frame from this port's MAC. */
    void send(String dst, String tag) throws IOException {
        sendRaw(Frames.ethernet(dst, mac, -1, tag));
    }

    void sendRaw(byte[] frame) throws IOException {
        channel.send(ByteBuffer.wrap(frame), switchAddress);
    }

    /** The next frame, or null if none arrives within {@code millis}. */
    byte[] receive(long millis) throws IOException {
        return receiveDatagram(millis);
    }

    /**
     * The frames that arrive before the one tagged {@code marker} (exclusive), waiting at most {@code millis} for
     * it. Since the switch handles one port's frames in order, a frame sent before the marker that is not among
     * them was not forwarded here: a negative check without sleeping.
     */
    java.util.List<byte[]> receiveUntil(String marker, long millis) throws IOException {
        java.util.List<byte[]> before = new java.util.ArrayList<>();
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            byte[] f = receive(Math.max(1, deadline - System.currentTimeMillis()));
            if (f == null) {
                throw new AssertionError("port " + mac + ": marker '" + marker + "' not received within " + millis
                        + " ms; got " + before.size() + " frames before");
            }
            if (marker.equals(Frames.tag(f))) {
                return before;
            }
            before.add(f);
        }
    }

    /** The first frame tagged {@code tag} within {@code millis} (others are skipped), or null. */
    byte[] receiveTagged(String tag, long millis) throws IOException {
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            long left = deadline - System.currentTimeMillis();
            byte[] f = left > 0 ? receive(left) : null;
            if (f == null || tag.equals(Frames.tag(f))) {
                return f;
            }
        }
    }

    /**
     * Throws away what is queued now, without waiting: what a test expects is awaited where it is expected, and
     * {@code Vl2TestSupport.rawPort()} already took the new ports' broadcasts off the queues.
     */
    void drain() throws IOException {
        while (receive(0) != null) {
            // discard
        }
    }
}
