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
 */
final class Network {

    private static final SwitchPort[] NONE = new SwitchPort[0];

    final long id;
    volatile NetworkSettings settings;
    /** The policy this network uses now, resolved by the core whenever policies or settings change. */
    volatile ForwardingPolicy policy;
    private volatile SwitchPort[] ports = NONE;
    /** vl2-protocol ports by member id. */
    final Map<Long, SwitchPort> members = new ConcurrentHashMap<>();
    /** Null without an IPv4 pool. */
    volatile LeaseTable leases;
    /** Null unless DHCP is on. */
    volatile DhcpServer dhcp;
    /** The MAC the switch answers DHCP and ARP from on this network (locally administered, from the id). */
    final long serverMac;

    Network(NetworkSettings settings) {
        this.id = settings.id();
        this.settings = settings;
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

    SwitchPort[] ports() {
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
