package org.vl2.api;

import java.time.Instant;
import java.util.List;

/**
 * A network (flood domain) as the switch hosts it.
 *
 * @param id         64-bit network id ({@link Networks#format})
 * @param name       its name
 * @param mtu        the IP MTU members put on their TAP devices
 * @param policy     the forwarding policy it uses
 * @param ipv4Pool   its IPv4 pool as text (e.g. {@code 10.147.17.0/24 (range ...)}), null if none
 * @param ipv6Prefix its IPv6 prefix (e.g. {@code fd00:147::/64}), null if none
 * @param dhcp       whether the switch answers DHCPv4 on it
 * @param ports      how many ports it has now
 * @param leases     the IPv4 leases (members and DHCP clients), ordered by address
 * @param access     who may be a port: {@value #SEALED}, {@value #PLAINTEXT} or {@value #PRIVATE}
 * @param leaseCapacity how many IPv4 addresses the pool's range can lease (the switch's own address not counted);
 *                   0 without a pool
 * @param leasesInRange how many of the leases are inside the pool's range: a member's static address may be any host
 *                   of the subnet, and such a lease takes nothing from the range
 */
public record NetworkInfo(long id, String name, int mtu, String policy, String ipv4Pool, String ipv6Prefix,
                          boolean dhcp, int ports, List<Lease> leases, String access, int leaseCapacity,
                          int leasesInRange) {

    /** Encrypted vl2 members only (the default). */
    public static final String SEALED = "sealed";
    /** Also raw ports, VXLAN VTEPs and plaintext vl2 joins (network property {@code plaintext}). */
    public static final String PLAINTEXT = "plaintext";
    /** Encrypted vl2 members that the network lists only. */
    public static final String PRIVATE = "private";

    public NetworkInfo {
        leases = List.copyOf(leases);
    }

    /** Every lease counted as inside the range. */
    public NetworkInfo(long id, String name, int mtu, String policy, String ipv4Pool, String ipv6Prefix,
                       boolean dhcp, int ports, List<Lease> leases, String access, int leaseCapacity) {
        this(id, name, mtu, policy, ipv4Pool, ipv6Prefix, dhcp, ports, leases, access, leaseCapacity, leases.size());
    }

    /** Without the lease capacity (0): the fields before it. */
    public NetworkInfo(long id, String name, int mtu, String policy, String ipv4Pool, String ipv6Prefix,
                       boolean dhcp, int ports, List<Lease> leases, String access) {
        this(id, name, mtu, policy, ipv4Pool, ipv6Prefix, dhcp, ports, leases, access, 0);
    }

    /** Leases the range still has: capacity minus the leases inside it (never below 0). */
    public int leasesFree() {
        return Math.max(0, leaseCapacity - leasesInRange);
    }

    /** A sealed network. */
    public NetworkInfo(long id, String name, int mtu, String policy, String ipv4Pool, String ipv6Prefix,
                       boolean dhcp, int ports, List<Lease> leases) {
        this(id, name, mtu, policy, ipv4Pool, ipv6Prefix, dhcp, ports, leases, SEALED);
    }

    /**
     * One address lease.
     *
     * @param holder  who holds it: {@code member:<16 hex digits>} or {@code mac:<MAC>}
     * @param address the IPv4 address
     * @param expires when it expires (ISO-8601 instant), null if it is held for as long as the port lives
     */
    public record Lease(String holder, String address, Instant expires) {
    }
}
