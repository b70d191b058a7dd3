package org.vl2.transport.udp.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.netio.UdpBatchSocket;

/**
 * A UDP socket that carries the switch's datagrams: one receive thread per transport hands each datagram to the
 * switch on that thread. With {@code io.batch} N (the default) the socket is a {@link UdpBatchSocket}: one
 * {@code recvmmsg} takes up to N datagrams, what the switch sends while handling them is queued and leaves with one
 * {@code sendmmsg} when the batch is done, so a system call is shared by many frames; sends from other threads go
 * at once. With {@code io.batch = 0}, or where JNA or Linux is missing, it is a non-blocking NIO channel, one
 * system call per datagram. Nothing is allocated or logged per datagram. A configuration change is applied in
 * place (see {@link #reconfigure}), so the switch keeps its ports. The two components on top differ only in name, PID,
 * default port and what their datagrams are: {@link UdpTransport} (raw frames) and {@link Vl2Transport} (vl2
 * protocol messages).
 */
abstract class UdpEndpoint implements Transport {

    /** Largest UDP payload over IPv4: nothing a peer sends is ever truncated, so oversize frames are seen. */
    static final int MAX_DATAGRAM = 65_507;
    private static final Logger LOG = LoggerFactory.getLogger(UdpEndpoint.class);
    /** Contract with the launchers: the one ERROR saying why a transport does not start (docs/operating.md). */
    static final Logger FATAL = LoggerFactory.getLogger("org.vl2.fatal");

    /** Default of {@code io.batch}: messages per system call (measured in bench/RESULTS.md). */
    static final int DEFAULT_BATCH = 64;

    /** The socket settings of a configuration, whichever component it belongs to. */
    record Params(String bindAddress, int port, int receiveBufferBytes, int sendBufferBytes, int batch,
                  boolean offload) {
    }

    /**
     * The socket (a batched one, or a channel and its selector) and its printable address: replaced together when
     * the configuration changes.
     */
    private record Socket(UdpBatchSocket batch, DatagramChannel channel, Selector selector, InetSocketAddress bound,
                          String local, boolean offloadAsked) {
        boolean isOpen() {
            return batch != null ? batch.isOpen() : channel.isOpen();
        }

        int batchSize() {
            return batch != null ? batch.batchSize() : 0;
        }

        /** The offload this socket was opened with (what the kernel granted may be less). */
        boolean offload() {
            return batch != null && offloadAsked;
        }
    }

    private final String pid;
    private final String name;
    private final String mode;
    private final ByteBuffer rxBuffer = ByteBuffer.allocateDirect(MAX_DATAGRAM + 1);
    private final LongAdder sendFailures = new LongAdder();

    private final Object lifecycle = new Object();
    private volatile Socket socket;
    private Thread receiveThread;
    private volatile FrameReceiver receiver;
    private volatile boolean running;
    /** The receive thread of a batched socket: its sends are queued, everyone else's go at once. */
    private volatile Thread batchOwner;
    private final LongAdder batchDrops = new LongAdder();
    private volatile long batchDropsLogged;
    private long lastDropLog;

    UdpEndpoint(String pid, String name, String mode, Params params) {
        this.pid = pid;
        this.name = name;
        this.mode = mode;
        try {
            this.socket = open(validate(params), params);
        } catch (IllegalArgumentException | IllegalStateException e) {
            FATAL.error("{}; the {} transport does not start until this is fixed", e.getMessage(), name);
            throw e;
        }
        LOG.info("Started {} transport on UDP {} ({} mode, {})", name, socket.local(), mode, io(socket));
    }

    private static String io(Socket s) {
        return s.batch() != null ? "up to " + s.batchSize() + " messages per system call, UDP offload "
                + s.batch().offload() : "one datagram per system call";
    }

    /**
     * Applies a new configuration without losing the switch's ports: an invalid one is refused and the last good
     * one stays; a new address or port is bound first and swapped in only once it works.
     */
    void reconfigure(Params config) {
        InetSocketAddress bind;
        try {
            bind = validate(config);
        } catch (IllegalArgumentException e) {
            LOG.error("{}; keeping the previous configuration (listening on {})", e.getMessage(), socket.local());
            return;
        }
        synchronized (lifecycle) {
            Socket old = socket;
            if (bind.equals(old.bound()) && effectiveBatch(config) == old.batchSize()
                    && (effectiveBatch(config) > 0 && config.offload()) == old.offload()) {
                try {
                    setBuffers(old, config);
                } catch (IOException e) {
                    FATAL.error("{} transport: cannot set socket buffers on {}: {}", name, old.local(), e.getMessage());
                }
                return;
            }
            FrameReceiver r = receiver;
            Socket next;
            if (bind.equals(old.bound())) {
                // Only the I/O mode changes: the address cannot be bound twice, so close first, then reopen (the
                // kernel drops what arrives in between, a few datagrams at most).
                stop();
                close(old);
                try {
                    next = open(bind, config);
                } catch (IllegalStateException e) {
                    LOG.error("{}; reopening with the previous configuration", e.getMessage());
                    try {
                        next = open(bind, new Params(config.bindAddress(), config.port(),
                                config.receiveBufferBytes(), config.sendBufferBytes(), old.batchSize(),
                                old.offload()));
                    } catch (IllegalStateException again) {
                        LOG.error("{}; the {} transport is down until its configuration changes", again.getMessage(),
                                name);
                        return;
                    }
                }
                socket = next;
            } else {
                try {
                    next = open(bind, config);
                } catch (IllegalStateException e) {
                    LOG.error("{}; keeping the previous configuration (listening on {})", e.getMessage(), old.local());
                    return;
                }
                stop();
                socket = next;
                close(old);
            }
            if (r != null) {
                start(r);
            }
            LOG.info("{} transport now on {} ({}), was {} ({})", name, next.local(), io(next), old.local(), io(old));
        }
    }

    private static void setBuffers(Socket s, Params config) throws IOException {
        if (s.batch() != null) {
            s.batch().setBufferSizes(config.receiveBufferBytes(), config.sendBufferBytes());
        } else {
            s.channel().setOption(StandardSocketOptions.SO_RCVBUF, config.receiveBufferBytes());
            s.channel().setOption(StandardSocketOptions.SO_SNDBUF, config.sendBufferBytes());
        }
    }

    /** The batch size a configuration gets here: 0 (NIO) where batched sockets do not work. */
    private int effectiveBatch(Params config) {
        return config.batch() == 0 || batchUnavailable() != null ? 0 : config.batch();
    }

    /** Null if batched sockets work here, else why not. */
    private static String batchUnavailable() {
        try {
            return UdpBatchSocket.unavailableReason();
        } catch (LinkageError e) {
            return "vl2-netio is not usable: " + e;
        }
    }

    /** Checks everything but the socket itself; returns the address to bind. */
    private InetSocketAddress validate(Params config) {
        if (config.port() < 1 || config.port() > 65535) {
            throw invalid("port=" + config.port() + " (must be 1..65535)");
        }
        if (config.batch() < 0 || config.batch() > UdpBatchSocket.MAX_BATCH) {
            throw invalid("io.batch=" + config.batch() + " (must be 0.." + UdpBatchSocket.MAX_BATCH
                    + "; 0: one datagram per system call)");
        }
        if (config.receiveBufferBytes() < 65536 || config.sendBufferBytes() < 65536) {
            throw invalid("receive.buffer.bytes=" + config.receiveBufferBytes() + ", send.buffer.bytes="
                    + config.sendBufferBytes() + " (each must be at least 65536)");
        }
        String host = config.bindAddress() == null ? "" : config.bindAddress().trim();
        try {
            if (host.isEmpty()) {
                throw new UnknownHostException("empty");
            }
            return new InetSocketAddress(InetAddress.getByName(host), config.port());
        } catch (UnknownHostException | RuntimeException e) {
            throw invalid("bind.address=" + config.bindAddress() + " (not an address of this host: "
                    + e.getMessage() + ")");
        }
    }

    private Socket open(InetSocketAddress bind, Params config) {
        int batch = config.batch();
        if (batch > 0) {
            String why = batchUnavailable();
            if (why == null) {
                return openBatch(bind, config);
            }
            LOG.warn("{} transport: {}; using one datagram per system call (io.batch={} in {} has no effect)", name,
                    why, batch, pid);
        }
        DatagramChannel ch = null;
        Selector sel = null;
        try {
            // An IPv4 bind address gets an IPv4 socket: 0.0.0.0 means all IPv4 addresses, not a dual-stack [::].
            ch = DatagramChannel.open(bind.getAddress() instanceof Inet4Address
                    ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
            ch.setOption(StandardSocketOptions.SO_RCVBUF, config.receiveBufferBytes());
            ch.setOption(StandardSocketOptions.SO_SNDBUF, config.sendBufferBytes());
            ch.bind(bind);
            ch.configureBlocking(false);
            sel = Selector.open();
            ch.register(sel, SelectionKey.OP_READ);
            return new Socket(null, ch, sel, bind, Endpoints.format((InetSocketAddress) ch.getLocalAddress()), false);
        } catch (BindException e) {
            close(ch, sel);
            throw failed("cannot listen on UDP " + Endpoints.format(bind) + ": " + e.getMessage()
                    + " (is another switch running? set 'port' or 'bind.address' in " + pid + ")", e);
        } catch (IOException e) {
            close(ch, sel);
            throw failed("cannot open UDP socket on " + Endpoints.format(bind) + ": " + e.getMessage(), e);
        }
    }

    private Socket openBatch(InetSocketAddress bind, Params config) {
        try {
            UdpBatchSocket b = UdpBatchSocket.open(bind, config.receiveBufferBytes(), config.sendBufferBytes(),
                    config.batch(), config.offload());
            return new Socket(b, null, null, bind, Endpoints.format(b.localAddress()), config.offload());
        } catch (BindException e) {
            throw failed("cannot listen on UDP " + Endpoints.format(bind) + ": " + e.getMessage()
                    + " (is another switch running? set 'port' or 'bind.address' in " + pid + ")", e);
        } catch (IOException e) {
            throw failed("cannot open UDP socket on " + Endpoints.format(bind) + ": " + e.getMessage(), e);
        }
    }

    IllegalArgumentException invalid(String what) {
        return new IllegalArgumentException("Invalid configuration " + pid + ": " + what);
    }

    private IllegalStateException failed(String what, Exception cause) {
        return new IllegalStateException(name + " transport: " + what, cause);
    }

    void close() {
        stop();
        Socket s = socket;
        close(s);
        LOG.info("Stopped {} transport on UDP {}", name, s.local());
    }

    private static void close(Socket s) {
        if (s.batch() != null) {
            s.batch().close();
        } else {
            close(s.channel(), s.selector());
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String mode() {
        return mode;
    }

    @Override
    public String localAddress() {
        return socket.local();
    }

    /** The port actually bound (differs from the configured one only when 0 was asked in tests). */
    int boundPort() {
        Socket s = socket;
        if (s.batch() != null) {
            return s.batch().localAddress().getPort();
        }
        try {
            return ((InetSocketAddress) s.channel().getLocalAddress()).getPort();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Datagrams per system call now: 0 when the socket is a plain NIO channel. */
    int batchSize() {
        return socket.batchSize();
    }

    /** Sends refused at once plus queued datagrams the kernel refused when the batch was flushed. */
    long sendFailures() {
        return sendFailures.sum() + batchDrops.sum();
    }

    @Override
    public void start(FrameReceiver frameReceiver) {
        synchronized (lifecycle) {
            if (running && receiver == frameReceiver) {
                return;
            }
            stop();
            Socket s = socket;
            if (!s.isOpen()) {
                throw new IllegalStateException(name + " transport on " + s.local() + " is closed");
            }
            receiver = frameReceiver;
            running = true;
            Runnable loop = s.batch() != null ? () -> batchLoop(s) : () -> receiveLoop(s);
            receiveThread = new Thread(loop, "vl2-" + name + "-rx-" + s.local());
            if (s.batch() != null) {
                batchOwner = receiveThread;
            }
            receiveThread.setDaemon(true);
            receiveThread.start();
        }
    }

    @Override
    public void stop() {
        synchronized (lifecycle) {
            Thread t = receiveThread;
            if (t == null) {
                return;
            }
            running = false;
            Socket s = socket;
            if (s.batch() != null) {
                s.batch().wakeup();
            } else {
                s.selector().wakeup();
            }
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                LOG.warn("{} receive thread on {} did not stop within 5 s", name, socket.local());
            }
            receiveThread = null;
            batchOwner = null;
            receiver = null;
        }
    }

    private void receiveLoop(Socket s) {
        final ByteBuffer buf = rxBuffer;
        final FrameReceiver rx = receiver;
        final DatagramChannel channel = s.channel();
        final Selector selector = s.selector();
        final String local = s.local();
        while (running) {
            try {
                buf.clear();
                SocketAddress source = channel.receive(buf);
                if (source == null) {
                    // Nothing queued: wait for the socket, but wake up now and then to notice stop().
                    selector.select(500);
                    selector.selectedKeys().clear();
                    continue;
                }
                buf.flip();
                rx.receive(this, source, buf);
            } catch (ClosedChannelException e) {
                break;
            } catch (IOException e) {
                if (running) {
                    LOG.warn("{} receive on {} failed: {}", name, local, e.toString());
                }
            } catch (RuntimeException e) {
                // A bug in a receiver must not kill the port: log it (rarely) and go on with the next frame.
                LOG.error("Datagram handling failed on {} ({})", local, name, e);
            }
        }
    }

    /**
     * The receive loop of a batched socket: takes up to a batch of datagrams, hands each to the switch, then sends
     * in one go what the switch queued meanwhile (its sends on this thread are queued, see {@link #send}).
     */
    private void batchLoop(Socket s) {
        final FrameReceiver rx = receiver;
        final UdpBatchSocket socket = s.batch();
        final String local = s.local();
        while (running) {
            int n;
            try {
                n = socket.receive(500);
            } catch (ClosedChannelException e) {
                break;
            } catch (IOException e) {
                if (running) {
                    LOG.warn("{} receive on {} failed: {}", name, local, e.getMessage());
                }
                continue;
            }
            for (int i = 0; i < n; i++) {
                try {
                    rx.receive(this, socket.source(i), socket.datagram(i));
                } catch (RuntimeException e) {
                    LOG.error("Datagram handling failed on {} ({})", local, name, e);
                }
            }
            if (socket.queued() > 0) {
                int dropped = socket.flush();
                if (dropped > 0) {
                    droppedAtFlush(rx, dropped, local);
                }
            }
        }
    }

    /** Counts datagrams the kernel refused at flush, tells the switch (TX errors), and says so at most once a minute. */
    private void droppedAtFlush(FrameReceiver rx, int dropped, String local) {
        batchDrops.add(dropped);
        rx.transmitFailed(this, dropped);
        long now = System.nanoTime();
        if (now - lastDropLog > TimeUnit.MINUTES.toNanos(1) || lastDropLog == 0) {
            long total = batchDrops.sum();
            LOG.warn("{} transport on {}: {} datagrams dropped on send since the last report (socket send buffer "
                    + "full or destination unreachable; send.buffer.bytes in {})", name, local,
                    total - batchDropsLogged, pid);
            batchDropsLogged = total;
            lastDropLog = now;
        }
    }

    @Override
    public boolean send(SocketAddress remote, ByteBuffer frame) {
        Socket s = socket;
        UdpBatchSocket batch = s.batch();
        if (batch != null) {
            if (!(remote instanceof InetSocketAddress to)) {
                sendFailures.increment();
                return false;
            }
            boolean ok = Thread.currentThread() == batchOwner ? batch.queue(to, frame) : batch.send(to, frame);
            if (!ok) {
                sendFailures.increment();
            }
            return ok;
        }
        final int position = frame.position();
        try {
            // Non-blocking: a full socket buffer drops the frame (as a congested switch port would).
            return s.channel().send(frame, remote) > 0;
        } catch (IOException | RuntimeException e) {
            sendFailures.increment();
            return false;
        } finally {
            frame.position(position);
        }
    }

    private static void close(DatagramChannel ch, Selector sel) {
        try {
            if (sel != null) {
                sel.close();
            }
        } catch (IOException ignored) {
            // closing: nothing left to do
        }
        try {
            if (ch != null) {
                ch.close();
            }
        } catch (IOException ignored) {
            // closing: nothing left to do
        }
    }
}
