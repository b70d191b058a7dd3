package org.vl2.itests;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Arrays;

/**
 * A test's own UDP socket whose every receive is bounded by a timeout: what {@link RawPort}, {@link Vl2Member} and
 * HotSwapIT's VTEP are made of.
 */
abstract class UdpPeer implements AutoCloseable {

    protected final DatagramChannel channel;
    private final Selector selector;
    private final ByteBuffer rx = ByteBuffer.allocate(65536);
    private SocketAddress lastSource;

    UdpPeer(InetSocketAddress local) throws IOException {
        this.channel = DatagramChannel.open().bind(local);
        channel.configureBlocking(false);
        this.selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
    }

    int localPort() throws IOException {
        return ((InetSocketAddress) channel.getLocalAddress()).getPort();
    }

    /** The next datagram, or null if none arrives within {@code millis} (0: only one queued already). */
    byte[] receiveDatagram(long millis) throws IOException {
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            rx.clear();
            SocketAddress source = channel.receive(rx);
            if (source != null) {
                lastSource = source;
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

    /** Where the datagram {@link #receiveDatagram} returned last came from. */
    SocketAddress lastSource() {
        return lastSource;
    }

    @Override
    public void close() throws IOException {
        selector.close();
        channel.close();
    }
}
