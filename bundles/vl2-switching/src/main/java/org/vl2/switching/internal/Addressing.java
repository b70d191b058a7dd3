package org.vl2.switching.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.EthernetFrame;
import org.vl2.api.MacAddress;
import org.vl2.api.NetworkInfo;
import org.vl2.api.Networks;
import org.vl2.ipam.DhcpServer;
import org.vl2.ipam.Lease;
import org.vl2.ipam.LeaseTable;

/**
 * The switch as a station on each network: address leases (members' and DHCP clients'), the DHCP server and the
 * ARP answers for the switch's own address. The forwarder consults it for each frame ({@link #answer},
 * {@link #forSwitch}); it never forwards anything itself. Lease tables are kept in {@code leases/} of the
 * switch's state directory.
 */
public final class Addressing {

    private static final Logger LOG = LoggerFactory.getLogger(Addressing.class);

    private final Path leaseDir;
    private final Supplier<Settings> settings;

    Addressing(Path leaseDir, Supplier<Settings> settings) {
        this.leaseDir = leaseDir;
        this.settings = settings;
    }

    /** How a member's lease is keyed in a lease table. */
    public static String memberKey(long member) {
        return "member:" + SwitchPort.memberId(member);
    }

    // ---- per frame --------------------------------------------------------------------------------------

    /**
     * The switch's answer to a frame on {@code net} (DHCP, ARP for its address), to go back to the ingress port,
     * or null. Only broadcast frames and frames to the switch's MAC on a network with DHCP are looked at. Never
     * more bytes back than came in: a short (unpadded) DHCP request from a spoofable raw or VXLAN source must
     * not make the switch an amplifier; real clients pad their requests to 300 bytes, so they get answers.
     */
    ByteBuffer answer(Network net, ByteBuffer frame, EthernetFrame view, Egress e) {
        DhcpServer dhcp = net.state().dhcp();
        if (dhcp == null) {
            return null;
        }
        long dst = view.destinationBits();
        if (dst != MacAddress.MASK && dst != net.serverMac) {
            return null;
        }
        int result;
        synchronized (dhcp) {
            result = dhcp.handle(frame, e.dhcp);
        }
        return result == DhcpServer.REPLY && e.dhcp.remaining() <= frame.remaining() ? e.dhcp : null;
    }

    /** Whether the frame is addressed to the switch itself on a network where it is a station (nothing to forward). */
    boolean forSwitch(Network net, EthernetFrame view) {
        return view.destinationBits() == net.serverMac && net.state().dhcp() != null;
    }

    // ---- per configuration ---------------------------------------------------------------------------------

    /**
     * The lease table for settings {@code s} of network {@code id}: the previous one while the pool is the same,
     * else loaded from its file; null without a pool.
     */
    LeaseTable leasesFor(long id, Network.State previous, NetworkSettings s) {
        if (s.pool() == null) {
            return null;
        }
        if (previous != null && previous.leases() != null
                && Objects.equals(String.valueOf(previous.settings().pool()), String.valueOf(s.pool()))) {
            return previous.leases();
        }
        Path file = leaseDir == null ? null : leaseDir.resolve(Networks.format(id) + ".leases");
        Duration grace = Duration.ofNanos(settings.get().sessionTimeoutNanos());
        try {
            return LeaseTable.load(s.pool(), file, Clock.systemUTC(), grace);
        } catch (IOException | RuntimeException ex) {
            LOG.error("Network {}: cannot read its leases from {} ({}); addresses are assigned from scratch and "
                    + "not saved until this is fixed", Networks.format(id), file, ex.getMessage());
            try {
                return LeaseTable.load(s.pool(), null, Clock.systemUTC(), grace);
            } catch (IOException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
    }

    /** The DHCP server of settings {@code s} over {@code leases}, or null if DHCP is off. */
    static DhcpServer dhcpFor(LeaseTable leases, long serverMac, NetworkSettings s) {
        return s.dhcp() && leases != null ? new DhcpServer(leases, MacAddress.of(serverMac), s.mtu(), s.leaseTime(),
                s.gateway(), s.dns()) : null;
    }

    // ---- members ----------------------------------------------------------------------------------------

    /** A vl2 port went: its member's address is freed if the port expired, else kept. */
    void portGone(SwitchPort port, boolean releaseLease) {
        LeaseTable leases = port.network.leases();
        if (releaseLease && leases != null && leases.release(memberKey(port.member))) {
            LOG.info("Lease of member {} ({}) released", SwitchPort.memberId(port.member),
                    port.address == null ? "-" : port.address.getHostAddress());
        }
    }

    /** A member left: its address is kept as long as the port would have lived, so a quick restart gets it back. */
    public void left(SwitchPort p) {
        LeaseTable leases = p.network.leases();
        if (leases != null) {
            leases.expireIn(memberKey(p.member), Duration.ofNanos(settings.get().sessionTimeoutNanos()));
        }
    }

    void expireLeases(Iterable<Network> networks) {
        for (Network n : networks) {
            LeaseTable leases = n.leases();
            if (leases != null) {
                int freed = leases.removeExpired();
                if (freed > 0) {
                    LOG.info("Network {}: {} expired leases freed", Networks.format(n.id), freed);
                }
            }
        }
    }

    static List<NetworkInfo.Lease> leases(Network.State s) {
        LeaseTable leases = s.leases();
        if (leases == null) {
            return List.of();
        }
        List<NetworkInfo.Lease> list = new ArrayList<>();
        for (Lease l : leases.leases()) {
            list.add(new NetworkInfo.Lease(l.key(), l.address().getHostAddress(), l.expires()));
        }
        return list;
    }
}
