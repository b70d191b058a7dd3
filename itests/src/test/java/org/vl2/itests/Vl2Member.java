package org.vl2.itests;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Arrays;

import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Join;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;

/**
 * A vl2-protocol member as an agent is one, without a TAP: a UDP socket on loopback that joins a network and
 * sends and receives FRAME messages. Every receive is bounded by a timeout.
 */
final class Vl2Member implements AutoCloseable {

    final String mac;
    final long member;
    Welcome welcome;
    ProtocolError error;
    private final DatagramChannel channel;
    private final Selector selector;
    private final InetSocketAddress switchAddress;
    private final ByteBuffer rx = ByteBuffer.allocate(65536);

    Vl2Member(long member, String mac, int switchPort) throws IOException {
        this.member = member;
        this.mac = mac;
        this.switchAddress = new InetSocketAddress("127.0.0.1", switchPort);
        this.channel = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        channel.configureBlocking(false);
        this.selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
    }

    /** Sends JOIN until a WELCOME or ERROR comes back (bounded); true for a WELCOME. */
    boolean join(long network, Inet4Address requested, long millis) throws IOException, ProtocolException {
        ByteBuffer b = ByteBuffer.allocate(Wire.JOIN_LENGTH);
        new Join(network, member, System.nanoTime(), 1518, Join.CAP_IPV6, requested, "it-" + Long.toHexString(member))
                .encode(b);
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            channel.send(b.flip(), switchAddress);
            byte[] d = receiveDatagram(500);
            if (d == null) {
                continue;
            }
            ByteBuffer answer = ByteBuffer.wrap(d);
            if (Wire.type(answer) == Wire.WELCOME) {
                welcome = Welcome.decode(answer);
                return true;
            }
            if (Wire.type(answer) == Wire.ERROR) {
                error = ProtocolError.decode(answer);
                return false;
            }
        }
        throw new AssertionError("member " + Long.toHexString(member) + ": no answer to JOIN within " + millis + " ms");
    }

    void send(String dst, String tag) throws IOException {
        byte[] frame = Frames.ethernet(dst, mac, -1, tag);
        ByteBuffer d = ByteBuffer.allocate(FrameHeader.LENGTH + frame.length);
        FrameHeader.write(d, 0, welcome.port(), welcome.token());
        d.position(FrameHeader.LENGTH);
        d.put(frame).flip();
        channel.send(d, switchAddress);
    }

    /** The Ethernet frame of the next FRAME for this member's session tagged {@code tag}, or null. */
    byte[] receiveTagged(String tag, long millis) throws IOException {
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            long left = deadline - System.currentTimeMillis();
            byte[] d = left > 0 ? receiveDatagram(left) : null;
            if (d == null) {
                return null;
            }
            ByteBuffer b = ByteBuffer.wrap(d);
            if (Wire.type(b) == Wire.FRAME && FrameHeader.port(b) == welcome.port()
                    && FrameHeader.token(b) == welcome.token()) {
                byte[] frame = Arrays.copyOfRange(d, FrameHeader.LENGTH, d.length);
                if (tag.equals(Frames.tag(frame))) {
                    return frame;
                }
            }
        }
    }

    private byte[] receiveDatagram(long millis) throws IOException {
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

    @Override
    public void close() throws IOException {
        selector.close();
        channel.close();
    }
}
