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
 * leases. Frames never leave their network. Flooding iterates a copy-on-write array: no lock and no iterator
 * per frame; ports come and go rarely compared to frames.
 *
 * <p>What a configuration decides (settings, the policy they resolve to, leases, DHCP) is one immutable
 * {@link State}, published with one volatile write: readers never see settings without their DHCP server or
 * policy, and a network is only ever created with its first complete state (see {@link NetworkDirectory}).
 */
public final class Network {

    private static final SwitchPort[] NONE = new SwitchPort[0];

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
    private volatile SwitchPort[] ports = NONE;
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
        for (SwitchPort p : ports) {
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

    public SwitchPort[] ports() {
        return ports;
    }

    synchronized void add(SwitchPort port) {
        SwitchPort[] p = Arrays.copyOf(ports, ports.length + 1);
        p[p.length - 1] = port;
        ports = p;
        refreshRoutes();
    }

    synchronized void remove(SwitchPort port) {
        SwitchPort[] p = ports;
        for (int i = 0; i < p.length; i++) {
            if (p[i] == port) {
                SwitchPort[] q = new SwitchPort[p.length - 1];
                System.arraycopy(p, 0, q, 0, i);
                System.arraycopy(p, i + 1, q, i, p.length - i - 1);
                ports = q;
                refreshRoutes();
                return;
            }
        }
    }
}
