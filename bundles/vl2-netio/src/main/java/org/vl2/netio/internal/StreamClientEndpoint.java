package org.vl2.netio.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;

import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.stream.FramedStream;

/**
 * The agent's TCP link as a {@link DatagramEndpoint}: each vl2 message of the stream is a datagram from the switch.
 * {@link #queue} stages messages, {@link #flush} turns them into TLS records together (so a TAP read's frames share
 * records and a system call), {@link #send} stages and flushes at once. The receive side has its own selector to
 * wait on, the send side another (to wait for room), so the two threads never share one.
 *
 * <p>When the connection ends (the switch closed it, a reset, a broken stream) the endpoint is {@link #broken}:
 * receives wait and return nothing, sends fail, and the agent's link keeper connects again.
 */
public final class StreamClientEndpoint implements DatagramEndpoint {

    /** Messages per receive. */
    private static final int SLOTS = 32;

    private final FramedStream stream;
    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    private final Selector readSelector;
    private final Selector writeSelector;
    private final ByteBuffer[] slots = new ByteBuffer[SLOTS];
    private volatile String broken;
    private volatile boolean closed;
    private int count;
    private int autoFlushWaitMillis;

    public StreamClientEndpoint(FramedStream stream, InetSocketAddress remote) throws IOException {
        this.stream = stream;
        this.remote = remote;
        this.local = (InetSocketAddress) stream.channel().getLocalAddress();
        for (int i = 0; i < SLOTS; i++) {
            slots[i] = stream.newView();
        }
        readSelector = Selector.open();
        writeSelector = Selector.open();
        stream.channel().register(readSelector, SelectionKey.OP_READ);
        stream.channel().register(writeSelector, SelectionKey.OP_WRITE);
    }

    /** Why the connection ended, or null while it is up. */
    public String broken() {
        return broken;
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public int batchSize() {
        return SLOTS;
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
    public void connect(InetSocketAddress to) {
        // connected to the switch since it was opened
    }

    @Override
    public void setBufferSizes(int receiveBufferBytes, int sendBufferBytes) throws IOException {
        stream.channel().setOption(java.net.StandardSocketOptions.SO_RCVBUF, receiveBufferBytes);
        stream.channel().setOption(java.net.StandardSocketOptions.SO_SNDBUF, sendBufferBytes);
    }

    @Override
    public int receive(int timeoutMillis) throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        count = 0;
        if (broken == null) {
            try {
                int n = stream.fill();
                collect();
                if (count == 0 && n >= 0 && timeoutMillis > 0) {
                    await(readSelector, timeoutMillis);
                    n = stream.fill();
                    collect();
                }
                if (n < 0 && count == 0) {
                    end("the switch closed the connection");
                }
            } catch (IOException e) {
                if (closed) {
                    throw new ClosedChannelException();
                }
                end(e.getMessage() == null ? e.toString() : e.getMessage());
            }
            return count;
        }
        if (timeoutMillis > 0) {
            await(readSelector, timeoutMillis); // broken: wait like a quiet socket until the keeper replaces it
        }
        return 0;
    }

    /** Waits on {@code selector}; a selector closed meanwhile (the endpoint was closed) ends the receive. */
    private void await(Selector selector, long millis) throws IOException {
        try {
            selector.select(millis);
            selector.selectedKeys().clear();
        } catch (ClosedSelectorException e) {
            throw new ClosedChannelException();
        }
    }

    private void collect() throws IOException {
        while (count < SLOTS && stream.next(slots[count])) {
            count++;
        }
    }

    private void end(String why) {
        if (broken == null) {
            broken = why;
        }
        stream.close();
    }

    @Override
    public ByteBuffer datagram(int i) {
        return slots[i];
    }

    @Override
    public InetSocketAddress source(int i) {
        return remote;
    }

    @Override
    public void wakeup() {
        readSelector.wakeup();
    }

    @Override
    public boolean queue(InetSocketAddress to, ByteBuffer data) {
        if (broken != null || closed) {
            return false;
        }
        if (stream.offer(data)) {
            return true;
        }
        flush(autoFlushWaitMillis); // full: make room as a batched UDP endpoint flushes when every slot is taken
        return stream.offer(data);
    }

    @Override
    public int queued() {
        return stream.queuedBytes() > 0 ? 1 : 0;
    }

    @Override
    public int flush() {
        return flush(0);
    }

    /** Nothing staged is dropped here (a message is refused by {@link #queue} instead), so this returns 0. */
    @Override
    public int flush(int waitMillis) {
        long deadline = System.nanoTime() + waitMillis * 1_000_000L;
        try {
            synchronized (writeSelector) {
                while (!stream.flush()) {
                    long left = (deadline - System.nanoTime()) / 1_000_000L;
                    if (left <= 0) {
                        break;
                    }
                    await(writeSelector, left);
                }
            }
        } catch (IOException e) {
            end(e.getMessage() == null ? e.toString() : e.getMessage());
        }
        return 0;
    }

    @Override
    public void setAutoFlushWait(int millis) {
        autoFlushWaitMillis = millis;
    }

    @Override
    public int takeAutoFlushDropped() {
        return 0;
    }

    @Override
    public boolean send(InetSocketAddress to, ByteBuffer data) {
        if (!queue(to, data)) {
            return false;
        }
        flush(autoFlushWaitMillis);
        return broken == null;
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    @Override
    public void close() {
        closed = true;
        stream.close();
        try {
            readSelector.close();
        } catch (IOException ignored) {
            // closing
        }
        try {
            writeSelector.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
