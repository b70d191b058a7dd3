package org.vl2.agent.internal;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The switch's TCP transport in agent tests, without TLS: accepts the agent's connection on loopback and relays
 * each length-prefixed message as one datagram to a {@link TestSwitch} and back, so the switch sees the agent at the
 * relay's one UDP address whatever connection it came on. With {@link #proxy} it first answers an HTTP CONNECT, as
 * a proxy in front of the switch does, and records the target.
 */
final class TcpRelay implements AutoCloseable {

    private final ServerSocket listener;
    private final DatagramSocket udp;
    private final boolean proxy;
    final AtomicInteger connections = new AtomicInteger();
    volatile String connectTarget;
    private volatile Socket current;
    private volatile boolean closed;
    /** While set, what the switch sends is kept (as a switch's full socket keeps it) until {@link #release}. */
    volatile boolean hold;
    final java.util.List<byte[]> held = new java.util.concurrent.CopyOnWriteArrayList<>();

    TcpRelay(InetSocketAddress switchAddress, boolean proxy) throws IOException {
        this.listener = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        this.udp = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress());
        this.udp.connect(switchAddress);
        this.proxy = proxy;
        Thread accept = new Thread(this::accept, "tcp-relay-accept");
        accept.setDaemon(true);
        accept.start();
        Thread back = new Thread(this::fromSwitch, "tcp-relay-from-switch");
        back.setDaemon(true);
        back.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Ends the agent's connection, as a switch restart or a middlebox does. */
    void dropConnection() throws IOException {
        Socket s = current;
        if (s != null) {
            s.close();
        }
    }

    private void accept() {
        while (!closed) {
            try {
                Socket s = listener.accept();
                s.setTcpNoDelay(true);
                connections.incrementAndGet();
                DataInputStream in = new DataInputStream(s.getInputStream());
                if (proxy) {
                    connectTarget = readConnect(in);
                    s.getOutputStream().write("HTTP/1.1 200 Connection established\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                }
                current = s;
                try {
                    while (true) {
                        int length = in.readUnsignedShort();
                        byte[] m = new byte[length];
                        in.readFully(m);
                        udp.send(new DatagramPacket(m, m.length));
                    }
                } catch (IOException e) {
                    s.close(); // the agent went: wait for the next connection
                }
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** The CONNECT request's target; the headers up to the empty line are read and ignored. */
    private static String readConnect(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed during CONNECT");
            }
            head.append((char) b);
        }
        String first = head.substring(0, head.indexOf("\r\n"));
        return first.startsWith("CONNECT ") ? first.split(" ")[1] : "not a CONNECT: " + first;
    }

    private void fromSwitch() {
        byte[] buf = new byte[65_536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        while (!closed) {
            try {
                udp.receive(p);
                byte[] framed = new byte[2 + p.getLength()];
                framed[0] = (byte) (p.getLength() >>> 8);
                framed[1] = (byte) p.getLength();
                System.arraycopy(buf, 0, framed, 2, p.getLength());
                if (hold) {
                    held.add(framed);
                    continue;
                }
                write(framed);
            } catch (IOException e) {
                if (udp.isClosed()) {
                    return;
                }
            }
        }
    }

    private void write(byte[] framed) throws IOException {
        Socket s = current;
        if (s == null || s.isClosed()) {
            return; // no agent connected: dropped, as the switch's send to a closed connection fails
        }
        OutputStream out = s.getOutputStream();
        synchronized (this) {
            out.write(framed);
        }
    }

    /** Writes what {@link #hold} kept to the agent's connection, now, and stops holding. */
    void release() throws IOException {
        hold = false;
        for (byte[] framed : held) {
            write(framed);
        }
        held.clear();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        udp.close();
        dropConnection();
    }
}
