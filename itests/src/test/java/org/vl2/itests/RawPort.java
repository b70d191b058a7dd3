package org.vl2.itests;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Arrays;

/**
 * A raw-mode port as the seed VPort is one: a UDP socket on loopback that sends and receives one Ethernet frame
 * per datagram, no header. Every receive is bounded by a timeout.
 */
final class RawPort implements AutoCloseable {

    final String mac;
    private final DatagramChannel channel;
    private final Selector selector;
    private final InetSocketAddress switchAddress;
    private final ByteBuffer rx = ByteBuffer.allocate(65536);

    RawPort(String mac, int switchPort) throws IOException {
        this.mac = mac;
        this.switchAddress = new InetSocketAddress("127.0.0.1", switchPort);
        this.channel = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        channel.configureBlocking(false);
        this.selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
    }

    int localPort() throws IOException {
        return ((InetSocketAddress) channel.getLocalAddress()).getPort();
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
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            rx.clear();
            if (channel.receive(rx) != null) {
                rx.flip();
                return Arrays.copyOf(rx.array(), rx.limit());
            }
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return null;
            }
            selector.select(left);
            selector.selectedKeys().clear();
        }
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

    /** Throws away whatever is queued (bounded). */
    void drain() throws IOException {
        while (receive(50) != null) {
            // discard
        }
    }

    @Override
    public void close() throws IOException {
        selector.close();
        channel.close();
    }
}
