package org.vl2.mactable.internal;

import org.vl2.api.MacAddress;
import org.vl2.api.PortId;

/**
 * One station in the MAC table. Readers (lookups, refreshes) use the volatile fields without locking; every
 * other change happens under the table's writer lock.
 */
final class Entry {

    /** Marks a freed slot in a {@link NetworkTable}; its key matches no real key (real keys use 60 bits). */
    static final Entry TOMBSTONE = new Entry(-1L, null, null, true, 0L);

    /** {@code vlan << 48 | mac}. */
    final long key;
    /** The table this entry lives in (gives the network). */
    final NetworkTable table;
    /** Configured by an operator: never aged, evicted, moved or counted per port. Fixed for the entry's life. */
    final boolean isStatic;

    /** The port the station is behind. Changed only under the writer lock (moves). */
    volatile PortId port;
    /** Clock reading (nanoseconds) when a frame from the station was last seen; written by lock-free refreshes. */
    volatile long lastSeen;
    /** How often the station moved to another port. Changed only under the writer lock. */
    volatile long moves;
    /**
     * Set once the entry is no longer in its table. A lock-free refresh writes {@link #lastSeen} and then reads
     * this flag, while the ageing sweep sets the flag and then re-reads {@code lastSeen}: one of them sees the
     * other, so a station that is still talking is never aged out by a race.
     */
    volatile boolean removed;

    // Guarded by the writer lock: the per-port list of dynamic entries, oldest first.
    PortIndex.PortRecord portRecord;
    Entry olderInPort;
    Entry newerInPort;

    Entry(long key, NetworkTable table, PortId port, boolean isStatic, long now) {
        this.key = key;
        this.table = table;
        this.port = port;
        this.isStatic = isStatic;
        this.lastSeen = now;
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
