package org.vl2.agent.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;

import org.vl2.api.Endpoints;
import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.DatagramEndpoints;

/**
 * Opens the agent's UDP sockets for the {@link LinkKeeper}: connected to the switch (raw and vl2 modes, and auto's
 * probes), or bound to the switch's VXLAN port (vxlan mode); batched (recvmmsg/sendmmsg, GSO/GRO) where that works.
 */
final class UdpLinks {

    /**
     * Batched link: messages per recvmmsg/sendmmsg. A message is up to 64 datagrams with GRO/GSO, and a TAP read
     * makes one or two; each slot is 64 KiB of native memory that becomes resident once a message fills it, so few
     * slots keep the agent small (8: at most 1 MiB).
     */
    static final int LINK_BATCH = 8;
    /**
     * Batched link: SO_RCVBUF/SO_SNDBUF (capped by net.core.rmem_max/wmem_max). Kernel memory, not the agent's: a GRO
     * message of 64 datagrams takes about 100 KiB of it, so 1 MiB held only ten of the switch's bursts.
     */
    static final int LINK_SOCKET_BUFFER_BYTES = 4 << 20;
    /** NIO link: SO_RCVBUF/SO_SNDBUF. */
    static final int SOCKET_BUFFER_BYTES = 1 << 20;
    /** Batched sockets: TAP offload on, udp.offload on, and vl2-netio works here. */
    private final boolean batched;
    /** Direct paths: every UDP link to the switch gets a peer socket on its port. */
    private final boolean peers;

    UdpLinks(boolean batched, boolean peers) {
        this.batched = batched;
        this.peers = peers;
    }

    /**
     * A UDP socket connected to {@code remote}, on {@code localPort} if that is free (0: any); with direct paths, and
     * an unconnected peer socket on the same port beside it ({@link Link#peers()}).
     */
    Link open(InetSocketAddress remote, int localPort) throws IOException {
        InetAddress any = InetAddress.getByAddress(new byte[remote.getAddress() instanceof Inet6Address ? 16 : 4]);
        DatagramEndpoints.Group g = localPort > 0 ? openWithin(new InetSocketAddress(any, localPort), 100) : null;
        if (g == null) {
            g = openGroup(new InetSocketAddress(any, 0));
        }
        DatagramEndpoint e = g.first();
        try {
            e.connect(remote); // from here the kernel gives the switch's datagrams to this socket only
        } catch (IOException | RuntimeException x) {
            g.close();
            throw x;
        }
        return g.endpoints().size() > 1 ? new Link(e, g.endpoints().get(1), remote) : new Link(e, remote);
    }

    /**
     * vxlan mode: a UDP socket bound to the switch's VXLAN port on the local address of the route to the switch, not
     * connected. The switch sends to (that address, its VXLAN port), as to every VTEP, from source ports of its
     * choosing; a connected socket would drop those datagrams. The specific address (not the wildcard) lets the
     * agent share a port number with a switch on another address of this host (tests do).
     */
    Link openVxlan(InetSocketAddress remote) throws IOException {
        InetAddress source;
        try (DatagramChannel probe = DatagramChannel.open(remote.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET)) {
            probe.connect(remote); // sends nothing: the kernel picks the route and its source address
            source = ((InetSocketAddress) probe.getLocalAddress()).getAddress();
        }
        InetSocketAddress local = new InetSocketAddress(source, remote.getPort());
        DatagramEndpoint e;
        long deadline = System.nanoTime() + 100_000_000L;
        while (true) {
            try {
                e = openEndpoint(local);
                break;
            } catch (BindException x) {
                if (System.nanoTime() > deadline) {
                    throw vxlanPortInUse(local, remote);
                }
                Lifecycle.pause(5);
            }
        }
        return new Link(e, remote);
    }

    /**
     * A socket bound to {@code bind}, retrying for up to {@code millis} while the address is in use (a socket just
     * closed while another thread was receiving on it releases its port only when that receive has returned); null
     * if it stays in use.
     */
    private DatagramEndpoints.Group openWithin(InetSocketAddress bind, long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            try {
                return openGroup(bind);
            } catch (BindException e) {
                if (System.nanoTime() > deadline) {
                    return null; // taken by someone else meanwhile
                }
                Lifecycle.pause(5);
            }
        }
    }

    /**
     * With TAP offload and udp.offload on Linux, a batched socket: a TAP read's frames leave with one sendmmsg, as
     * one UDP GSO message when they are of one size, and the switch's bursts arrive as GRO messages. Otherwise one
     * on Java NIO, one datagram per system call.
     */
    /**
     * The link's socket, and with direct paths the peer socket on the same port: a reuseport group of two, bound as
     * one socket is (a port in use by anyone else fails; docs of {@link DatagramEndpoints#openGroup}).
     */
    private DatagramEndpoints.Group openGroup(InetSocketAddress bind) throws IOException {
        if (!peers) {
            return new DatagramEndpoints.Group(java.util.List.of(openEndpoint(bind)), DatagramEndpoints.KERNEL_HASH);
        }
        return batched ? DatagramEndpoints.openGroup(bind, LINK_SOCKET_BUFFER_BYTES, LINK_SOCKET_BUFFER_BYTES,
                LINK_BATCH, true, 2, DatagramEndpoints.KERNEL_HASH)
                : DatagramEndpoints.openGroup(bind, SOCKET_BUFFER_BYTES, SOCKET_BUFFER_BYTES, 0, false, 2,
                        DatagramEndpoints.KERNEL_HASH);
    }

    private DatagramEndpoint openEndpoint(InetSocketAddress bind) throws IOException {
        return batched ? DatagramEndpoints.open(bind, LINK_SOCKET_BUFFER_BYTES, LINK_SOCKET_BUFFER_BYTES, LINK_BATCH,
                true) : DatagramEndpoints.openNio(bind, SOCKET_BUFFER_BYTES, SOCKET_BUFFER_BYTES);
    }

    private static BindException vxlanPortInUse(InetSocketAddress local, InetSocketAddress remote) {
        return new BindException("cannot receive VXLAN on UDP " + Endpoints.format(local) + ": the port is"
                + " in use. In vxlan mode the agent receives on the switch's VXLAN port (" + remote.getPort()
                + "), as every VTEP; is a Linux vxlan device (dstport " + remote.getPort() + "), a vl2"
                + " switch or another agent using it on this host?");
    }
}
