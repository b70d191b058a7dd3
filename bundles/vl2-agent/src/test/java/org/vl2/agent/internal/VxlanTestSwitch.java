package org.vl2.agent.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.function.Predicate;

import org.vl2.api.Endpoints;
import org.vl2.protocol.VxlanHeader;

/**
 * A VXLAN switch end in tests, as the vl2 vxlan transport behaves on the wire: it listens on its VXLAN port at
 * 127.0.0.2 and sends to the agent's IP address at that same port, from another source port ({@link #sender}, as
 * the transport's per-flow source ports). The agent's route to 127.0.0.2 has the source 127.0.0.1, so the agent
 * binds 127.0.0.1 with the same port number: both fit on one loopback. {@link #stranger} sends from 127.0.0.3.
 */
final class VxlanTestSwitch implements AutoCloseable {

    static final String SWITCH_IP = "127.0.0.2";
    static final String AGENT_IP = "127.0.0.1";
    static final String STRANGER_IP = "127.0.0.3";

    record Datagram(byte[] data, InetSocketAddress source) {
        int flags() {
            return data[0] & 0xFF;
        }

        int vni() {
            return ByteBuffer.wrap(data).getInt(4) >>> 8;
        }

        /** The frame behind the header. */
        byte[] frame() {
            byte[] f = new byte[data.length - VxlanHeader.LENGTH];
            System.arraycopy(data, VxlanHeader.LENGTH, f, 0, f.length);
            return f;
        }
    }

    /** The VXLAN port: receives what the agent sends. */
    final DatagramChannel main;
    /** Another source port of the switch's address. */
    final DatagramChannel sender;
    /** Another host. */
    final DatagramChannel stranger;
    private final ByteBuffer buffer = ByteBuffer.allocate(65_536);

    private VxlanTestSwitch(DatagramChannel main) throws IOException {
        this.main = main;
        this.sender = open(new InetSocketAddress(SWITCH_IP, 0));
        this.stranger = open(new InetSocketAddress(STRANGER_IP, 0));
    }

    /** On a port that is free on 127.0.0.1 too, for the agent. */
    static VxlanTestSwitch start() throws IOException {
        for (int attempt = 0; attempt < 20; attempt++) {
            DatagramChannel main = open(new InetSocketAddress(SWITCH_IP, 0));
            int port = ((InetSocketAddress) main.getLocalAddress()).getPort();
            try (DatagramChannel probe = DatagramChannel.open(StandardProtocolFamily.INET)) {
                probe.bind(new InetSocketAddress(AGENT_IP, port));
            } catch (BindException e) {
                main.close();
                continue; // taken on 127.0.0.1: another port
            }
            return new VxlanTestSwitch(main);
        }
        throw new IOException("no UDP port free on both " + SWITCH_IP + " and " + AGENT_IP);
    }

    private static DatagramChannel open(InetSocketAddress at) throws IOException {
        DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET);
        try {
            ch.bind(at);
            ch.configureBlocking(false);
            return ch;
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    int port() throws IOException {
        return ((InetSocketAddress) main.getLocalAddress()).getPort();
    }

    /** {@code 127.0.0.2:port}, the agent's switch.address. */
    String address() throws IOException {
        return Endpoints.format((InetSocketAddress) main.getLocalAddress());
    }

    /** Where the switch sends to: the agent's IP address at the VXLAN port. */
    InetSocketAddress agent() throws IOException {
        return new InetSocketAddress(AGENT_IP, port());
    }

    /** The next datagram on the VXLAN port, or null after {@code millis}. */
    Datagram receive(long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            buffer.clear();
            SocketAddress source = main.receive(buffer);
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
    Datagram receive(long millis, Predicate<Datagram> wanted) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return null;
            }
            Datagram d = receive(left);
            if (d == null || wanted.test(d)) {
                return d;
            }
        }
    }

    /** Sends {@code frame} behind a valid header for {@code vni} to the agent, from {@link #sender}. */
    void sendFrame(int vni, byte[] frame) throws IOException {
        send(sender, encapsulate(VxlanHeader.FLAG_I, vni, frame));
    }

    /** Sends any bytes to the agent from {@code from}. */
    void send(DatagramChannel from, byte[] datagram) throws IOException {
        from.send(ByteBuffer.wrap(datagram), agent());
    }

    /** A VXLAN datagram with this first byte and VNI, reserved bits zero. */
    static byte[] encapsulate(int flags, int vni, byte[] frame) {
        ByteBuffer b = ByteBuffer.allocate(VxlanHeader.LENGTH + frame.length);
        b.put((byte) flags).put(new byte[3]).putInt(vni << 8).put(frame);
        return b.array();
    }

    @Override
    public void close() throws IOException {
        main.close();
        sender.close();
        stranger.close();
    }
}
