package org.vl2.agent.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.function.Predicate;

import org.vl2.api.Endpoints;

/**
 * The switch end in tests: a plain UDP socket that receives the agent's datagrams and sends raw frames back,
 * as a raw-mode switch does.
 */
final class TestSwitch implements AutoCloseable {

    record Datagram(byte[] data, InetSocketAddress source) {
    }

    private final DatagramChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocate(65_536);

    TestSwitch(InetAddress address, int port) throws IOException {
        channel = DatagramChannel.open();
        channel.bind(new InetSocketAddress(address, port));
        channel.configureBlocking(false);
    }

    static TestSwitch onLoopback() throws IOException {
        return new TestSwitch(InetAddress.getLoopbackAddress(), 0);
    }

    int port() throws IOException {
        return ((InetSocketAddress) channel.getLocalAddress()).getPort();
    }

    /** {@code ip:port} as the agent's configuration writes it. */
    String address() throws IOException {
        return Endpoints.format((InetSocketAddress) channel.getLocalAddress());
    }

    /** The next datagram, or null after {@code millis}. */
    Datagram receive(long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            buffer.clear();
            SocketAddress source = channel.receive(buffer);
            if (source != null) {
                buffer.flip();
                byte[] data = new byte[buffer.remaining()];
                buffer.get(data);
                return new Datagram(data, (InetSocketAddress) source);
            }
            if (System.nanoTime() > deadline) {
                return null;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /** The next datagram that matches, skipping others, or null after {@code millis}. */
    Datagram receive(long millis, Predicate<byte[]> wanted) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return null;
            }
            Datagram d = receive(left);
            if (d == null || wanted.test(d.data())) {
                return d;
            }
        }
    }

    void send(byte[] frame, SocketAddress to) throws IOException {
        channel.send(ByteBuffer.wrap(frame), to);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
