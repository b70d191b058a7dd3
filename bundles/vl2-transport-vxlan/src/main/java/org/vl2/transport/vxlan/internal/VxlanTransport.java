package org.vl2.transport.vxlan.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
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
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.protocol.VxlanHeader;
import org.vl2.transport.vxlan.internal.VxlanSettings.Remote;

/**
 * VXLAN transport (RFC 7348): remote VTEPs, e.g. Linux {@code ip link add vx0 type vxlan id 42 remote SWITCH
 * dstport 4789}, are ports of the switch, one per (VTEP, network). The VNI selects the network (see
 * {@link VniMap}); a VTEP is identified by its IP address and the configured VXLAN port, never by the datagram's
 * source port, which a VTEP varies per flow.
 *
 * <p>One receive thread reads the VXLAN port into one direct buffer and hands each decapsulated frame to the switch
 * on that thread. Frames go out through a small pool of send sockets bound to {@code source.port.range}, picked
 * by a hash of the inner flow ({@link FlowHash}), from a per-thread direct buffer. Nothing is allocated (beyond
 * the sender address the JDK creates per received datagram) or logged per frame. A configuration change is applied
 * in place (see {@link #modified}), so the switch keeps its ports.
 */
@Component(service = Transport.class, configurationPid = VxlanTransport.PID, immediate = true,
        property = Transport.PROPERTY + "=" + VxlanTransport.NAME)
@Designate(ocd = VxlanTransportConfig.class)
public final class VxlanTransport implements Transport {

    static final String PID = "org.vl2.transport.vxlan";
    static final String NAME = "vxlan";
    static final String MODE = "vxlan";
    static final int DEFAULT_PORT = 4789;
    /** Largest UDP payload over IPv4: nothing a VTEP sends is truncated, so the switch sees oversize frames. */
    static final int MAX_DATAGRAM = 65_507;
    private static final Logger LOG = LoggerFactory.getLogger(VxlanTransport.class);
    /** Contract with the launchers: the one ERROR saying why this component does not start (docs/operating.md). */
    private static final Logger FATAL = LoggerFactory.getLogger("org.vl2.fatal");

    /**
     * The receive socket with its selector, and the send sockets: {@code senders[i]} is bound to
     * {@code sourcePortMin + i} on the bind address.
     */
    private record Sockets(InetSocketAddress bind, DatagramChannel main, Selector selector, String local,
                           int sourcePortMin, DatagramChannel[] senders) {

        boolean holds(int port) {
            return port == bind.getPort() || sends(port);
        }

        boolean sends(int port) {
            return port >= sourcePortMin && port < sourcePortMin + senders.length;
        }
    }

    /** What the hot paths read, replaced as a whole by {@link #modified}. */
    private record State(VxlanSettings settings, Sockets sockets, VtepCache vteps) {

        State(VxlanSettings settings, Sockets sockets) {
            this(settings, sockets, new VtepCache(settings.port(), settings.staticVtep()));
        }
    }

    /** A port of the switch, as attachPort/detachPort name it. */
    private record PortKey(InetSocketAddress remote, long network) {
    }

    private final ByteBuffer rxBuffer = ByteBuffer.allocateDirect(MAX_DATAGRAM + 1);
    /** Send is called from other transports' receive threads: one encapsulation buffer per thread. */
    private final ThreadLocal<ByteBuffer> txBuffer =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(MAX_DATAGRAM));
    private final LongAdder malformed = new LongAdder();
    private final LongAdder badFlags = new LongAdder();
    private final LongAdder unmappedVni = new LongAdder();
    private final LongAdder sendFailures = new LongAdder();
    private volatile boolean warnedMalformed;
    private volatile boolean warnedBadFlags;
    private volatile boolean warnedUnmapped;

    private final Object lifecycle = new Object();
    private volatile State state;
    /** The receiver between start and stop (guarded by lifecycle). */
    private FrameReceiver receiver;
    /** The running receive thread; it ends when this no longer names it. */
    private volatile Thread receiveThread;
    private Sockets threadSockets;

    @Activate
    public VxlanTransport(VxlanTransportConfig config) {
        VxlanSettings settings;
        try {
            settings = VxlanSettings.of(config);
            this.state = new State(settings, open(settings, null));
        } catch (IllegalArgumentException | IllegalStateException e) {
            FATAL.error("{}; the VXLAN transport does not start until this is fixed", e.getMessage());
            throw e;
        }
        LOG.info("Started VXLAN transport on {}: {}", state.sockets().local(), settings.describe());
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
            Sockets sockets = old.sockets();
            if (next.equals(old.settings()) && sockets.main().isOpen()) {
                return; // e.g. the same file saved again: nothing to do, nothing to log
            }
            if (next.sameSockets(old.settings()) && sockets.main().isOpen()) {
                applyBuffers(sockets, next);
                state = new State(next, sockets);
            } else if (!conflicts(sockets, next)) {
                try {
                    sockets = open(next, old.sockets());
                } catch (IllegalStateException e) {
                    LOG.error("{}; keeping the previous configuration ({})", e.getMessage(), old.sockets().local());
                    return;
                }
                applyBuffers(sockets, next);
                boolean newMain = sockets.main() != old.sockets().main();
                if (newMain) {
                    stopThread();
                }
                state = new State(next, sockets);
                closeUnused(old.sockets(), sockets);
                if (newMain && r != null) {
                    startThread(sockets, r);
                }
            } else {
                // The new sockets need ports the old ones hold on another address (0.0.0.0:4789 -> 192.0.2.1:4789):
                // they cannot be bound first, so close, bind, and on failure bind the old configuration again.
                stopThread();
                close(old.sockets());
                try {
                    sockets = open(next, null);
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
            if (r != null) {
                reconcile(r, old.settings().remotes(), next.remotes());
            }
            LOG.info("VXLAN transport reconfigured on {}: {}", sockets.local(), next.describe());
        }
    }

    private void rollBack(State old, FrameReceiver r, IllegalStateException cause) {
        try {
            Sockets back = open(old.settings(), null);
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

    /** Whether {@code next} needs a port that {@code old} holds and that {@link #open} would not reuse. */
    private static boolean conflicts(Sockets old, VxlanSettings next) {
        if (!old.main().isOpen()) {
            return false;
        }
        boolean sameAddress = old.bind().getAddress().equals(next.bind().getAddress());
        if (old.holds(next.port()) && !(sameAddress && old.bind().getPort() == next.port())) {
            return true;
        }
        for (int p = next.sourcePortMin(); p <= next.sourcePortMax(); p++) {
            boolean reused = sameAddress && old.sends(p);
            if (old.holds(p) && !reused) {
                return true;
            }
        }
        return false;
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

    /**
     * Binds the receive socket and the send sockets of {@code settings}, keeping those of {@code reuse} (may be null)
     * that are bound to the same address and port. On failure closes what it opened and throws a message that says
     * which port and why.
     */
    private static Sockets open(VxlanSettings settings, Sockets reuse) {
        List<AutoCloseable> opened = new ArrayList<>();
        InetSocketAddress bind = settings.bind();
        boolean sameAddress = reuse != null && reuse.main().isOpen()
                && reuse.bind().getAddress().equals(bind.getAddress());
        StandardProtocolFamily family = bind.getAddress() instanceof Inet4Address
                // An IPv4 bind address gets an IPv4 socket: 0.0.0.0 means all IPv4 addresses, not a dual-stack [::].
                ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
        try {
            DatagramChannel main;
            Selector selector;
            if (sameAddress && reuse.bind().getPort() == bind.getPort()) {
                main = reuse.main();
                selector = reuse.selector();
            } else {
                try {
                    main = DatagramChannel.open(family);
                    opened.add(main);
                    main.setOption(StandardSocketOptions.SO_RCVBUF, settings.receiveBufferBytes());
                    main.setOption(StandardSocketOptions.SO_SNDBUF, settings.sendBufferBytes());
                    main.bind(bind);
                    main.configureBlocking(false);
                    selector = Selector.open();
                    opened.add(selector);
                    main.register(selector, SelectionKey.OP_READ);
                } catch (BindException e) {
                    throw failed("cannot listen on UDP " + Endpoints.format(bind) + ": " + e.getMessage()
                            + " (is a kernel vxlan device or another switch using this port? set 'port' or "
                            + "'bind.address' in " + PID + ")", e);
                }
            }
            DatagramChannel[] senders = new DatagramChannel[settings.sourcePorts()];
            for (int i = 0; i < senders.length; i++) {
                int port = settings.sourcePortMin() + i;
                if (sameAddress && reuse.sends(port)) {
                    senders[i] = reuse.senders()[port - reuse.sourcePortMin()];
                    continue;
                }
                InetSocketAddress at = new InetSocketAddress(bind.getAddress(), port);
                try {
                    DatagramChannel ch = DatagramChannel.open(family);
                    opened.add(ch);
                    ch.setOption(StandardSocketOptions.SO_SNDBUF, settings.sendBufferBytes());
                    ch.bind(at);
                    // Non-blocking: a full socket buffer drops the frame (as a congested switch port would).
                    ch.configureBlocking(false);
                    senders[i] = ch;
                } catch (BindException e) {
                    throw failed("cannot bind source port " + Endpoints.format(at) + " of source.port.range="
                            + settings.sourcePortMin() + "-" + settings.sourcePortMax() + ": " + e.getMessage()
                            + " (choose a free range for 'source.port.range' in " + PID + ")", e);
                }
            }
            return new Sockets(bind, main, selector, Endpoints.format((InetSocketAddress) main.getLocalAddress()),
                    settings.sourcePortMin(), senders);
        } catch (IllegalStateException e) {
            closeAll(opened);
            throw e;
        } catch (IOException e) {
            closeAll(opened);
            throw failed("cannot open UDP sockets on " + Endpoints.format(bind) + ": " + e.getMessage(), e);
        }
    }

    private static void applyBuffers(Sockets s, VxlanSettings settings) {
        try {
            s.main().setOption(StandardSocketOptions.SO_RCVBUF, settings.receiveBufferBytes());
            s.main().setOption(StandardSocketOptions.SO_SNDBUF, settings.sendBufferBytes());
            for (DatagramChannel ch : s.senders()) {
                ch.setOption(StandardSocketOptions.SO_SNDBUF, settings.sendBufferBytes());
            }
        } catch (IOException e) {
            LOG.error("VXLAN transport: cannot set socket buffers on {}: {}", s.local(), e.getMessage());
        }
    }

    private static IllegalStateException failed(String what, Exception cause) {
        return new IllegalStateException("VXLAN transport: " + what, cause);
    }

    @Deactivate
    void deactivate() {
        synchronized (lifecycle) {
            stopThread();
            receiver = null;
            close(state.sockets());
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
            if (receiver == frameReceiver && receiveThread != null) {
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

    private void startThread(Sockets s, FrameReceiver r) {
        Thread t = new Thread(() -> receiveLoop(s, r), "vl2-vxlan-rx-" + s.local());
        t.setDaemon(true);
        threadSockets = s;
        receiveThread = t;
        t.start();
    }

    private void stopThread() {
        Thread t = receiveThread;
        if (t == null) {
            return;
        }
        receiveThread = null;
        threadSockets.selector().wakeup();
        try {
            t.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            LOG.warn("VXLAN receive thread on {} did not stop within 5 s", threadSockets.local());
        }
        threadSockets = null;
    }

    private void receiveLoop(Sockets s, FrameReceiver rx) {
        final Thread self = Thread.currentThread();
        final ByteBuffer buf = rxBuffer;
        final DatagramChannel channel = s.main();
        final Selector selector = s.selector();
        while (receiveThread == self) {
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
                deliver(rx, (InetSocketAddress) source, buf);
            } catch (ClosedChannelException e) {
                break;
            } catch (IOException e) {
                if (receiveThread == self) {
                    LOG.warn("VXLAN receive on {} failed: {}", s.local(), e.toString());
                }
            } catch (RuntimeException e) {
                // A bug in a receiver must not kill the transport: log it (rarely) and go on with the next frame.
                LOG.error("Frame handling failed on {}", s.local(), e);
            }
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
        final int position = datagram.position();
        try {
            return state.sockets().main().send(datagram, remote) > 0;
        } catch (IOException | RuntimeException e) {
            sendFailures.increment();
            return false;
        } finally {
            datagram.position(position);
        }
    }

    /**
     * Encapsulates the frame with the VNI of {@code network} and sends it to the VTEP from the source port of its
     * flow. False when the network has no VNI or the frame cannot go out.
     */
    @Override
    public boolean sendFrame(SocketAddress remote, long network, ByteBuffer frame) {
        final State st = state;
        final int vni = st.settings().vnis().vni(network);
        if (vni < 0) {
            return false;
        }
        final int length = frame.remaining();
        if (length > MAX_DATAGRAM - VxlanHeader.LENGTH) {
            sendFailures.increment();
            return false;
        }
        final ByteBuffer out = txBuffer.get();
        out.clear(); // absolute puts are checked against the limit the previous send left
        VxlanHeader.write(out, 0, vni);
        out.put(VxlanHeader.LENGTH, frame, frame.position(), length); // absolute: frame's position stays
        out.limit(VxlanHeader.LENGTH + length).position(0);
        final DatagramChannel[] senders = st.sockets().senders();
        final int flow = FlowHash.of(out, VxlanHeader.LENGTH, length);
        final DatagramChannel ch = senders[FlowHash.index(flow, senders.length)];
        try {
            return ch.send(out, remote) > 0;
        } catch (IOException | RuntimeException e) {
            sendFailures.increment();
            return false;
        }
    }

    private static void closeUnused(Sockets old, Sockets next) {
        if (old.main() != next.main()) {
            closeAll(List.of(old.selector(), old.main()));
        }
        List<AutoCloseable> unused = new ArrayList<>();
        for (DatagramChannel ch : old.senders()) {
            if (!List.of(next.senders()).contains(ch)) {
                unused.add(ch);
            }
        }
        closeAll(unused);
    }

    private static void close(Sockets s) {
        List<AutoCloseable> all = new ArrayList<>(List.of(s.selector(), s.main()));
        all.addAll(List.of(s.senders()));
        closeAll(all);
    }

    private static void closeAll(List<? extends AutoCloseable> resources) {
        for (AutoCloseable c : resources) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing: nothing left to do
            }
        }
    }

    /** The VXLAN port actually bound. */
    int boundPort() {
        try {
            return ((InetSocketAddress) state.sockets().main().getLocalAddress()).getPort();
        } catch (IOException e) {
            return -1;
        }
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

    long sendFailures() {
        return sendFailures.sum();
    }
}
