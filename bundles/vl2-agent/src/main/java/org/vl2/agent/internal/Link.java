package org.vl2.agent.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.stream.StreamEndpoints;

/**
 * The agent's socket to the switch: a {@link DatagramEndpoint} (batched, recvmmsg/sendmmsg with UDP GSO/GRO, or Java
 * NIO: the pumps do not care) and the switch's endpoint it sends to. The {@link LinkKeeper} opens one and replaces it
 * as a whole when the agent reconnects; the pumps and the session only use it. A TCP link is another
 * {@link DatagramEndpoint} behind this class ({@link StreamEndpoints}): one vl2 message per datagram, as over UDP.
 *
 * <p><b>Peers</b> (direct paths, docs/protocol.md): a UDP link of an agent that takes direct paths has a second socket
 * on the same port ({@link #peers()}), unconnected, in one reuseport group with the connected one: the kernel hands
 * the switch's datagrams to the connected socket (an exact match of both addresses wins) and everyone else's to this
 * one, whose pump takes only what opens under a pair. Both share the port, so the switch's view of this agent's
 * endpoint (and a NAT's mapping) is also where peers reach it.
 */
final class Link {

    /** How long a flush (or a queue that sends at once) waits for room in a full send buffer before it drops. */
    static final int SEND_WAIT_MILLIS = 2;

    private final DatagramEndpoint endpoint;
    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    /** What the start line and the status say about a TCP link; null for UDP. */
    private final String stream;
    /** Direct paths: the socket peers reach this agent on (same port, unconnected), or null. */
    private final Link peers;

    Link(DatagramEndpoint endpoint, InetSocketAddress remote) {
        this(endpoint, remote, (String) null);
    }

    /** A UDP link with a peer socket beside the connected one ({@code peers}: same port, not connected). */
    Link(DatagramEndpoint endpoint, DatagramEndpoint peers, InetSocketAddress remote) {
        this.endpoint = endpoint;
        this.remote = remote;
        this.stream = null;
        this.local = endpoint.localAddress();
        this.peers = peers == null ? null : new Link(peers, null);
        endpoint.setAutoFlushWait(SEND_WAIT_MILLIS);
    }

    /** A link over a TCP connection ({@code stream} says how, e.g. "TCP/TLS port 8443"). */
    Link(DatagramEndpoint endpoint, InetSocketAddress remote, String stream) {
        this.endpoint = endpoint;
        this.remote = remote;
        this.stream = stream;
        this.local = endpoint.localAddress();
        this.peers = null;
        endpoint.setAutoFlushWait(SEND_WAIT_MILLIS); // a burst that fills every slot waits for room like flush()
    }

    /** Direct paths: the peer socket, as a link of its own with no remote (its pump reads it); null if none. */
    Link peers() {
        return peers;
    }

    /** The switch's endpoint this socket sends to. */
    InetSocketAddress remote() {
        return remote;
    }

    /** This socket's local endpoint. */
    InetSocketAddress local() {
        return local;
    }

    /** True when {@link #queue} only queues and {@link #flush} sends (more than one datagram per system call). */
    boolean batched() {
        return endpoint.batchSize() > 1;
    }

    /** Sends the datagram between position and limit now (control messages); false if it was not sent. */
    boolean send(ByteBuffer datagram) {
        return endpoint.send(remote, datagram);
    }

    /** Data path: queues the datagram for the next {@link #flush} (or sends it now); false if it was dropped. */
    boolean queue(ByteBuffer datagram) {
        return endpoint.queue(remote, datagram);
    }

    /**
     * Data path, direct: queues the datagram for {@code to}, a peer, on the peer socket (same port as the switch's),
     * or, without one, for the switch; false if it was dropped.
     */
    boolean queue(InetSocketAddress to, ByteBuffer datagram) {
        Link p = peers;
        return p != null ? p.endpoint.queue(to, datagram) : queue(datagram);
    }

    /** Sends the datagram to {@code to} now, from any thread (a peer: on the peer socket); false if it was not sent. */
    boolean sendTo(InetSocketAddress to, ByteBuffer datagram) {
        Link p = peers;
        return (p != null ? p.endpoint : endpoint).send(to, datagram);
    }

    /** Sends what was queued, to the switch and to peers: the number of datagrams dropped after all. */
    int flush() {
        Link p = peers;
        int dropped = p == null ? 0 : p.flush();
        if (endpoint.queued() == 0) {
            return dropped;
        }
        return dropped + endpoint.flush(SEND_WAIT_MILLIS) + endpoint.takeAutoFlushDropped();
    }

    /** Up to a batch of datagrams, waiting up to {@code timeoutMillis} when none is there (0: do not wait). */
    int receive(int timeoutMillis) throws IOException {
        return endpoint.receive(timeoutMillis);
    }

    /** Datagram {@code i} of the last receive, between its position and limit, where it lies in its slot. */
    ByteBuffer datagram(int i) {
        return endpoint.datagram(i);
    }

    InetSocketAddress source(int i) {
        return endpoint.source(i);
    }

    /** What the agent's start line says about this socket beyond its endpoints ({@code , UDP offload gso+gro}). */
    String describe() {
        String how = stream != null ? ", " + stream : batched() ? ", UDP offload " + endpoint.offload() : "";
        // the peer socket takes datagrams from anyone on this port: said at the start, as every listener is
        return peers == null ? how : how + ", direct paths: other members' pair-sealed frames and probes taken on this"
                + " port, nothing else";
    }

    /** True for a TCP link. */
    boolean stream() {
        return stream != null;
    }

    /** How a TCP link goes ("TCP/TLS port 8443 via HTTP proxy ..."); null for UDP. */
    String streamKind() {
        return stream;
    }

    /** A TCP link whose connection ended: why; null while it is up, and always for UDP. */
    String broken() {
        return StreamEndpoints.broken(endpoint);
    }

    void close() {
        endpoint.close();
        if (peers != null) {
            peers.close();
        }
    }
}
