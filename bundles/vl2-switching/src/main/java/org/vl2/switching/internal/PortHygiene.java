package org.vl2.switching.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.EthernetFrame;
import org.vl2.api.MacAddress;
import org.vl2.api.MacTableService;
import org.vl2.ipam.Lease;
import org.vl2.ipam.LeaseTable;

/**
 * Per-port hygiene: what one port may do to the others of its network, whatever it sends. The MAC table refuses
 * a port's stations beyond its limit per port ({@link #macRefused}: the frame is dropped, counted and reported);
 * DHCP to the switch is rate-limited per port ({@link #dhcpAllowed}); and with {@code ip.guard} a port may only
 * send IPv4 from, and ARP for, the addresses the switch gave it ({@link #sourceAllowed}, bound by
 * {@link #bound}). State per port is in its {@link PortGuard}.
 *
 * <p>Per frame: no lock, no allocation, no logging (the MAC limit report is once a minute per port at most).
 */
final class PortHygiene {

    private static final Logger LOG = LoggerFactory.getLogger(PortHygiene.class);
    private static final long SECOND = 1_000_000_000L;
    /** A port over its MAC limit is reported once, then at most once a minute with the count refused since. */
    static final long REPORT_INTERVAL_NANOS = 60 * SECOND;
    private static final int ETH_IPV4 = 0x0800;
    private static final int ETH_ARP = 0x0806;

    private final MacTableService fdb;
    private final SwitchCounters counters;
    private final LongSupplier nanoClock;

    PortHygiene(MacTableService fdb, SwitchCounters counters, LongSupplier nanoClock) {
        this.fdb = fdb;
        this.counters = counters;
        this.nanoClock = nanoClock;
    }

    // ---- MAC limit --------------------------------------------------------------------------------------------

    /** The MAC table refused the frame's source (the port is at its limit, or the table is full): dropped. */
    void macRefused(SwitchPort in, EthernetFrame view) {
        counters.dropMacLimit.increment();
        in.rxDrops.increment();
        PortGuard g = in.guard;
        g.macLimitRefused++;
        long now = nanoClock.getAsLong() | 1; // 0 means never reported
        if (g.macLimitReported != 0 && now - g.macLimitReported < REPORT_INTERVAL_NANOS) {
            return;
        }
        int limit = fdb.statistics().perPortLimit();
        if (limit > 0) {
            LOG.warn("{} reached the MAC limit per port ({} stations): frames from new station {} dropped ({} "
                    + "refused since the last report); raise per.port.limit of org.vl2.mactable if more hosts sit "
                    + "behind it", describe(in), limit, MacAddress.toString(view.sourceBits()), g.macLimitRefused);
        } else {
            LOG.warn("{}: the MAC table is full of entries it cannot evict: frames from new station {} dropped ({} "
                    + "refused since the last report)", describe(in), MacAddress.toString(view.sourceBits()),
                    g.macLimitRefused);
        }
        g.macLimitReported = now;
        g.macLimitRefused = 0;
    }

    /** A port as an operator finds it: transport and remote, and for a member its id and key. */
    static String describe(SwitchPort p) {
        StringBuilder sb = new StringBuilder("Port ").append(p.id).append(" (").append(p.slot.name).append(' ')
                .append(org.vl2.api.Endpoints.format(p.remote));
        if (p.kind == SwitchPort.Kind.VL2) {
            sb.append(", member ").append(SwitchPort.memberId(p.member));
            byte[] key = p.publicKey;
            if (key != null) {
                sb.append(", key ").append(org.vl2.crypto.Identity.fingerprint(key));
            }
        }
        return sb.append(')').toString();
    }

    // ---- DHCP ---------------------------------------------------------------------------------------------

    /**
     * Charges one DHCP message to the port's budget (token bucket, a second's worth of burst); false, counted, if
     * it is spent.
     */
    boolean dhcpAllowed(SwitchPort in, HygieneSettings s) {
        if (charge(in.guard, s.dhcpCostNanos())) {
            return true;
        }
        counters.dropDhcpRate.increment();
        in.rxDrops.increment();
        return false;
    }

    /** Takes {@code cost} from the port's address-management budget (DHCP, guard lookups); false if spent. */
    private boolean charge(PortGuard g, long cost) {
        if (cost == 0) {
            return true;
        }
        long now = nanoClock.getAsLong();
        long credit = g.dhcpCredit == Long.MAX_VALUE ? SECOND : Math.min(SECOND, g.dhcpCredit + (now - g.dhcpRefilled));
        g.dhcpRefilled = now;
        if (credit < cost) {
            g.dhcpCredit = credit;
            return false;
        }
        g.dhcpCredit = credit - cost;
        return true;
    }

    // ---- IPv4 source guard -----------------------------------------------------------------------------------

    /**
     * Whether the port may send this frame under the network's IPv4 source guard: IPv4 from 0.0.0.0, its member's
     * address or an address bound to it; ARP (for IPv4) with such a sender address; anything else that is not
     * IPv4 or ARP (IPv6, ...). A frame with a second VLAN tag hides its payload from the guard: dropped. Dropped
     * frames are counted.
     *
     * <p>An address the port does not hold yet is looked up in the leases (the slow path, charged to the port's
     * DHCP budget): if the switch's DHCP server leased it to the frame's source MAC, it is bound to the port. So a
     * host behind a bridged port keeps its address across a switch restart or its agent's re-join, where the port
     * is new and its bindings are gone.
     */
    boolean sourceAllowed(SwitchPort in, Network net, ByteBuffer frame, EthernetFrame view) {
        if (!net.state().settings().hygiene().ipGuard()) {
            return true;
        }
        int type = view.etherType();
        int l3 = frame.position() + view.payloadOffset();
        int source;
        if (type == ETH_IPV4) {
            if (frame.limit() - l3 < 20) {
                return refuse(in);
            }
            source = u32(frame, l3 + 12);
        } else if (type == ETH_ARP) {
            if (frame.limit() - l3 < 28) {
                return refuse(in);
            }
            if (u16(frame, l3 + 2) != ETH_IPV4) {
                return true; // ARP for another protocol: not an IPv4 claim
            }
            source = u32(frame, l3 + 14);
        } else if (view.hasVlanTag() && (type == EthernetFrame.TPID_8021Q || type == EthernetFrame.TPID_8021AD)) {
            return refuse(in);
        } else {
            return true;
        }
        return source == 0 || in.guard.allows(source, in.address) || leasedTo(in, net, source, view)
                || refuse(in);
    }

    /** The slow path: whether {@code source} is the live DHCP lease of the frame's source MAC; then it is bound. */
    private boolean leasedTo(SwitchPort in, Network net, int source, EthernetFrame view) {
        LeaseTable leases = net.leases();
        if (leases == null || !charge(in.guard, net.settings().hygiene().dhcpCostNanos())) {
            return false;
        }
        Optional<Lease> l = leases.holder(address(source));
        if (l.isEmpty() || !l.get().key().equals("mac:" + MacAddress.toString(view.sourceBits()))) {
            return false;
        }
        bound(net, in, source);
        return true;
    }

    private boolean refuse(SwitchPort in) {
        counters.dropIpGuard.increment();
        in.rxDrops.increment();
        return false;
    }

    /**
     * The switch's DHCP server acknowledged {@code address} to a station behind {@code in}: the address is the
     * port's now, and no longer any other port's of the network.
     */
    void bound(Network net, SwitchPort in, int address) {
        for (SwitchPort o : net.ports()) {
            if (o != in) {
                o.guard.unbind(address);
            }
        }
        in.guard.bind(address);
    }

    /** Unbinds the addresses whose DHCP lease has ended or gone to someone else (housekeeping). */
    static void prune(Network net) {
        LeaseTable leases = net.leases();
        for (SwitchPort p : net.ports()) {
            for (int a : p.guard.bound()) {
                Optional<Lease> l = leases == null ? Optional.empty() : leases.holder(address(a));
                if (l.isEmpty() || !l.get().key().startsWith("mac:")) {
                    p.guard.unbind(a);
                }
            }
        }
    }

    private static Inet4Address address(int a) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16),
                    (byte) (a >>> 8), (byte) a});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 4 bytes are always an address
        }
    }

    private static int u16(ByteBuffer b, int i) {
        return ((b.get(i) & 0xFF) << 8) | (b.get(i + 1) & 0xFF);
    }

    private static int u32(ByteBuffer b, int i) {
        return (u16(b, i) << 16) | u16(b, i + 2);
    }
}
