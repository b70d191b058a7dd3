package org.vl2.transport.udp.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.List;
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
import org.vl2.netio.SendBatch;

/**
 * The UDP sockets that carry the switch's datagrams: {@code io.threads} sockets on one address and port (a reuseport
 * group, {@link DatagramEndpoints#openGroup}), each with a receive thread of its own ({@link ReceiveLoop}) that hands
 * each datagram to the switch on that thread, so the switch's forwarding runs on every core. The kernel spreads the
 * datagrams over the sockets by a key each transport chooses ({@link #steerByte}) that keeps a flow on one thread, so
 * a flow is never reordered. Each socket is a {@link DatagramEndpoint}: with {@code io.batch} N (the
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
    /** Most receive threads {@code io.threads} = 0 (one per core) gives: beyond that the machine is a big one. */
    static final int AUTO_THREADS_MAX = 16;

    /** The socket settings of a configuration, whichever component it belongs to. */
    record Params(String bindAddress, int port, int receiveBufferBytes, int sendBufferBytes, int batch,
                  boolean offload, int threads) {
    }

    /**
     * The sockets and their printable address, replaced together when the configuration changes; {@code batch} is
     * the batch size they were opened with (0: NIO), {@code offloadAsked} whether offload was asked for (what the
     * kernel granted may be less).
     */
    private record Socket(DatagramEndpoints.Group group, InetSocketAddress bound, String local, int batch,
                          boolean offloadAsked, ForeignSends foreign) {

        /** The first socket: the address, batch and offload of the group are read there. */
        DatagramEndpoint endpoint() {
            return group.first();
        }

        int threads() {
            return group.endpoints().size();
        }
    }

    private final String pid;
    private final String name;
    private final String mode;
    private final int steerByte;
    private final LongAdder sendFailures = new LongAdder();

    private final Object lifecycle = new Object();
    private volatile Socket socket;
    private volatile FrameReceiver receiver;
    /**
     * The receive loops, one per socket of the group and in its order; on a loop's thread sends are queued on its
     * socket (flushed when its batch is done), elsewhere they go at once.
     */
    private volatile Running running;

    /** The receive loops and, in the same order, the sockets they receive from and queue on. */
    private record Running(ReceiveLoop[] loops, List<DatagramEndpoint> endpoints) {

        /**
         * The socket of the loop whose thread this is, or null on any other thread (another transport's loop
         * included). Constant time whatever the number of loops: the thread knows its loop, the loop its handler,
         * the handler its index; no allocation.
         */
        DatagramEndpoint loopEndpoint() {
            ReceiveLoop l = ReceiveLoop.current();
            if (l != null && l.handler() instanceof Delivery d && d.index < loops.length && loops[d.index] == l) {
                return endpoints.get(d.index);
            }
            return null;
        }
    }
    /** Queued datagrams the kernel refused when the batch was flushed. */
    private final FlushDrops flushDrops = new FlushDrops();
    /** Where a flush reports what it dropped, by the port it was queued for (set on every endpoint opened). */
    private final DatagramEndpoint.Refusals refusals = this::refused;

    /**
     * @param steerByte the byte of a datagram's payload that picks its receive thread, or
     *                  {@link DatagramEndpoints#KERNEL_HASH} for the hash of its source and destination
     */
    UdpEndpoint(String pid, String name, String mode, int steerByte, Params params) {
        this.pid = pid;
        this.name = name;
        this.mode = mode;
        this.steerByte = steerByte;
        try {
            this.socket = open(validate(params), params);
        } catch (IllegalArgumentException | IllegalStateException e) {
            FATAL.error("{}; the {} transport does not start until this is fixed", e.getMessage(), name);
            throw e;
        }
        LOG.info("Started {} transport on UDP {} ({} mode, {})", name, socket.local(), mode, io(socket));
    }

    private static String io(Socket s) {
        String threads = s.threads() == 1 ? "one receive thread, " : s.threads() + " receive threads, "
                + (s.group().steerByte() >= 0 ? "each member on the one its session picks, "
                : "each source address on one, ");
        return threads + (s.batch() > 0 ? "up to " + s.batch() + " messages per system call, UDP offload "
                + s.endpoint().offload() : "one datagram per system call");
    }

    /** The receive threads a configuration gets: {@code io.threads}, 0 meaning one per core (at most 16). */
    static int effectiveThreads(Params config) {
        return config.threads() > 0 ? config.threads()
                : Math.min(Runtime.getRuntime().availableProcessors(), AUTO_THREADS_MAX);
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
                    && (batch > 0 && config.offload()) == old.offloadAsked()
                    && effectiveThreads(config) == old.threads()) {
                try {
                    for (DatagramEndpoint ep : old.group().endpoints()) {
                        ep.setBufferSizes(config.receiveBufferBytes(), config.sendBufferBytes());
                    }
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
                old.group().close();
                try {
                    next = open(bind, config);
                } catch (IllegalStateException e) {
                    LOG.error("{}; reopening with the previous configuration", e.getMessage());
                    try {
                        next = open(bind, new Params(config.bindAddress(), config.port(),
                                config.receiveBufferBytes(), config.sendBufferBytes(), old.batch(),
                                old.offloadAsked(), old.threads()));
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
                old.group().close();
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
        if (config.threads() < 0 || config.threads() > DatagramEndpoints.MAX_GROUP) {
            throw invalid("io.threads=" + config.threads() + " (must be 0.." + DatagramEndpoints.MAX_GROUP
                    + "; 0: one receive thread per core)");
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
            DatagramEndpoints.Group g = DatagramEndpoints.openGroup(bind, config.receiveBufferBytes(),
                    config.sendBufferBytes(), batch, config.offload(), effectiveThreads(config), steerByte);
            g.endpoints().forEach(ep -> ep.setRefusals(refusals));
            if (g.steeringRefused() != null) {
                LOG.warn("{} transport on UDP {}: the kernel refused to steer datagrams by their session ({}); the {} "
                        + "receive threads share them by the kernel's hash of source address and port instead (a "
                        + "member whose NAT mapping changes may move to another thread)", name,
                        Endpoints.format(g.first().localAddress()), g.steeringRefused(), g.endpoints().size());
            }
            String local = Endpoints.format(g.first().localAddress());
            return new Socket(g, bind, local, batch, batch > 0 && config.offload(),
                    new ForeignSends(g.first(), dropped -> droppedAtFlush(dropped, local)));
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
        s.group().close();
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

    /** Receive threads (sockets of the group) now. */
    int receiveThreads() {
        return socket.threads();
    }

    /** Sends refused at once plus queued datagrams the kernel refused when the batch was flushed. */
    long sendFailures() {
        return sendFailures.sum() + flushDrops.total();
    }

    @Override
    public void start(FrameReceiver frameReceiver) {
        synchronized (lifecycle) {
            if (running != null && receiver == frameReceiver) {
                return;
            }
            stop();
            Socket s = socket;
            if (!s.endpoint().isOpen()) {
                throw new IllegalStateException(name + " transport on " + s.local() + " is closed");
            }
            receiver = frameReceiver;
            List<DatagramEndpoint> eps = s.group().endpoints();
            ReceiveLoop[] started = new ReceiveLoop[eps.size()];
            for (int i = 0; i < started.length; i++) {
                // one thread keeps the name it always had; several are numbered
                String thread = "vl2-" + name + "-rx-" + (started.length == 1 ? "" : i + "-") + s.local();
                started[i] = ReceiveLoop.start(eps.get(i), thread,
                        new Delivery(i, eps.get(i), s.local(), frameReceiver));
            }
            running = new Running(started, eps);
        }
    }

    @Override
    public void stop() {
        synchronized (lifecycle) {
            Running r = running;
            if (r == null) {
                return;
            }
            // all loops told at once and waited for within one bound: a stop (a reconfiguration, a shutdown) of
            // 16 threads with stuck handlers takes 5 s, not 80
            int stuck = ReceiveLoop.stopAll(r.loops(), TimeUnit.SECONDS.toMillis(5));
            if (stuck > 0) {
                LOG.warn("{} of the {} {} receive threads on {} did not stop within 5 s", stuck, r.loops().length,
                        name, socket.local());
            }
            running = null;
            receiver = null;
        }
    }

    /**
     * The receive loop's handler: hands each datagram to the switch, then sends in one go what the switch queued
     * meanwhile (its sends on this thread are queued, see {@link #send}).
     */
    private final class Delivery implements ReceiveLoop.Handler {
        /** The loop's place in {@link Running}: how a send on its thread finds its socket. */
        final int index;
        private final DatagramEndpoint endpoint;
        private final String local;
        private final FrameReceiver rx;

        Delivery(int index, DatagramEndpoint endpoint, String local, FrameReceiver rx) {
            this.index = index;
            this.endpoint = endpoint;
            this.local = local;
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
     * Sends a datagram: queued on the loop's own socket when called on a receive loop's thread (it leaves when that
     * loop's batch is done; every socket of the group sends from the same address and port); from another thread that
     * ends send batches ({@link SendBatch}: the TCP transport's loop) queued on that thread's own send side of the
     * first socket and sent when its batch ends ({@link ForeignSends}); at once from any other thread. Position and
     * limit are unchanged.
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
        Running r = running;
        DatagramEndpoint own = r == null ? null : r.loopEndpoint();
        boolean ok;
        if (own != null) {
            ok = own.queue(to, frame, port);
        } else {
            Socket s = socket;
            SendBatch batch = SendBatch.current();
            Boolean queued = batch == null ? null : s.foreign().queue(batch, to, frame, port);
            ok = queued != null ? queued : s.endpoint().send(to, frame);
        }
        if (!ok) {
            sendFailures.increment();
        }
        return ok;
    }
}
