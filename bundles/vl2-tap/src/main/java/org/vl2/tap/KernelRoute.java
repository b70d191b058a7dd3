package org.vl2.tap;

import java.net.InetAddress;

/**
 * A route of the kernel's routing table, as rtnetlink carries it (RTM_NEWROUTE): what a port agent installs for a
 * managed route, and what a lookup or dump returns.
 *
 * @param destination  the prefix's address (host bits zero), never null
 * @param prefixLength 0..32 or 0..128
 * @param gateway      the next hop, null for an on-link route
 * @param ifindex      the output interface, 0 for any (a lookup's or dump's answer always names one)
 * @param metric       the route's priority (lower wins)
 * @param table        the routing table, {@value #MAIN} for main
 * @param protocol     who installed it ({@value #PROTO_KERNEL} for the kernel's connected routes, {@value #PROTO_VL2}
 *                     for vl2's)
 * @param scope        {@value #SCOPE_UNIVERSE} through a gateway, {@value #SCOPE_LINK} on-link
 */
public record KernelRoute(InetAddress destination, int prefixLength, InetAddress gateway, int ifindex, int metric,
                          int table, int protocol, int scope) {

    public static final int MAIN = 254;
    public static final int PROTO_KERNEL = 2;
    /** The rtm_protocol vl2 marks its routes with ({@code ip route show proto 118}). */
    public static final int PROTO_VL2 = 118;
    public static final int SCOPE_UNIVERSE = 0;
    public static final int SCOPE_LINK = 253;

    /** A route vl2 installs in the main table: through {@code gateway}, or on-link if it is null. */
    public static KernelRoute of(InetAddress destination, int prefixLength, InetAddress gateway, int ifindex,
                                 int metric) {
        return new KernelRoute(destination, prefixLength, gateway, ifindex, metric, MAIN, PROTO_VL2,
                gateway == null ? SCOPE_LINK : SCOPE_UNIVERSE);
    }

    public boolean ipv4() {
        return destination instanceof java.net.Inet4Address;
    }

    /** {@code 10.9.0.0/16 via 10.1.0.5 dev#7 metric 100}, like {@code ip route}. */
    @Override
    public String toString() {
        return destination.getHostAddress() + "/" + prefixLength + (gateway == null ? "" : " via "
                + gateway.getHostAddress()) + " dev#" + ifindex + (metric == 0 ? "" : " metric " + metric)
                + (table == MAIN ? "" : " table " + table) + (protocol == PROTO_VL2 ? " proto vl2" : "");
    }
}
