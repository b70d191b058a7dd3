package org.vl2.switching.internal;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.vl2.api.MacAddress;
import org.vl2.api.spi.ForwardingPolicy;
import org.vl2.ipam.DhcpServer;
import org.vl2.ipam.LeaseTable;

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

    public final long id;
    private volatile State state;
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
    }

    synchronized void remove(SwitchPort port) {
        SwitchPort[] p = ports;
        for (int i = 0; i < p.length; i++) {
            if (p[i] == port) {
                SwitchPort[] q = new SwitchPort[p.length - 1];
                System.arraycopy(p, 0, q, 0, i);
                System.arraycopy(p, i + 1, q, i, p.length - i - 1);
                ports = q;
                return;
            }
        }
    }
}
