package org.vl2.mactable.internal;

import org.vl2.api.MacAddress;
import org.vl2.api.PortId;

/**
 * One station in the MAC table: the writers' bookkeeping (per-port lists, moves). The hot data (key, port,
 * last-seen time) lives inline in its {@link NetworkTable}'s arrays; lookups and refreshes never read an
 * {@code Entry}. Every change happens under the table's writer lock.
 */
final class Entry {

    /** {@code vlan << 48 | mac}. */
    final long key;
    /** The table this entry lives in (gives the network). */
    final NetworkTable table;
    /** Configured by an operator: never aged, evicted, moved or counted per port. Fixed for the entry's life. */
    final boolean isStatic;

    /** The port the station is behind (a copy of its slot's port). Changed only under the writer lock (moves). */
    volatile PortId port;
    /** How often the station moved to another port. Changed only under the writer lock. */
    volatile long moves;
    /** Set once the entry is no longer in its table. Written under the writer lock. */
    volatile boolean removed;

    // Guarded by the writer lock: the per-port list of dynamic entries, oldest first.
    PortIndex.PortRecord portRecord;
    Entry olderInPort;
    Entry newerInPort;

    Entry(long key, NetworkTable table, PortId port, boolean isStatic) {
        this.key = key;
        this.table = table;
        this.port = port;
        this.isStatic = isStatic;
    }

    static long key(int vlan, long mac) {
        return ((long) vlan << 48) | mac;
    }

    int vlan() {
        return (int) (key >>> 48);
    }

    long mac() {
        return key & MacAddress.MASK;
    }

    long network() {
        return table.network;
    }

    @Override
    public String toString() {
        return (isStatic ? "static " : "") + "Entry[" + table.network + "/" + vlan() + "/" + MacAddress.toString(mac())
                + " -> " + port + "]";
    }
}
