package org.vl2.transport.tcp.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import javax.net.ssl.SSLException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.netio.SendBatch;
import org.vl2.netio.stream.FramedStream;

/**
 * The TCP transport's connections, all on one selector thread ({@code vl2-tcp-rx-<address>}): it accepts (within
 * the connection limits), drives each TLS handshake, reads and opens the stream and hands each vl2 message to the
 * switch on that thread, as the UDP transports' receive thread does; the switch's answers and forwards to TCP peers
 * made meanwhile are staged and flushed together when the round is done; the thread has a {@link SendBatch} of its own,
 * ended after each round, so what the switch forwards to UDP members meanwhile leaves with one {@code sendmmsg} per
 * round (the UDP transport defers its flush there). Sends from another transport's receive
 * loop (a UDP member's frames forwarded to a TCP port) stage and flush at the end of that loop's batch
 * ({@link SendBatch}): one TLS record and one write for a burst, not one per frame. Sends from other threads
 * (housekeeping) stage and flush at once. A peer whose socket is full gets its
 * bytes written when the selector says it has room; meanwhile its write queue fills, and what does not fit is
 * refused (a transmit error for the switch): one slow reader never holds up the thread or the other peers.
 *
 * <p>Once a second the thread closes connections whose handshake takes too long and connections that brought nothing
 * for the idle timeout (a dead agent, a half-open connection whose FIN or RST was lost).
 */
final class TcpServer {

    private static final Logger LOG = LoggerFactory.getLogger(TcpServer.class);
    private static final long SWEEP_NANOS = 1_000_000_000L;
    /** Reads per peer per round: a fast peer does not starve the others. */
    private static final int READS_PER_ROUND = 4;

    /** The limits of a configuration. */
    record Limits(int maxConnections, int maxPerSource, int writeQueueBytes, long idleNanos, long handshakeNanos) {
    }

    /** One connection; its flush can wait for the end of a foreign thread's receive batch. */
    private final class Peer implements SendBatch.Deferred {
        final FramedStream stream;
        final SelectionKey key;
        final InetAddress source;
        final long openedAt;
        final ByteBuffer view;
        final AtomicBoolean writeRequested = new AtomicBoolean();
        /** A flush of this connection waits in some thread's {@link SendBatch}. */
        final AtomicBoolean deferred = new AtomicBoolean();
        long lastRead;
        /** The switch port of the last message sent to this connection (one member's), for transmitFailed. */
        volatile PortId port;
        /** Loop thread: staged messages to flush when the round is done. */
        boolean dirty;

        Peer(FramedStream stream, SelectionKey key, long now) {
            this.stream = stream;
            this.key = key;
            this.source = stream.remote().getAddress();
            this.openedAt = now;
            this.lastRead = now;
            this.view = stream.newView();
        }

        /**
         * The end of the batch a foreign thread's send deferred to: the flag is cleared first, so a message another
         * thread stages meanwhile either goes with this flush or defers one of its own.
         */
        @Override
        public void flushDeferred() {
            deferred.set(false);
            flushNow(this);
        }
    }

    private final Transport transport;
    private final ServerSocketChannel listener;
    private final String local;
    private final ServerTls tls;
    private final Limits limits;
    private final Reports reports;
    private final Map<InetSocketAddress, Peer> peers = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Peer> wantWrite = new ConcurrentLinkedQueue<>();
    private final LongAdder queueFull = new LongAdder();
    // loop thread only
    private final Map<InetAddress, Integer> perSource = new HashMap<>();
    private final List<Peer> dirty = new ArrayList<>();

    private Selector selector;
    private volatile Thread thread;
    private volatile boolean running;
    private FrameReceiver receiver;

    TcpServer(Transport transport, ServerSocketChannel listener, String local, ServerTls tls, Limits limits) {
        this.transport = transport;
        this.listener = listener;
        this.local = local;
        this.tls = tls;
        this.limits = limits;
        this.reports = new Reports(LOG, local);
    }

    Reports reports() {
        return reports;
    }

    int connections() {
        return peers.size();
    }

    /** Messages refused because a peer's write queue was full. */
    long queueFull() {
        return queueFull.sum();
    }

    /** Starts the loop that delivers to {@code rx}. */
    synchronized void start(FrameReceiver rx) throws IOException {
        receiver = rx;
        selector = Selector.open();
        listener.configureBlocking(false);
        listener.register(selector, SelectionKey.OP_ACCEPT);
        running = true;
        // a thread with a send batch, ended after each round: what the switch forwards from TCP members to UDP
        // members meanwhile leaves with one sendmmsg per round (the UDP transport queues it), not a sendto per frame
        Thread t = new SendBatch.BatchThread(this::run, "vl2-tcp-rx-" + local);
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /** Ends the loop and closes every connection (the agents connect again); the listener stays open. */
    synchronized boolean stop(long timeoutMillis) {
        Thread t = thread;
        if (t == null) {
            return true;
        }
        running = false;
        selector.wakeup();
        if (t != Thread.currentThread()) {
            try {
                t.join(timeoutMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        boolean stopped = !t.isAlive() || t == Thread.currentThread();
        thread = null;
        return stopped;
    }

    boolean onLoopThread() {
        return Thread.currentThread() == thread;
    }

    /**
     * Stages a message for {@code remote}'s connection; see the class comment. Any thread. {@code port}: the switch
     * port it is for (null for control replies), reported with what the connection still held when it ended.
     */
    boolean send(InetSocketAddress remote, ByteBuffer message, PortId port) {
        Peer p = peers.get(remote);
        if (p == null || !p.stream.handshakeDone()) {
            return false;
        }
        if (port != null && p.port != port) {
            p.port = port;
        }
        // full: what this or another batch staged and has not flushed yet goes now to make room (a batch longer than
        // the write queue must not drop what a flush per frame would have passed); only a socket that does not take
        // it leaves the queue full, and then the message is refused
        if (!p.stream.offer(message) && !(p.stream.queuedBytes() > 0 && flushNow(p) && p.stream.offer(message))) {
            queueFull.increment();
            return false;
        }
        if (onLoopThread()) {
            if (!p.dirty) {
                p.dirty = true;
                dirty.add(p);
            }
            return true;
        }
        // another transport's receive loop (a UDP member's frames forwarded here): one write for its whole batch
        SendBatch batch = SendBatch.current();
        if (batch != null && (p.deferred.get() || deferTo(batch, p))) {
            return true;
        }
        flushNow(p);
        return true;
    }

    /** Defers {@code p}'s flush to the end of {@code batch}; false (and nothing deferred) when it is full. */
    private static boolean deferTo(SendBatch batch, Peer p) {
        if (!p.deferred.compareAndSet(false, true)) {
            return true; // another thread's batch took it meanwhile: that flush comes after this message was staged
        }
        if (batch.defer(p)) {
            return true;
        }
        p.deferred.set(false);
        return false;
    }

    /**
     * Writes what {@code p} holds now; what the socket does not take, the loop writes when it has room. True when
     * something may have gone (the caller can try to stage again).
     */
    private boolean flushNow(Peer p) {
        try {
            if (!p.stream.flush()) {
                requestWrite(p);
            }
            return true;
        } catch (IOException e) {
            requestWrite(p); // the loop meets the error and closes the connection
            return false;
        }
    }

    private void requestWrite(Peer p) {
        if (p.writeRequested.compareAndSet(false, true)) {
            wantWrite.add(p);
            Selector s = selector;
            if (s != null) {
                s.wakeup();
            }
        }
    }

    private void run() {
        Selector sel = selector;
        SendBatch sends = SendBatch.current();
        long nextSweep = System.nanoTime() + SWEEP_NANOS;
        try {
            while (running) {
                sel.select(1000);
                long now = System.nanoTime();
                Peer w;
                while ((w = wantWrite.poll()) != null) {
                    w.writeRequested.set(false);
                    interest(w, true);
                }
                Iterator<SelectionKey> keys = sel.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey k = keys.next();
                    keys.remove();
                    if (k.attachment() == null) {
                        accept(now);
                    } else {
                        handle((Peer) k.attachment(), k, now);
                    }
                }
                flushDirty();
                endBatch(sends);
                if (now - nextSweep >= 0) {
                    nextSweep = now + SWEEP_NANOS;
                    sweep(now);
                }
            }
        } catch (IOException | ClosedSelectorException e) {
            if (running) {
                LOG.error("TCP transport on {}: the connection loop failed ({}); restart the transport", local,
                        e.toString());
            }
        } finally {
            endBatch(sends);
            for (Peer p : List.copyOf(peers.values())) {
                close(p, false); // the transport stops: its ports stay (detached) for the agents to come back
            }
            try {
                sel.close();
            } catch (IOException e) {
                // stopping
            }
        }
    }

    private void accept(long now) {
        while (true) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (IOException e) {
                // e.g. out of file descriptors: counted; the listener stays
                reports.count(Reports.Kind.ERROR, "accept: " + e.getMessage(), now);
                return;
            }
            if (ch == null) {
                return;
            }
            InetSocketAddress remote;
            try {
                remote = (InetSocketAddress) ch.getRemoteAddress();
            } catch (IOException e) {
                closeQuietly(ch);
                continue;
            }
            if (peers.size() >= limits.maxConnections()) {
                closeQuietly(ch);
                reports.count(Reports.Kind.LIMIT, "from " + Endpoints.format(remote), now);
                continue;
            }
            InetAddress source = remote.getAddress();
            int already = perSource.getOrDefault(source, 0);
            if (already >= limits.maxPerSource()) {
                closeQuietly(ch);
                reports.count(Reports.Kind.SOURCE_LIMIT, "from " + Endpoints.format(remote), now);
                continue;
            }
            try {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
                // heap input: the switch opens TLS records and sealed frames in place on its array
                FramedStream stream = new FramedStream(ch, tls == null ? null : tls.newEngine(),
                        limits.writeQueueBytes(), false);
                SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
                Peer p = new Peer(stream, key, now);
                key.attach(p);
                perSource.put(source, already + 1);
                peers.put(remote, p);
            } catch (IOException | RuntimeException e) {
                closeQuietly(ch);
                reports.count(Reports.Kind.ERROR, "from " + Endpoints.format(remote) + ": " + e.getMessage(), now);
            }
        }
    }

    private void handle(Peer p, SelectionKey k, long now) {
        try {
            if (!k.isValid()) {
                close(p);
                return;
            }
            FramedStream s = p.stream;
            if (!s.handshakeDone()) {
                if (!s.handshake()) {
                    interest(p, s.wantsWrite());
                    return;
                }
                interest(p, s.wantsWrite());
            }
            if (k.isWritable() && s.flush()) {
                interest(p, false);
            }
            if (k.isReadable() || s.handshakeDone()) {
                read(p, now);
            }
        } catch (FramedStream.BrokenStreamException e) {
            reports.count(Reports.Kind.BAD_LENGTH, "from " + Endpoints.format(p.stream.remote()) + " ("
                    + e.getMessage() + ")", now);
            close(p);
        } catch (SSLException e) {
            reports.count(Reports.Kind.HANDSHAKE_FAILED, "from " + Endpoints.format(p.stream.remote()) + " ("
                    + e.getMessage() + ")", now);
            close(p);
        } catch (IOException | CancelledKeyException e) {
            close(p); // reset, closed by the peer: the ordinary end of a connection
        }
    }

    private void read(Peer p, long now) throws IOException {
        FramedStream s = p.stream;
        FrameReceiver rx = receiver;
        for (int i = 0; i < READS_PER_ROUND; i++) {
            int n = s.fill();
            boolean any = false;
            while (s.next(p.view)) {
                any = true;
                try {
                    rx.receive(transport, s.remote(), p.view);
                } catch (RuntimeException e) {
                    // a bug in a receiver must not kill the connection loop: log it and go on
                    LOG.error("Message handling failed on {} (tcp)", local, e);
                }
            }
            if (n > 0 || any) {
                p.lastRead = now;
            }
            if (n < 0) {
                close(p);
                return;
            }
            if (n == 0 && !(any && s.hasBufferedInput())) {
                return;
            }
        }
    }

    /** Sends what other transports deferred to the end of this round (frames to UDP members). */
    private void endBatch(SendBatch sends) {
        if (sends.pending() > 0) {
            try {
                sends.end();
            } catch (RuntimeException e) {
                LOG.error("TCP transport on {}: a deferred send failed", local, e);
            }
        }
    }

    private void flushDirty() {
        for (int i = 0; i < dirty.size(); i++) {
            Peer p = dirty.get(i);
            p.dirty = false;
            try {
                if (!p.stream.flush()) {
                    interest(p, true);
                }
            } catch (IOException e) {
                close(p);
            }
        }
        dirty.clear();
    }

    private void interest(Peer p, boolean write) {
        try {
            if (p.key.isValid()) {
                p.key.interestOps(write ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
            }
        } catch (CancelledKeyException e) {
            // closed meanwhile
        }
    }

    private void sweep(long now) {
        for (Peer p : peers.values()) {
            if (!p.stream.handshakeDone()) {
                if (now - p.openedAt > limits.handshakeNanos()) {
                    reports.count(Reports.Kind.HANDSHAKE_TIMEOUT, "from " + Endpoints.format(p.stream.remote()), now);
                    close(p);
                }
            } else if (now - p.lastRead > limits.idleNanos()) {
                reports.count(Reports.Kind.IDLE, "from " + Endpoints.format(p.stream.remote()), now);
                close(p);
            }
        }
    }

    private void close(Peer p) {
        close(p, true);
    }

    /**
     * Closes a connection. {@code ended}: it ended while the transport runs (closed or reset by the peer, idle,
     * broken), so the messages it still held are reported as transmit failures of the member's port and the switch
     * is told, which frees the port a few seconds later unless the member comes back on another connection.
     */
    private void close(Peer p, boolean ended) {
        boolean known = peers.remove(p.stream.remote(), p);
        if (known) {
            perSource.computeIfPresent(p.source, (a, n) -> n > 1 ? n - 1 : null);
        }
        p.key.cancel();
        p.stream.close();
        FrameReceiver rx = receiver;
        if (!known || !ended || rx == null || !p.stream.handshakeDone()) {
            return;
        }
        FramedStream.Staged lost = p.stream.discardStaged();
        try {
            if (lost.messages() > 0) {
                rx.transmitFailed(transport, p.port, lost.messages(), lost.bytes());
            }
            rx.connectionClosed(transport, p.stream.remote());
        } catch (RuntimeException e) {
            LOG.error("TCP transport on {}: the switch failed to handle the end of the connection from {}", local,
                    Endpoints.format(p.stream.remote()), e);
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // refusing it anyway
        }
    }
}
