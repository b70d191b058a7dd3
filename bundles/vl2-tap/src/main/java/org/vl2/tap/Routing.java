package org.vl2.tap;

import java.net.InetAddress;
import java.util.List;

/**
 * The kernel's routing table through rtnetlink (socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), JNA; no shelling out):
 * what a port agent needs to install managed routes and to keep its own path to the switch. Each call opens its own
 * netlink socket, so it works from any thread, in the network namespace of the process.
 */
public interface Routing {

    /**
     * Adds a route (RTM_NEWROUTE, create, exclusive).
     *
     * @throws TapException with the kernel's errno (EEXIST: already there; ENETUNREACH: the gateway is not on-link)
     */
    void add(KernelRoute route) throws TapException;

    /** Deletes a route (RTM_DELROUTE) matching destination, gateway, interface, metric and table; false if none. */
    boolean delete(KernelRoute route) throws TapException;

    /** The route the kernel takes to {@code destination} now (RTM_GETROUTE, as {@code ip route get}); null if none. */
    KernelRoute lookup(InetAddress destination) throws TapException;

    /** The unicast routes of the main table of one family (RTM_GETROUTE dump). */
    List<KernelRoute> routes(boolean ipv4) throws TapException;

    /** The index of interface {@code name}, 0 if there is none. */
    int ifindex(String name) throws TapException;
}
