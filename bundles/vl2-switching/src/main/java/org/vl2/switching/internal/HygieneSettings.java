package org.vl2.switching.internal;

/**
 * A network's per-port hygiene settings ({@link NetworkConfig} {@code dhcp.rate.per.port}, {@code ip.guard}),
 * validated. The MAC limit per port is the MAC table's ({@code org.vl2.mactable} {@code per.port.limit}).
 *
 * @param dhcpRate most DHCP messages per second a port may send to the switch's server; 0 = no limit
 * @param ipGuard  whether a port may only send IPv4 and ARP from the addresses the switch gave it
 */
public record HygieneSettings(int dhcpRate, boolean ipGuard) {

    /** Per port and second: a bridge with 40 hosts booting at once has all its leases within about 10 s. */
    static final int DEFAULT_DHCP_RATE = 20;
    static final int MAX_DHCP_RATE = 100_000;
    static final HygieneSettings DEFAULTS = new HygieneSettings(DEFAULT_DHCP_RATE, false);

    /**
     * @param pool whether the network has an IPv4 pool (the guard needs its leases)
     * @throws IllegalArgumentException naming the PID, property, value and what is allowed
     */
    static HygieneSettings from(NetworkConfig c, String pid, boolean pool) {
        if (c.dhcp_rate_per_port() < 0 || c.dhcp_rate_per_port() > MAX_DHCP_RATE) {
            throw new org.vl2.api.InvalidSettingException("dhcp.rate.per.port", "Invalid configuration " + pid + ": dhcp.rate.per.port="
                    + c.dhcp_rate_per_port() + " (must be 0 (no limit) .. " + MAX_DHCP_RATE + " messages/s)");
        }
        if (c.ip_guard() && !pool) {
            throw new org.vl2.api.InvalidSettingException("ip.guard", "Invalid configuration " + pid + ": ip.guard=true (must be false "
                    + "unless ipv4.pool is set: the guard allows the addresses the switch assigns)");
        }
        return new HygieneSettings(c.dhcp_rate_per_port(), c.ip_guard());
    }

    /** Cost of one DHCP message in a port's bucket, in nanoseconds of credit; 0 = no limit. */
    long dhcpCostNanos() {
        return dhcpRate == 0 ? 0 : 1_000_000_000L / dhcpRate;
    }
}
