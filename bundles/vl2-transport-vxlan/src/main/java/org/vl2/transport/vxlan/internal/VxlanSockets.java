package org.vl2.transport.vxlan.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.DatagramEndpoints;

/**
 * The sockets of one VXLAN configuration: {@code main} receives on the VXLAN port (and sends raw datagrams from it),
 * {@code senders[i]} is bound to {@code sourcePortMin + i} on the same address and sends the frames whose flow hashes
 * to it. All are {@link DatagramEndpoint}s of one kind: batched ({@code batch} > 0, UDP GSO/GRO when
 * {@code offloadAsked}) or NIO. A new configuration keeps the endpoints it can (same address, port and kind).
 */
record VxlanSockets(InetSocketAddress bind, DatagramEndpoint main, String local, int sourcePortMin,
                    DatagramEndpoint[] senders, int batch, boolean offloadAsked) {

    /** The transport's own logger: these lines are the transport's. */
    private static final Logger LOG = LoggerFactory.getLogger(VxlanTransport.class);
    /** A send socket receives nothing vl2 reads: the smallest buffer the kernel allows us to ask for. */
    private static final int SENDER_RECEIVE_BUFFER = 65_536;

    boolean holds(int port) {
        return port == bind.getPort() || sends(port);
    }

    boolean sends(int port) {
        return port >= sourcePortMin && port < sourcePortMin + senders.length;
    }

    /** The batch size {@code settings} get here: 0 (NIO) where batched endpoints do not work. */
    static int effectiveBatch(VxlanSettings settings) {
        return settings.batch() == 0 || DatagramEndpoints.batchedUnavailableReason() != null ? 0 : settings.batch();
    }

    /** Whether endpoints of these sockets are of the kind {@code settings} ask for (batch size and offload). */
    boolean sameKind(VxlanSettings settings) {
        int b = effectiveBatch(settings);
        return b == batch && (b > 0 && settings.offload()) == offloadAsked;
    }

    /** For logs. */
    String io() {
        return batch > 0 ? "up to " + batch + " messages per system call, UDP offload " + main.offload()
                : "one datagram per system call";
    }

    /**
     * Binds the receive socket and the send sockets of {@code settings}, keeping those of {@code reuse} (may be null)
     * that are bound to the same address and port and are of the same kind. On failure closes what it opened and
     * throws a message that says which port and why.
     */
    static VxlanSockets open(VxlanSettings settings, VxlanSockets reuse) {
        int batch = effectiveBatch(settings);
        if (settings.batch() > 0 && batch == 0) {
            LOG.warn("VXLAN transport: {}; using one datagram per system call (io.batch={} in {} has no effect)",
                    DatagramEndpoints.batchedUnavailableReason(), settings.batch(), VxlanTransport.PID);
        }
        boolean offload = batch > 0 && settings.offload();
        List<DatagramEndpoint> opened = new ArrayList<>();
        InetSocketAddress bind = settings.bind();
        boolean keep = reuse != null && reuse.main().isOpen() && reuse.sameKind(settings)
                && reuse.bind().getAddress().equals(bind.getAddress());
        try {
            DatagramEndpoint main;
            if (keep && reuse.bind().getPort() == bind.getPort()) {
                main = reuse.main();
            } else {
                try {
                    // An IPv4 bind address gets an IPv4 socket: 0.0.0.0 means all IPv4 addresses, not [::].
                    main = DatagramEndpoints.open(bind, settings.receiveBufferBytes(), settings.sendBufferBytes(),
                            batch, offload);
                    opened.add(main);
                } catch (BindException e) {
                    throw failed("cannot listen on UDP " + Endpoints.format(bind) + ": " + e.getMessage()
                            + " (is a kernel vxlan device or another switch using this port? set 'port' or "
                            + "'bind.address' in " + VxlanTransport.PID + ")", e);
                }
            }
            DatagramEndpoint[] senders = new DatagramEndpoint[settings.sourcePorts()];
            for (int i = 0; i < senders.length; i++) {
                int port = settings.sourcePortMin() + i;
                if (keep && reuse.sends(port)) {
                    senders[i] = reuse.senders()[port - reuse.sourcePortMin()];
                    continue;
                }
                InetSocketAddress at = new InetSocketAddress(bind.getAddress(), port);
                try {
                    // Non-blocking: a full socket buffer drops the frame (as a congested switch port would).
                    senders[i] = DatagramEndpoints.open(at, SENDER_RECEIVE_BUFFER, settings.sendBufferBytes(), batch,
                            offload);
                    opened.add(senders[i]);
                } catch (BindException e) {
                    throw failed("cannot bind source port " + Endpoints.format(at) + " of source.port.range="
                            + settings.sourcePortMin() + "-" + settings.sourcePortMax() + ": " + e.getMessage()
                            + " (choose a free range for 'source.port.range' in " + VxlanTransport.PID + ")", e);
                }
            }
            return new VxlanSockets(bind, main, Endpoints.format(main.localAddress()), settings.sourcePortMin(),
                    senders, batch, offload);
        } catch (IllegalStateException e) {
            closeAll(opened);
            throw e;
        } catch (IOException e) {
            closeAll(opened);
            throw failed("cannot open UDP sockets on " + Endpoints.format(bind) + ": " + e.getMessage(), e);
        }
    }

    /** Whether {@code next} needs a port that these sockets hold and that {@link #open} would not reuse. */
    boolean conflicts(VxlanSettings next) {
        if (!main.isOpen()) {
            return false;
        }
        boolean reusable = sameKind(next) && bind.getAddress().equals(next.bind().getAddress());
        if (holds(next.port()) && !(reusable && bind.getPort() == next.port())) {
            return true;
        }
        for (int p = next.sourcePortMin(); p <= next.sourcePortMax(); p++) {
            if (holds(p) && !(reusable && sends(p))) {
                return true;
            }
        }
        return false;
    }

    /** Sets the socket buffers of {@code settings} in place. */
    void applyBuffers(VxlanSettings settings) {
        try {
            main.setBufferSizes(settings.receiveBufferBytes(), settings.sendBufferBytes());
            for (DatagramEndpoint s : senders) {
                s.setBufferSizes(SENDER_RECEIVE_BUFFER, settings.sendBufferBytes());
            }
        } catch (IOException e) {
            LOG.error("VXLAN transport: cannot set socket buffers on {}: {}", local, e.getMessage());
        }
    }

    /** Closes the endpoints of these sockets that {@code next} does not use. */
    void closeUnused(VxlanSockets next) {
        if (main != next.main()) {
            main.close();
        }
        List<DatagramEndpoint> kept = List.of(next.senders());
        List<DatagramEndpoint> unused = new ArrayList<>();
        for (DatagramEndpoint s : senders) {
            if (!kept.contains(s)) {
                unused.add(s);
            }
        }
        closeAll(unused);
    }

    void close() {
        main.close();
        closeAll(List.of(senders));
    }

    private static void closeAll(List<DatagramEndpoint> endpoints) {
        for (DatagramEndpoint e : endpoints) {
            e.close();
        }
    }

    private static IllegalStateException failed(String what, Exception cause) {
        return new IllegalStateException("VXLAN transport: " + what, cause);
    }
}
