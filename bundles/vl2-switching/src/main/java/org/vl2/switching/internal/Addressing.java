package org.vl2.switching.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.EthernetFrame;
import org.vl2.api.MacAddress;
import org.vl2.api.NetworkInfo;
import org.vl2.api.Networks;
import org.vl2.ipam.DhcpFrames;
import org.vl2.ipam.DhcpServer;
import org.vl2.ipam.Lease;
import org.vl2.ipam.LeaseTable;
import org.vl2.ipam.LeaseWriter;

/**
 * The switch as a station on each network: address leases (members' and DHCP clients'), the DHCP server and the
 * ARP answers for the switch's own address. The forwarder consults it for each frame ({@link #answer},
 * {@link #forSwitch}); it never forwards anything itself. Lease tables are kept in {@code leases/} of the
 * switch's state directory, written by one writer thread (never a receive thread) and flushed by {@link #close}.
 * DHCP to the switch is charged to the ingress port's budget and only served for the station that sends it
 * ({@link PortHygiene}).
 */
public final class Addressing {

    private static final Logger LOG = LoggerFactory.getLogger(Addressing.class);

    /** {@link #answer}: nothing for the switch to send; the frame goes on. */
    static final int NONE = 0;
    /** {@link #answer}: send {@code Egress.dhcp} back to the ingress port; the frame goes on (or is for the switch). */
    static final int REPLY = 1;
    /** {@link #answer}: the frame is dropped (counted): over its port's DHCP rate, or DHCP for another station. */
    static final int DROP = 2;

    private final Path leaseDir;
    private final Supplier<Settings> settings;
    private final SwitchCounters counters;
    private final PortHygiene hygiene;
    /**
     * A lease file is written at most once a second however fast members join (each write is the whole file: at
     * 10,000 members a write per join was O(n) per change); a crash loses at most the last second's changes, a
     * stop none (docs/operating.md).
     */
    static final Duration LEASE_WRITE_INTERVAL = Duration.ofSeconds(1);
    private final LeaseWriter writer = new LeaseWriter("vl2-lease-writer", LEASE_WRITE_INTERVAL);
    /** The newest lease table of each network, for the flush at {@link #close}. */
    private final Map<Long, LeaseTable> tables = new ConcurrentHashMap<>();

    Addressing(Path leaseDir, Supplier<Settings> settings, SwitchCounters counters, PortHygiene hygiene) {
        this.leaseDir = leaseDir;
        this.settings = settings;
        this.counters = counters;
        this.hygiene = hygiene;
    }

    /** How a sealed (authenticated) member's lease is keyed in a lease table. */
    public static String memberKey(long member) {
        return memberKey(member, true);
    }

    /**
     * How a member's lease is keyed: a plaintext JOIN only claims its member id, so its leases live apart from the
     * authenticated members' and can never be a sealed member's.
     */
    public static String memberKey(long member, boolean sealed) {
        return (sealed ? "member:" : "plaintext:") + SwitchPort.memberId(member);
    }

    // ---- per frame --------------------------------------------------------------------------------------

    /**
     * The switch's answer to a frame from {@code in} (DHCP, ARP for its address): {@link #REPLY} with the answer in
     * {@code e.dhcp}, to go back to the ingress port; {@link #DROP}; or {@link #NONE}. Only broadcast frames and
     * frames to the switch's MAC on a network with DHCP are looked at. Never more bytes back than came in: a short
     * (unpadded) DHCP request from a spoofable raw or VXLAN source must not make the switch an amplifier; real
     * clients pad their requests to 300 bytes, so they get answers.
     */
    int answer(SwitchPort in, ByteBuffer frame, EthernetFrame view, Egress e) {
        Network net = in.network;
        Network.State state = net.state();
        DhcpServer dhcp = state.dhcp();
        if (dhcp == null) {
            return NONE;
        }
        long dst = view.destinationBits();
        if (dst != MacAddress.MASK && dst != net.serverMac) {
            return NONE;
        }
        if (DhcpFrames.isToServerPort(frame) && !hygiene.dhcpAllowed(in, state.settings().hygiene())) {
            return DROP;
        }
        int result;
        synchronized (dhcp) {
            result = dhcp.handle(frame, e.dhcp);
        }
        if (result == DhcpServer.REFUSED) {
            counters.dropDhcpSpoofed.increment();
            in.rxDrops.increment();
            return DROP;
        }
        if (result != DhcpServer.REPLY || e.dhcp.remaining() > frame.remaining()) {
            return NONE;
        }
        if (state.settings().hygiene().ipGuard()) {
            int acked = DhcpFrames.ackedAddress(e.dhcp);
            if (acked != 0) {
                hygiene.bound(net, in, acked);
            }
        }
        return REPLY;
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
        if (previous != null && previous.leases() != null) {
            // written now and let go of the file: a write of the old table (now or from a change still in flight on
            // it) must not land after the new table read the file, or overwrite what the new one writes
            previous.leases().close();
        }
        Path file = leaseDir == null ? null : leaseDir.resolve(Networks.format(id) + ".leases");
        Duration grace = Duration.ofNanos(settings.get().sessionTimeoutNanos());
        try {
            LeaseTable table = LeaseTable.load(s.pool(), file, Clock.systemUTC(), grace, writer);
            tables.put(id, table);
            return table;
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
        if (releaseLease && leases != null && leases.release(memberKey(port.member, port.sealed))) {
            LOG.info("Lease of member {} ({}) released", SwitchPort.memberId(port.member),
                    port.address == null ? "-" : port.address.getHostAddress());
        }
    }

    /** A member left: its address is kept as long as the port would have lived, so a quick restart gets it back. */
    public void left(SwitchPort p) {
        LeaseTable leases = p.network.leases();
        if (leases != null) {
            leases.expireIn(memberKey(p.member, p.sealed), Duration.ofNanos(settings.get().sessionTimeoutNanos()));
        }
    }

    void expireLeases(Iterable<Network> networks) {
        for (Network n : networks) {
            if (n.settings().hygiene().ipGuard()) {
                PortHygiene.prune(n);
            }
            LeaseTable leases = n.leases();
            if (leases != null) {
                int freed = leases.removeExpired();
                if (freed > 0) {
                    LOG.info("Network {}: {} expired leases freed", Networks.format(n.id), freed);
                }
            }
        }
    }

    /**
     * The switch stops: waits for the queued lease writes and writes what is still pending, so no lease is lost.
     * A change after this is written by the thread making it.
     */
    void close() {
        if (!writer.close(Duration.ofSeconds(10))) {
            LOG.warn("Lease writes did not finish in time; writing the pending leases now");
        }
        for (LeaseTable t : tables.values()) {
            t.flush();
        }
    }

    /** How many leases are inside the pool's range (a static address may be any host of the subnet). */
    static int leasesInRange(Network.State s) {
        LeaseTable leases = s.leases();
        if (leases == null) {
            return 0;
        }
        int n = 0;
        for (Lease l : leases.leases()) {
            if (leases.pool().inRange(l.address())) {
                n++;
            }
        }
        return n;
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
