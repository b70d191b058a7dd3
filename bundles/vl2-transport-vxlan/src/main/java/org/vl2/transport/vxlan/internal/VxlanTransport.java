package org.vl2.transport.vxlan.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.Networks;
import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.FlushDrops;
import org.vl2.netio.ReceiveLoop;
import org.vl2.protocol.VxlanHeader;
import org.vl2.transport.vxlan.internal.VxlanSettings.Remote;

/**
 * VXLAN transport (RFC 7348): remote VTEPs, e.g. Linux {@code ip link add vx0 type vxlan id 42 remote SWITCH
 * dstport 4789}, are ports of the switch, one per (VTEP, network). The VNI selects the network through the
 * configured list only (see {@link VniMap}: no VNI is a network implicitly), and {@code allowed.vteps} may narrow who
 * may send; the switch admits VTEPs only into networks open to plaintext. A VTEP is identified by its IP address and
 * the configured VXLAN port, never by the datagram's source port, which a VTEP varies per flow.
 *
 * <p>One receive thread ({@link ReceiveLoop}) takes up to {@code io.batch} datagrams from the VXLAN port per system
 * call and hands each decapsulated frame to the switch on that thread, in place. Frames go out through a small pool
 * of send sockets bound to {@code source.port.range}, picked by a hash of the inner flow ({@link FlowHash}),
 * encapsulated in a per-thread direct buffer: what the switch sends while it handles a received batch is queued
 * and leaves with one system call per send socket when the batch is done (UDP GSO where frames of a flow follow
 * each other), sends from other threads go at once. All sockets are {@link DatagramEndpoint}s: batched, or on NIO
 * with {@code io.batch = 0}. Nothing is allocated or logged per frame. A configuration change is applied in place
 * (see {@link #modified}), so the switch keeps its ports.
 */
@Component(service = Transport.class, configurationPid = VxlanTransport.PID, immediate = true,
        property = Transport.PROPERTY + "=" + VxlanTransport.NAME)
@Designate(ocd = VxlanTransportConfig.class)
public final class VxlanTransport implements Transport {

    static final String PID = "org.vl2.transport.vxlan";
    static final String NAME = "vxlan";
    static final String MODE = "vxlan";
    static final int DEFAULT_PORT = VxlanHeader.DEFAULT_PORT;
    /** Default of {@code io.batch}, as the UDP transports'. */
    static final int DEFAULT_BATCH = 64;
    /** Largest UDP payload over IPv4: nothing a VTEP sends is truncated, so the switch sees oversize frames. */
    static final int MAX_DATAGRAM = DatagramEndpoint.MAX_DATAGRAM;
    private static final Logger LOG = LoggerFactory.getLogger(VxlanTransport.class);
    /** Contract with the launchers: the one ERROR saying why this component does not start (docs/operating.md). */
    private static final Logger FATAL = LoggerFactory.getLogger("org.vl2.fatal");

    /** What the hot paths read, replaced as a whole by {@link #modified}. */
    private record State(VxlanSettings settings, VxlanSockets sockets, VtepCache vteps) {

        State(VxlanSettings settings, VxlanSockets sockets) {
            this(settings, sockets, new VtepCache(settings.port(), settings.staticVtep()));
        }
    }

    /** A port of the switch, as attachPort/detachPort name it. */
    private record PortKey(InetSocketAddress remote, long network) {
    }

    /** Send is called from other transports' receive threads: one encapsulation buffer per thread. */
    private final ThreadLocal<ByteBuffer> txBuffer =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(MAX_DATAGRAM));
    private final LongAdder malformed = new LongAdder();
    private final LongAdder badFlags = new LongAdder();
    private final LongAdder unmappedVni = new LongAdder();
    private final LongAdder refusedVtep = new LongAdder();
    private final LongAdder sendFailures = new LongAdder();
    /** Queued datagrams the kernel refused when a batch was flushed. */
    private final FlushDrops flushDrops = new FlushDrops();
    private volatile boolean warnedMalformed;
    private volatile boolean warnedBadFlags;
    private volatile boolean warnedUnmapped;
    private volatile boolean warnedRefused;

    private final Object lifecycle = new Object();
    private volatile State state;
    /** The receiver between start and stop (guarded by lifecycle). */
    private FrameReceiver receiver;
    /** The receive loop and its handler; on the loop's thread sends are queued until the batch is done. */
    private volatile ReceiveLoop loop;
    private volatile Delivery delivery;

    @Activate
    public VxlanTransport(VxlanTransportConfig config) {
        VxlanSettings settings;
        try {
            settings = VxlanSettings.of(config);
            this.state = new State(settings, VxlanSockets.open(settings, null));
        } catch (IllegalArgumentException | IllegalStateException e) {
            FATAL.error("{}; the VXLAN transport does not start until this is fixed", e.getMessage());
            throw e;
        }
        LOG.info("Started VXLAN transport on {}: {}; {}", state.sockets().local(), settings.describe(),
                state.sockets().io());
        warnIfNothingMapped(settings);
    }

    /** No VNI mapped: every frame is dropped. Said at start and on change, since it used to mean "VNI n = network n". */
    private static void warnIfNothingMapped(VxlanSettings settings) {
        if (settings.vnis().isEmpty()) {
            LOG.warn("VXLAN transport: no VNI is mapped ('vni' in {} is empty), so every VXLAN frame is dropped: a VNI is"
                    + " no longer network n implicitly. Map VNI=NETWORK (bin/vl2-switch --vxlan-vni 42=2a) for a "
                    + "network with plaintext=true (--network id=2a,plaintext=true)", PID);
        }
    }

    /**
     * Applies a new configuration without losing the switch's ports: an invalid one is refused and the last good one
     * stays; new sockets are bound before the old ones go (unless they need the old ones' ports, see below) and
     * static remotes that come or go are attached to or detached from the switch.
     */
    @Modified
    void modified(VxlanTransportConfig config) {
        VxlanSettings next;
        try {
            next = VxlanSettings.of(config);
        } catch (IllegalArgumentException e) {
            LOG.error("{}; keeping the previous configuration ({})", e.getMessage(), state.sockets().local());
            return;
        }
        synchronized (lifecycle) {
            State old = state;
            FrameReceiver r = receiver;
            VxlanSockets sockets = old.sockets();
            if (next.equals(old.settings()) && sockets.main().isOpen()) {
                return; // e.g. the same file saved again: nothing to do, nothing to log
            }
            if (next.sameSockets(old.settings()) && sockets.main().isOpen()) {
                sockets.applyBuffers(next);
                state = new State(next, sockets);
            } else if (!sockets.conflicts(next)) {
                try {
                    sockets = VxlanSockets.open(next, old.sockets());
                } catch (IllegalStateException e) {
                    LOG.error("{}; keeping the previous configuration ({})", e.getMessage(), old.sockets().local());
                    return;
                }
                sockets.applyBuffers(next);
                boolean newMain = sockets.main() != old.sockets().main();
                if (newMain) {
                    stopThread();
                } else if (delivery != null) {
                    reportRefusals(sockets, delivery); // new send sockets: before the loop thread can see them
                }
                state = new State(next, sockets);
                old.sockets().closeUnused(sockets);
                if (newMain && r != null) {
                    startThread(sockets, r);
                }
            } else {
                // The new sockets need ports the old ones hold on another address (0.0.0.0:4789 -> 192.0.2.1:4789)
                // or of another kind (io.batch, io.offload): they cannot be bound first, so close, bind, and on
                // failure bind the old configuration again.
                stopThread();
                old.sockets().close();
                try {
                    sockets = VxlanSockets.open(next, null);
                } catch (IllegalStateException e) {
                    rollBack(old, r, e);
                    return;
                }
                state = new State(next, sockets);
                if (r != null) {
                    startThread(sockets, r);
                }
            }
            // A new mapping may fix (or cause) drops: say so again once.
            warnedMalformed = false;
            warnedBadFlags = false;
            warnedUnmapped = false;
            warnedRefused = false;
            if (r != null) {
                reconcile(r, old.settings().remotes(), next.remotes());
            }
            LOG.info("VXLAN transport reconfigured on {}: {}; {}", sockets.local(), next.describe(), sockets.io());
            warnIfNothingMapped(next);
        }
    }

    private void rollBack(State old, FrameReceiver r, IllegalStateException cause) {
        try {
            VxlanSockets back = VxlanSockets.open(old.settings(), null);
            state = new State(old.settings(), back);
            if (r != null) {
                startThread(back, r);
            }
            LOG.error("{}; keeping the previous configuration ({})", cause.getMessage(), back.local());
        } catch (IllegalStateException e) {
            // Nothing to fall back on: sends fail and nothing is received until a configuration that binds.
            LOG.error("{}; and the previous configuration cannot be bound again either ({}): the VXLAN transport "
                    + "has no socket until its configuration is fixed", cause.getMessage(), e.getMessage());
        }
    }

    /** Attaches the static remotes that are new and detaches those that are gone, by port identity. */
    private void reconcile(FrameReceiver r, List<Remote> before, List<Remote> after) {
        Set<PortKey> was = keys(before);
        Set<PortKey> is = keys(after);
        for (PortKey k : was) {
            if (!is.contains(k)) {
                r.detachPort(this, k.remote(), k.network());
            }
        }
        for (PortKey k : is) {
            if (!was.contains(k)) {
                attach(r, k);
            }
        }
    }

    private static Set<PortKey> keys(List<Remote> remotes) {
        Set<PortKey> keys = new LinkedHashSet<>();
        for (Remote rm : remotes) {
            keys.add(new PortKey(rm.address(), rm.network()));
        }
        return keys;
    }

    private void attach(FrameReceiver r, PortKey k) {
        if (r.attachPort(this, k.remote(), k.network()) == null) {
            // The switch says why (a network it does not host, or no room for another port).
            LOG.warn("VXLAN transport: the switch did not attach static remote {} of network {}; floods of that "
                    + "network reach it only once it has sent a frame", Endpoints.format(k.remote()),
                    Networks.format(k.network()));
        }
    }

    @Deactivate
    void deactivate() {
        synchronized (lifecycle) {
            stopThread();
            receiver = null;
            state.sockets().close();
        }
        LOG.info("Stopped VXLAN transport on {}", state.sockets().local());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String mode() {
        return MODE;
    }

    @Override
    public String localAddress() {
        return state.sockets().local();
    }

    /**
     * Starts the receive thread, then makes sure every static remote is a port of the switch, so floods reach it
     * before it has sent anything.
     */
    @Override
    public void start(FrameReceiver frameReceiver) {
        synchronized (lifecycle) {
            if (receiver == frameReceiver && loop != null) {
                return;
            }
            stop();
            State s = state;
            if (!s.sockets().main().isOpen()) {
                throw new IllegalStateException("VXLAN transport on " + s.sockets().local() + " is closed");
            }
            receiver = frameReceiver;
            startThread(s.sockets(), frameReceiver);
            for (PortKey k : keys(s.settings().remotes())) {
                attach(frameReceiver, k);
            }
        }
    }

    /** Stops delivery. Detaches nothing: the ports belong to the switch, which keeps them across a restart. */
    @Override
    public void stop() {
        synchronized (lifecycle) {
            stopThread();
            receiver = null;
        }
    }

    private void startThread(VxlanSockets s, FrameReceiver r) {
        Delivery d = new Delivery(s, r);
        reportRefusals(s, d);
        delivery = d;
        loop = ReceiveLoop.start(s.main(), "vl2-vxlan-rx-" + s.local(), d);
    }

    /** What flushes drop on any of these sockets goes to {@code d} (and so to the switch, by port). */
    private static void reportRefusals(VxlanSockets s, Delivery d) {
        s.main().setRefusals(d);
        for (DatagramEndpoint e : s.senders()) {
            e.setRefusals(d);
        }
    }

    private void stopThread() {
        ReceiveLoop l = loop;
        if (l == null) {
            return;
        }
        if (!l.stop(TimeUnit.SECONDS.toMillis(5))) {
            LOG.warn("VXLAN receive thread on {} did not stop within 5 s", delivery.local);
        }
        loop = null;
        delivery = null;
    }

    /**
     * The receive loop's handler: decapsulates each datagram for the switch, then flushes the send sockets that the
     * switch queued frames on meanwhile (see {@link #transmit}). Its fields belong to the loop's thread.
     */
    private final class Delivery implements ReceiveLoop.Handler, DatagramEndpoint.Refusals {
        private final DatagramEndpoint main;
        private final String local;
        private final FrameReceiver rx;
        /** Endpoints with queued datagrams since the last batch: the send sockets of up to two configurations. */
        private final DatagramEndpoint[] pending = new DatagramEndpoint[2 * VxlanSettings.MAX_SOURCE_PORTS + 1];
        private int pendingCount;

        Delivery(VxlanSockets s, FrameReceiver rx) {
            this.main = s.main();
            this.local = s.local();
            this.rx = rx;
        }

        @Override
        public void datagram(InetSocketAddress source, ByteBuffer datagram) {
            deliver(rx, source, datagram);
        }

        /** Notes that {@code e} has datagrams queued (it has exactly one right after its first). */
        void queued(DatagramEndpoint e) {
            if (e.queued() != 1) {
                return;
            }
            for (int i = 0; i < pendingCount; i++) {
                if (pending[i] == e) {
                    return;
                }
            }
            if (pendingCount == pending.length) {
                flushed(e.flush()); // not expected (a third configuration within one batch): flush it now
                return;
            }
            pending[pendingCount++] = e;
        }

        @Override
        public void batchDone() {
            int dropped = main.takeAutoFlushDropped() + main.flush();
            for (int i = 0; i < pendingCount; i++) {
                DatagramEndpoint e = pending[i];
                pending[i] = null;
                if (e != main) {
                    dropped += e.takeAutoFlushDropped() + e.flush();
                }
            }
            pendingCount = 0;
            flushed(dropped);
        }

        /**
         * Datagrams a flush dropped, by the port they were queued for: the switch moves them from the port's TX to
         * its TX drops, in the frame's bytes (without the VXLAN header this transport added).
         */
        @Override
        public void refused(Object port, int datagrams, int bytes) {
            flushDrops.add(datagrams);
            int frameBytes = port == null ? bytes : bytes - datagrams * VxlanHeader.LENGTH;
            rx.transmitFailed(VxlanTransport.this, (PortId) port, datagrams, frameBytes);
        }

        /** Says at most once a minute that the kernel refused datagrams at flush (counted by {@link #refused}). */
        private void flushed(int dropped) {
            if (dropped == 0) {
                return;
            }
            long report = flushDrops.due();
            if (report > 0) {
                LOG.warn("VXLAN transport on {}: {} datagrams dropped on send since the last report (socket send "
                        + "buffer full or VTEP unreachable; send.buffer.bytes in {})", local, report, PID);
            }
        }

        @Override
        public void receiveFailed(IOException e) {
            LOG.warn("VXLAN receive on {} failed: {}", local, e.toString());
        }

        @Override
        public void handlingFailed(RuntimeException e) {
            // A bug in a receiver must not kill the transport: log it and go on with the next frame.
            LOG.error("Frame handling failed on {}", local, e);
        }
    }

    /** Checks one datagram (between position and limit) and hands its frame to the switch, or counts the drop. */
    void deliver(FrameReceiver rx, InetSocketAddress source, ByteBuffer datagram) {
        final State st = state;
        final int at = datagram.position();
        switch (VxlanHeader.check(datagram)) {
            case VxlanHeader.MALFORMED:
                malformed.increment();
                if (!warnedMalformed) {
                    warnedMalformed = true;
                    LOG.warn("VXLAN transport on {}: dropping datagrams too short for a VXLAN header and an Ethernet "
                            + "header (first: {} bytes from {}); further ones are only counted", st.sockets().local(),
                            datagram.remaining(), Endpoints.format(source));
                }
                return;
            case VxlanHeader.BAD_FLAGS:
                badFlags.increment();
                if (!warnedBadFlags) {
                    warnedBadFlags = true;
                    LOG.warn("VXLAN transport on {}: dropping datagrams without the VXLAN I flag (first: flags 0x{} "
                            + "from {}; not VXLAN?); further ones are only counted", st.sockets().local(),
                            Integer.toHexString(datagram.get(at) & 0xFF), Endpoints.format(source));
                }
                return;
            default:
                break;
        }
        final java.util.Set<java.net.InetAddress> allowed = st.settings().allowedVteps();
        if (!allowed.isEmpty() && !allowed.contains(source.getAddress())) {
            refusedVtep.increment();
            if (!warnedRefused) {
                warnedRefused = true;
                LOG.warn("VXLAN transport on {}: dropping datagrams from {}: not in 'allowed.vteps' of {}; further ones "
                        + "are only counted", st.sockets().local(), Endpoints.format(source), PID);
            }
            return;
        }
        final int vni = VxlanHeader.vni(datagram, at);
        final VniMap map = st.settings().vnis();
        if (!map.mapsVni(vni)) {
            unmappedVni.increment();
            if (!warnedUnmapped) {
                warnedUnmapped = true;
                LOG.warn("VXLAN transport on {}: dropping frames of VNI {} from {}: not mapped by 'vni' in {}; "
                        + "further frames of unmapped VNIs are only counted", st.sockets().local(), vni,
                        Endpoints.format(source), PID);
            }
            return;
        }
        final long network = map.network(vni);
        final InetSocketAddress vtep = st.vteps().of(source.getAddress());
        datagram.position(at + VxlanHeader.LENGTH);
        rx.receiveFrame(this, vtep, network, datagram);
    }

    /** Sends a datagram as it is, from the VXLAN port. */
    @Override
    public boolean send(SocketAddress remote, ByteBuffer datagram) {
        if (!(remote instanceof InetSocketAddress to)) {
            sendFailures.increment();
            return false;
        }
        return transmit(state.sockets().main(), to, datagram, null);
    }

    /**
     * Encapsulates the frame with the VNI of {@code network} and sends it to the VTEP from the source port of its
     * flow. False when the network has no VNI or the frame cannot go out.
     */
    @Override
    public boolean sendFrame(SocketAddress remote, long network, ByteBuffer frame) {
        return sendFrame(remote, network, frame, null);
    }

    /** {@link #sendFrame(SocketAddress, long, ByteBuffer)}; a queued frame the flush drops is reported by its port. */
    @Override
    public boolean sendFrame(SocketAddress remote, long network, ByteBuffer frame, PortId port) {
        final State st = state;
        final int vni = st.settings().vnis().vni(network);
        if (vni < 0) {
            return false;
        }
        final int length = frame.remaining();
        if (length > MAX_DATAGRAM - VxlanHeader.LENGTH || !(remote instanceof InetSocketAddress to)) {
            sendFailures.increment();
            return false;
        }
        final ByteBuffer out = txBuffer.get();
        out.clear(); // absolute puts are checked against the limit the previous send left
        VxlanHeader.write(out, 0, vni);
        out.put(VxlanHeader.LENGTH, frame, frame.position(), length); // absolute: frame's position stays
        out.limit(VxlanHeader.LENGTH + length).position(0);
        final DatagramEndpoint[] senders = st.sockets().senders();
        final int flow = FlowHash.of(out, VxlanHeader.LENGTH, length);
        return transmit(senders[FlowHash.index(flow, senders.length)], to, out, port);
    }

    /**
     * On the receive loop's thread queues the datagram (it leaves when the batch is done), on any other sends it now.
     */
    private boolean transmit(DatagramEndpoint endpoint, InetSocketAddress to, ByteBuffer datagram, PortId port) {
        final ReceiveLoop l = loop;
        final Delivery d = delivery;
        boolean ok;
        if (l != null && d != null && l.onLoopThread()) {
            ok = endpoint.queue(to, datagram, port);
            if (ok) {
                d.queued(endpoint);
            }
        } else {
            ok = endpoint.send(to, datagram);
        }
        if (!ok) {
            sendFailures.increment();
        }
        return ok;
    }

    /** The VXLAN port actually bound. */
    int boundPort() {
        return state.sockets().main().localAddress().getPort();
    }

    /** Datagrams per system call now: 0 when the sockets are on NIO. */
    int batchSize() {
        return state.sockets().batch();
    }

    /** The receive counters by reason (docs/api.md, vl2_transport_received_dropped). */
    @Override
    public Map<String, Long> receiveDrops() {
        return Map.of("malformed", malformed.sum(), "bad_flags", badFlags.sum(), "unmapped_vni", unmappedVni.sum(),
                "refused_vtep", refusedVtep.sum());
    }

    long malformedDrops() {
        return malformed.sum();
    }

    long badFlagsDrops() {
        return badFlags.sum();
    }

    long unmappedVniDrops() {
        return unmappedVni.sum();
    }

    long refusedVtepDrops() {
        return refusedVtep.sum();
    }

    /** Sends refused at once plus queued datagrams the kernel refused when a batch was flushed. */
    long sendFailures() {
        return sendFailures.sum() + flushDrops.total();
    }
}
