package org.vl2.transport.udp.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.DatagramEndpoints;
import org.vl2.netio.FlushDrops;
import org.vl2.netio.ReceiveLoop;

/**
 * A UDP socket that carries the switch's datagrams: one receive thread per transport ({@link ReceiveLoop}) hands
 * each datagram to the switch on that thread. The socket is a {@link DatagramEndpoint}: with {@code io.batch} N (the
 * default) a batched one, where one {@code recvmmsg} takes up to N datagrams, what the switch sends while handling
 * them is queued and leaves with one {@code sendmmsg} when the batch is done, so a system call is shared by many
 * frames; sends from other threads go at once. With {@code io.batch = 0}, or where JNA or Linux is missing, one on
 * NIO, one system call per datagram. Nothing is allocated or logged per datagram. A configuration change is applied
 * in place (see {@link #reconfigure}), so the switch keeps its ports. The two components on top differ only in name,
 * PID, default port and what their datagrams are: {@link UdpTransport} (raw frames) and {@link Vl2Transport} (vl2
 * protocol messages).
 */
abstract class UdpEndpoint implements Transport {

    /** Largest UDP payload over IPv4: nothing a peer sends is ever truncated, so oversize frames are seen. */
    static final int MAX_DATAGRAM = DatagramEndpoint.MAX_DATAGRAM;
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
     * The endpoint and its printable address, replaced together when the configuration changes; {@code batch} is
     * the batch size it was opened with (0: NIO), {@code offloadAsked} whether offload was asked for (what the kernel
     * granted may be less).
     */
    private record Socket(DatagramEndpoint endpoint, InetSocketAddress bound, String local, int batch,
                          boolean offloadAsked) {
    }

    private final String pid;
    private final String name;
    private final String mode;
    private final LongAdder sendFailures = new LongAdder();

    private final Object lifecycle = new Object();
    private volatile Socket socket;
    private volatile FrameReceiver receiver;
    /** The receive loop; on its thread sends are queued (flushed when the batch is done), elsewhere they go at once. */
    private volatile ReceiveLoop loop;
    /** Queued datagrams the kernel refused when the batch was flushed. */
    private final FlushDrops flushDrops = new FlushDrops();
    /** Where a flush reports what it dropped, by the port it was queued for (set on every endpoint opened). */
    private final DatagramEndpoint.Refusals refusals = this::refused;

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
        return s.batch() > 0 ? "up to " + s.batch() + " messages per system call, UDP offload "
                + s.endpoint().offload() : "one datagram per system call";
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
            int batch = effectiveBatch(config);
            if (bind.equals(old.bound()) && batch == old.batch()
                    && (batch > 0 && config.offload()) == old.offloadAsked()) {
                try {
                    old.endpoint().setBufferSizes(config.receiveBufferBytes(), config.sendBufferBytes());
                } catch (IOException e) {
                    FATAL.error("{} transport: cannot set socket buffers on {}: {}", name, old.local(),
                            e.getMessage());
                }
                return;
            }
            FrameReceiver r = receiver;
            Socket next;
            if (bind.equals(old.bound())) {
                // Only the I/O mode changes: the address cannot be bound twice, so close first, then reopen (the
                // kernel drops what arrives in between, a few datagrams at most).
                stop();
                old.endpoint().close();
                try {
                    next = open(bind, config);
                } catch (IllegalStateException e) {
                    LOG.error("{}; reopening with the previous configuration", e.getMessage());
                    try {
                        next = open(bind, new Params(config.bindAddress(), config.port(),
                                config.receiveBufferBytes(), config.sendBufferBytes(), old.batch(),
                                old.offloadAsked()));
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
                old.endpoint().close();
            }
            if (r != null) {
                start(r);
            }
            LOG.info("{} transport now on {} ({}), was {} ({})", name, next.local(), io(next), old.local(), io(old));
        }
    }

    /** The batch size a configuration gets here: 0 (NIO) where batched endpoints do not work. */
    private static int effectiveBatch(Params config) {
        return config.batch() == 0 || DatagramEndpoints.batchedUnavailableReason() != null ? 0 : config.batch();
    }

    /** Checks everything but the socket itself; returns the address to bind. */
    private InetSocketAddress validate(Params config) {
        if (config.port() < 1 || config.port() > 65535) {
            throw invalid("port=" + config.port() + " (must be 1..65535)");
        }
        if (config.batch() < 0 || config.batch() > DatagramEndpoint.MAX_BATCH) {
            throw invalid("io.batch=" + config.batch() + " (must be 0.." + DatagramEndpoint.MAX_BATCH
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
        int batch = effectiveBatch(config);
        if (config.batch() > 0 && batch == 0) {
            LOG.warn("{} transport: {}; using one datagram per system call (io.batch={} in {} has no effect)", name,
                    DatagramEndpoints.batchedUnavailableReason(), config.batch(), pid);
        }
        try {
            // An IPv4 bind address gets an IPv4 socket: 0.0.0.0 means all IPv4 addresses, not a dual-stack [::].
            DatagramEndpoint ep = DatagramEndpoints.open(bind, config.receiveBufferBytes(),
                    config.sendBufferBytes(), batch, config.offload());
            ep.setRefusals(refusals);
            return new Socket(ep, bind, Endpoints.format(ep.localAddress()), batch, batch > 0 && config.offload());
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
        s.endpoint().close();
        LOG.info("Stopped {} transport on UDP {}", name, s.local());
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

    /** Whether only this host can reach the socket (bound to a loopback address). */
    boolean loopbackOnly() {
        return socket.bound().getAddress().isLoopbackAddress();
    }

    /** The port actually bound (differs from the configured one only when 0 was asked in tests). */
    int boundPort() {
        return socket.endpoint().localAddress().getPort();
    }

    /** Datagrams per system call now: 0 when the socket is on NIO. */
    int batchSize() {
        return socket.batch();
    }

    /** Sends refused at once plus queued datagrams the kernel refused when the batch was flushed. */
    long sendFailures() {
        return sendFailures.sum() + flushDrops.total();
    }

    @Override
    public void start(FrameReceiver frameReceiver) {
        synchronized (lifecycle) {
            if (loop != null && receiver == frameReceiver) {
                return;
            }
            stop();
            Socket s = socket;
            if (!s.endpoint().isOpen()) {
                throw new IllegalStateException(name + " transport on " + s.local() + " is closed");
            }
            receiver = frameReceiver;
            loop = ReceiveLoop.start(s.endpoint(), "vl2-" + name + "-rx-" + s.local(),
                    new Delivery(s, frameReceiver));
        }
    }

    @Override
    public void stop() {
        synchronized (lifecycle) {
            ReceiveLoop l = loop;
            if (l == null) {
                return;
            }
            if (!l.stop(TimeUnit.SECONDS.toMillis(5))) {
                LOG.warn("{} receive thread on {} did not stop within 5 s", name, socket.local());
            }
            loop = null;
            receiver = null;
        }
    }

    /**
     * The receive loop's handler: hands each datagram to the switch, then sends in one go what the switch queued
     * meanwhile (its sends on this thread are queued, see {@link #send}).
     */
    private final class Delivery implements ReceiveLoop.Handler {
        private final DatagramEndpoint endpoint;
        private final String local;
        private final FrameReceiver rx;

        Delivery(Socket s, FrameReceiver rx) {
            this.endpoint = s.endpoint();
            this.local = s.local();
            this.rx = rx;
        }

        @Override
        public void datagram(InetSocketAddress source, ByteBuffer datagram) {
            rx.receive(UdpEndpoint.this, source, datagram);
        }

        @Override
        public void batchDone() {
            int dropped = endpoint.takeAutoFlushDropped();
            if (endpoint.queued() > 0) {
                dropped += endpoint.flush();
            }
            if (dropped > 0) {
                droppedAtFlush(dropped, local);
            }
        }

        @Override
        public void receiveFailed(IOException e) {
            LOG.warn("{} receive on {} failed: {}", name, local, e.toString());
        }

        @Override
        public void handlingFailed(RuntimeException e) {
            // A bug in a receiver must not kill the port: log it and go on with the next frame.
            LOG.error("Datagram handling failed on {} ({})", local, name, e);
        }
    }

    /**
     * Datagrams a flush dropped, by the port they were queued for (null: a control reply): the switch moves them from
     * the port's TX to its TX drops. On the flushing (receive loop) thread; allocates nothing.
     */
    private void refused(Object port, int datagrams, int bytes) {
        flushDrops.add(datagrams);
        FrameReceiver r = receiver;
        if (r != null) {
            r.transmitFailed(this, (PortId) port, datagrams, bytes);
        }
    }

    /** Says at most once a minute that the kernel refused datagrams at flush (counted by {@link #refused}). */
    private void droppedAtFlush(int dropped, String local) {
        long report = flushDrops.due();
        if (report > 0) {
            LOG.warn("{} transport on {}: {} datagrams dropped on send since the last report (socket send buffer "
                    + "full or destination unreachable; send.buffer.bytes in {})", name, local, report, pid);
        }
    }

    /**
     * Sends a datagram: queued when called on the receive loop's thread (it leaves when the batch is done), at once
     * from any other thread. Position and limit are unchanged.
     */
    @Override
    public boolean send(SocketAddress remote, ByteBuffer frame) {
        return send(remote, frame, null);
    }

    /** {@link #send(SocketAddress, ByteBuffer)}; a queued datagram of {@code port} the flush drops is reported by it. */
    @Override
    public boolean send(SocketAddress remote, ByteBuffer frame, PortId port) {
        if (!(remote instanceof InetSocketAddress to)) {
            sendFailures.increment();
            return false;
        }
        DatagramEndpoint ep = socket.endpoint();
        ReceiveLoop l = loop;
        boolean ok = l != null && l.onLoopThread() ? ep.queue(to, frame, port) : ep.send(to, frame);
        if (!ok) {
            sendFailures.increment();
        }
        return ok;
    }
}
