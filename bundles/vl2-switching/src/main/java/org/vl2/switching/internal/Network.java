package org.vl2.switching.internal;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.vl2.api.MacAddress;
import org.vl2.api.spi.ForwardingPolicy;
import org.vl2.ipam.DhcpServer;
import org.vl2.ipam.LeaseTable;
import org.vl2.protocol.Route;

/**
 * A network as the switch runs it: a flood domain with its own MAC table space, policy, members and address
 * leases. Frames never leave their network. Flooding iterates a snapshot of the ports ({@link Ports}): no lock
 * and no iterator per frame. A join appends in place (amortized constant: 10,000 joins no longer copy the array
 * 10,000 times), a removal copies once.
 *
 * <p>What a configuration decides (settings, the policy they resolve to, leases, DHCP) is one immutable
 * {@link State}, published with one volatile write: readers never see settings without their DHCP server or
 * policy, and a network is only ever created with its first complete state (see {@link NetworkDirectory}).
 */
public final class Network {

    /**
     * The ports of a network at one moment: the first {@code size} slots of an array. A later join may write the
     * slot past this snapshot's end (it publishes a new snapshot of the same array); nothing ever changes a slot
     * below a published size, so a reader holding a snapshot sees it whole. A removal builds a new array.
     */
    public static final class Ports implements Iterable<SwitchPort> {

        /** Shared by every empty network: no room, so the first join builds the network's own array. */
        private static final Ports NONE = new Ports(new SwitchPort[0], 0);

        private final SwitchPort[] slots;
        private final int size;

        private Ports(SwitchPort[] slots, int size) {
            this.slots = slots;
            this.size = size;
        }

        public int size() {
            return size;
        }

        public SwitchPort get(int i) {
            if (i >= size) {
                throw new IndexOutOfBoundsException(i);
            }
            return slots[i];
        }

        public boolean contains(SwitchPort p) {
            for (int i = 0; i < size; i++) {
                if (slots[i] == p) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public java.util.Iterator<SwitchPort> iterator() {
            return Arrays.asList(slots).subList(0, size).iterator();
        }

        /** The snapshot with {@code p} appended: in place while the array has room. */
        Ports plus(SwitchPort p) {
            SwitchPort[] a = size < slots.length ? slots : Arrays.copyOf(slots, Math.max(4, slots.length * 2));
            a[size] = p;
            return new Ports(a, size + 1);
        }

        /** The snapshot without {@code p} (a new array: older snapshots keep theirs), or this one. */
        Ports minus(SwitchPort p) {
            for (int i = 0; i < size; i++) {
                if (slots[i] == p) {
                    SwitchPort[] a = new SwitchPort[Math.max(4, slots.length)];
                    System.arraycopy(slots, 0, a, 0, i);
                    System.arraycopy(slots, i + 1, a, i, size - i - 1);
                    return new Ports(a, size - 1);
                }
            }
            return this;
        }

        /** Whether two snapshots share their array (tests: a join copied nothing). */
        boolean sameArray(Ports other) {
            return slots == other.slots;
        }
    }

    /**
     * One configuration of the network, complete.
     *
     * @param policy the policy the network uses now (its own or the switch's); null while it is not registered
     * @param leases null without an IPv4 pool
     * @param dhcp   null unless DHCP is on
     */
    public record State(NetworkSettings settings, ForwardingPolicy policy, LeaseTable leases, DhcpServer dhcp) {

        State withPolicy(ForwardingPolicy next) {
            return new State(settings, next, leases, dhcp);
        }
    }

    /**
     * The managed routes in force for the members, and their version (docs/protocol.md, ROUTES): the switch's epoch
     * for this network in the high 32 bits, a counter in the low ones.
     */
    public record RouteSet(long version, List<Route> routes) {
    }

    public final long id;
    private volatile State state;
    /** Random per network and switch start: an agent tells a restarted switch's counter from a stale message. */
    private final long routeEpoch = (long) new SecureRandom().nextInt() << 32;
    private volatile RouteSet routes;
    private volatile Ports ports = Ports.NONE;
    /** vl2-protocol ports by member id. */
    final Map<Long, SwitchPort> members = new ConcurrentHashMap<>();
    /** Members this network refused that an operator may authorize (private networks). */
    private final WaitingMembers waiting = new WaitingMembers();
    /** The MAC the switch answers DHCP and ARP from on this network (locally administered, from the id). */
    public final long serverMac;

    Network(State first) {
        this.id = first.settings().id();
        this.state = first;
        this.serverMac = serverMac(id);
        this.routes = new RouteSet(routeEpoch | 1, List.of());
        refreshRoutes();
    }

    /** 02:76:6c (locally administered, "vl") + 24 bits of the network id mixed. */
    static long serverMac(long network) {
        long mixed = network ^ (network >>> 24) ^ (network >>> 48);
        return 0x02766c000000L | (mixed & 0xffffffL);
    }

    MacAddress serverMacAddress() {
        return MacAddress.of(serverMac);
    }

    /** Members this network refused that an operator may authorize. */
    public WaitingMembers waiting() {
        return waiting;
    }

    public State state() {
        return state;
    }

    /** Replaces the whole configuration at once. */
    void publish(State next) {
        state = next;
        refreshRoutes();
    }

    /** The routes in force now and their version (read by the housekeeping thread that pushes them). */
    public RouteSet routes() {
        return routes;
    }

    /**
     * Works out again which configured routes are in force: those whose gateway an encrypted member's port holds
     * (its IPv4 address, or its IPv6 address from the prefix), in the configured order. A change gets the next
     * version; returns whether there was one. Called when the settings change and when a member's port comes, goes
     * or gets another address: a gateway that goes withdraws its routes, and members fall back on the next gateway.
     */
    public synchronized boolean refreshRoutes() {
        NetworkSettings s = state.settings();
        List<Route> active = new ArrayList<>();
        for (Route r : s.routes()) {
            if (gatewayPresent(r, s)) {
                active.add(r);
            }
        }
        RouteSet current = routes;
        if (active.equals(current.routes())) {
            return false;
        }
        routes = new RouteSet(routeEpoch | ((current.version() + 1) & 0xffffffffL), List.copyOf(active));
        return true;
    }

    /** Only an encrypted member can bring a route into force: its address is the switch's to give, its key proven. */
    private boolean gatewayPresent(Route r, NetworkSettings s) {
        Ports all = ports;
        for (int i = 0; i < all.size(); i++) {
            SwitchPort p = all.get(i);
            if (p.removed || !p.authenticated()) {
                continue;
            }
            if (r.ipv4() ? r.gateway().equals(p.address) : r.gateway().equals(s.ipv6For(p.member))) {
                return true;
            }
        }
        return false;
    }

    public NetworkSettings settings() {
        return state.settings();
    }

    public LeaseTable leases() {
        return state.leases();
    }

    /** The vl2 port of a member, or null. */
    public SwitchPort member(long member) {
        return members.get(member);
    }

    /** The ports now: a snapshot that later joins and removals do not change. */
    public Ports ports() {
        return ports;
    }

    synchronized void add(SwitchPort port) {
        ports = ports.plus(port);
        refreshRoutes();
    }

    synchronized void remove(SwitchPort port) {
        Ports next = ports.minus(port);
        if (next != ports) {
            ports = next;
            refreshRoutes();
        }
    }
}
