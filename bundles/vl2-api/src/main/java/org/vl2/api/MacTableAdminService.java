package org.vl2.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Write side of the MAC table: learning (used by the switch core) and the operator's actions (static
 * entries, flushes).
 */
@ProviderType
public interface MacTableAdminService extends MacTableService {

    /** Outcome of {@link #learn}. */
    enum LearnResult {
        /** A new entry was created. */
        LEARNED,
        /** The entry existed on this port; its age was reset. */
        REFRESHED,
        /** The entry existed on another port and now points at this one. */
        MOVED,
        /** A static entry exists for this station; learning does not change it. */
        STATIC,
        /** No room: the port is at its limit, or the table is full of entries that cannot be evicted. */
        REFUSED
    }

    /**
     * Learns that {@code mac} is behind {@code port}. Hot path: refreshing a known entry takes no lock and
     * allocates nothing.
     */
    LearnResult learn(long network, int vlan, long mac, PortId port);

    /**
     * Adds or replaces a static entry. Static entries are never aged, never evicted and never overwritten
     * by learning; they count against the capacity.
     *
     * @throws IllegalArgumentException if the MAC is a group (multicast) address
     * @throws IllegalStateException    if the table is full of static entries
     */
    void addStatic(long network, int vlan, MacAddress mac, PortId port);

    /** Removes the entry (static or dynamic) for a station; false if there was none. */
    boolean remove(long network, int vlan, MacAddress mac);

    /** Removes every dynamic entry; returns how many. Static entries stay. */
    int flush();

    /** Removes the dynamic entries behind a port, e.g. when the port goes away; returns how many. */
    int flushPort(PortId port);

    /** Removes the dynamic entries for a MAC in every network and VLAN; returns how many. */
    int flushMac(MacAddress mac);
}
