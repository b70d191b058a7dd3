package org.vl2.agent.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link LinkEndpoint} on a Java NIO {@link DatagramChannel}: one datagram per system call. Blocking without TAP
 * offload; non-blocking with it, so the receive pump sees when nothing is queued (and writes the superframe it is
 * building) before it waits on a selector.
 */
final class NioLinkEndpoint implements LinkEndpoint {

    /** SO_RCVBUF/SO_SNDBUF of the channel. */
    static final int SOCKET_BUFFER_BYTES = 1 << 20;
    /** A non-blocking send that finds the socket's buffer full retries this often, this far apart, then drops. */
    static final int SEND_RETRIES = 100;
    static final long SEND_RETRY_NANOS = 20_000;

    private final DatagramChannel channel;
    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    /** Connected: reads and writes; unconnected (vxlan): receive and send, with the sender's address. */
    private final boolean connected;
    /** Holds the last datagram received, at 0. */
    private final ByteBuffer received;
    private InetSocketAddress source;
    /** Non-blocking: waits for a datagram (receive pump only). */
    private volatile Selector selector;

    /**
     * @param channel bound (and connected, but in vxlan mode), closed by {@link #close}
     * @param room    receive buffer: a datagram that fills it was truncated
     */
    NioLinkEndpoint(DatagramChannel channel, InetSocketAddress remote, boolean blocking, int room)
            throws IOException {
        this.channel = channel;
        this.remote = remote;
        this.connected = channel.isConnected();
        this.local = (InetSocketAddress) channel.getLocalAddress();
        channel.configureBlocking(blocking);
        this.received = ByteBuffer.allocateDirect(room);
        this.source = remote;
    }

    /** A channel with the link's socket buffers, of the family of {@code remote}. */
    static DatagramChannel open(InetSocketAddress remote) throws IOException {
        DatagramChannel ch = DatagramChannel.open(LinkKeeper.family(remote));
        try {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
            ch.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    @Override
    public InetSocketAddress remote() {
        return remote;
    }

    @Override
    public InetSocketAddress local() {
        return local;
    }

    @Override
    public boolean batched() {
        return false;
    }

    @Override
    public int send(ByteBuffer datagram) throws IOException {
        return connected ? channel.write(datagram) : channel.send(datagram, remote);
    }

    @Override
    public boolean queue(ByteBuffer datagram) throws IOException {
        int sent = 0;
        // a non-blocking socket (offload) returns 0 when its send buffer is full: wait a little, as a blocking one
        // would, rather than drop
        for (int tries = 0; tries < SEND_RETRIES && sent == 0; tries++) {
            if (tries > 0) {
                LockSupport.parkNanos(SEND_RETRY_NANOS);
            }
            // vxlan: from the one socket that also receives, so the outer UDP source port is always the VXLAN port.
            // RFC 7348's source port from a hash of the inner flow (for ECMP and RSS) is optional for an endpoint
            // with one socket; the switch identifies a VTEP by its IP address anyway.
            sent = send(datagram);
        }
        return sent > 0;
    }

    @Override
    public int flush() {
        return 0; // queue sent it
    }

    @Override
    public int receive(int timeoutMillis) throws IOException {
        boolean blocking = channel.isBlocking();
        if (!blocking && timeoutMillis > 0) {
            await(timeoutMillis);
        }
        received.clear();
        int n;
        if (connected) {
            n = channel.read(received);
        } else {
            // Unconnected: the JDK hands back the sender's address, a new object only when it differs from the
            // previous datagram's (the switch sends one flow from one source port).
            SocketAddress from = channel.receive(received);
            n = from == null ? -1 : received.position();
            if (from != null) {
                source = (InetSocketAddress) from;
            }
        }
        if (n < 0 || n == 0 && !blocking) {
            return 0; // non-blocking: nothing queued
        }
        received.flip();
        return 1;
    }

    /** Waits up to {@code millis} for a datagram on the non-blocking channel. */
    private void await(int millis) throws IOException {
        try {
            Selector s = selector;
            if (s == null) {
                s = Selector.open();
                try {
                    channel.register(s, SelectionKey.OP_READ);
                } catch (IOException | RuntimeException e) {
                    s.close();
                    throw e;
                }
                selector = s;
                if (!channel.isOpen()) {
                    s.close(); // closed while this one was made
                    throw new ClosedChannelException();
                }
            }
            s.select(millis);
            s.selectedKeys().clear();
        } catch (ClosedSelectorException e) {
            throw new ClosedChannelException(); // closed meanwhile: replaced by a reconnect, or stopping
        }
    }

    @Override
    public ByteBuffer datagram(int i) {
        return received;
    }

    @Override
    public InetSocketAddress source(int i) {
        return source;
    }

    @Override
    public String describe() {
        return "";
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing: nothing left to do
        }
        Selector s = selector;
        if (s != null) {
            try {
                s.close();
            } catch (IOException | RuntimeException ignored) {
                // closing
            }
        }
    }
}
