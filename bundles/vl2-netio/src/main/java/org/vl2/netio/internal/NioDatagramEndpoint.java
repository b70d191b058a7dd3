package org.vl2.netio.internal;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.locks.LockSupport;

import org.vl2.netio.DatagramEndpoint;

/**
 * The {@link DatagramEndpoint} on Java NIO, for {@code io.batch = 0} and where batched sockets do not work: a
 * non-blocking {@link DatagramChannel} with a selector to wait on, one datagram per system call. It has one receive
 * slot, and {@link #queue} sends at once (so there is never anything to flush; a refused datagram makes it return
 * false). No JNA.
 */
public final class NioDatagramEndpoint implements DatagramEndpoint {

    /** How often a send into a full buffer is tried again while {@link #setAutoFlushWait} allows. */
    private static final long RETRY_NANOS = 50_000;

    private final DatagramChannel channel;
    private final Selector selector;
    private final ByteBuffer slot = ByteBuffer.allocateDirect(MAX_DATAGRAM + 1);
    private volatile InetSocketAddress local;
    private volatile boolean closed;
    private InetSocketAddress source;
    private int autoFlushWaitMillis;

    private NioDatagramEndpoint(DatagramChannel channel, Selector selector) throws IOException {
        this.channel = channel;
        this.selector = selector;
        this.local = (InetSocketAddress) channel.getLocalAddress();
    }

    /**
     * Opens a non-blocking channel bound to {@code bind} with the given socket buffer sizes. An IPv4 address gets an
     * IPv4 socket (0.0.0.0 means all IPv4 addresses, not a dual-stack [::]).
     *
     * @throws java.net.BindException if the address is in use or not local
     */
    public static NioDatagramEndpoint open(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes)
            throws IOException {
        return open(bind, receiveBufferBytes, sendBufferBytes, false);
    }

    /** {@link #open(InetSocketAddress, int, int)}; with {@code reusePort} SO_REUSEPORT before the bind. */
    public static NioDatagramEndpoint open(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes,
                                           boolean reusePort) throws IOException {
        DatagramChannel ch = DatagramChannel.open(bind.getAddress() instanceof Inet4Address
                ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
        Selector sel = null;
        try {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, receiveBufferBytes);
            ch.setOption(StandardSocketOptions.SO_SNDBUF, sendBufferBytes);
            if (reusePort) {
                ch.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            ch.bind(bind);
            ch.configureBlocking(false);
            sel = Selector.open();
            ch.register(sel, SelectionKey.OP_READ);
            return new NioDatagramEndpoint(ch, sel);
        } catch (IOException | RuntimeException e) {
            closeQuietly(sel);
            closeQuietly(ch);
            throw e;
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public int batchSize() {
        return 1;
    }

    @Override
    public String offload() {
        return "none";
    }

    @Override
    public long offloadFallbacks() {
        return 0;
    }

    @Override
    public void connect(InetSocketAddress remote) throws IOException {
        channel.connect(remote);
        local = (InetSocketAddress) channel.getLocalAddress();
    }

    @Override
    public void setBufferSizes(int receiveBufferBytes, int sendBufferBytes) throws IOException {
        channel.setOption(StandardSocketOptions.SO_RCVBUF, receiveBufferBytes);
        channel.setOption(StandardSocketOptions.SO_SNDBUF, sendBufferBytes);
    }

    @Override
    public int receive(int timeoutMillis) throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        if (receiveNow()) {
            return 1;
        }
        if (timeoutMillis == 0) {
            return 0;
        }
        try {
            selector.select(timeoutMillis);
            selector.selectedKeys().clear();
        } catch (ClosedSelectorException e) {
            throw new ClosedChannelException();
        }
        if (closed) {
            throw new ClosedChannelException();
        }
        return receiveNow() ? 1 : 0;
    }

    /** One datagram into the slot if one is queued. */
    private boolean receiveNow() throws IOException {
        ByteBuffer b = slot;
        b.clear();
        InetSocketAddress from = (InetSocketAddress) channel.receive(b);
        if (from == null) {
            return false;
        }
        b.flip();
        source = from;
        return true;
    }

    @Override
    public ByteBuffer datagram(int i) {
        return slot;
    }

    @Override
    public InetSocketAddress source(int i) {
        return source;
    }

    @Override
    public void wakeup() {
        selector.wakeup();
    }

    /** Sends now; a full send buffer is tried again for up to {@link #setAutoFlushWait}'s time. */
    @Override
    public boolean queue(InetSocketAddress to, ByteBuffer data) {
        if (send(to, data)) {
            return true;
        }
        if (autoFlushWaitMillis == 0) {
            return false;
        }
        long deadline = System.nanoTime() + autoFlushWaitMillis * 1_000_000L;
        do {
            LockSupport.parkNanos(RETRY_NANOS);
            if (send(to, data)) {
                return true;
            }
        } while (System.nanoTime() < deadline && !closed);
        return false;
    }

    @Override
    public int queued() {
        return 0;
    }

    @Override
    public int flush() {
        return 0;
    }

    @Override
    public int flush(int waitMillis) {
        return 0;
    }

    @Override
    public void setAutoFlushWait(int millis) {
        autoFlushWaitMillis = Math.max(0, millis);
    }

    @Override
    public int takeAutoFlushDropped() {
        return 0;
    }

    @Override
    public boolean send(InetSocketAddress to, ByteBuffer data) {
        int length = data.remaining();
        if (length > MAX_DATAGRAM || closed) {
            return false;
        }
        int position = data.position();
        try {
            // Non-blocking: a full socket buffer sends nothing (as a congested switch port would drop it).
            return channel.send(data, to) == length;
        } catch (IOException | RuntimeException e) {
            return false; // unreachable, wrong family, unresolved, closed
        } finally {
            data.position(position);
        }
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        selector.wakeup();
        closeQuietly(channel);
        closeQuietly(selector); // waits for a select in progress, then releases the channel's descriptor
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception ignored) {
            // closing: nothing left to do
        }
    }

    @Override
    public String toString() {
        return "NioDatagramEndpoint[" + local + (closed ? ", closed" : "") + "]";
    }
}
