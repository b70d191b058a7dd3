package org.vl2.mactable.internal;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.MacEvent;
import org.vl2.api.PortId;

/**
 * The MAC table's limits: the per-port limit refuses stations, the capacity evicts fairly (an entry of the port
 * that holds the most), and a lower configuration trims down to the new limits. Works on the
 * {@link ForwardingDatabase}'s state; every method runs with its writer lock held.
 */
final class Eviction {

    /** The component's logger: the log lines keep the name they always had. */
    private static final Logger LOG = LoggerFactory.getLogger(MacTableImpl.class);
    /** Eviction removes the least recently seen of this many oldest entries of the fullest port. */
    static final int EVICTION_SAMPLE = 8;

    private final ForwardingDatabase fdb;

    Eviction(ForwardingDatabase fdb) {
        this.fdb = fdb;
    }

    /** True if {@code port} may not learn another station. */
    boolean atPortLimit(Settings s, PortId port) {
        return s.perPortLimit > 0 && fdb.ports.count(port) >= s.perPortLimit;
    }

    /**
     * Evicts until there is room for one more entry; false if only static entries are left and the table is still
     * full. {@code learning}: the port a new station is being learned on, or null (see {@link #evictOne}).
     */
    boolean makeRoom(Settings s, long now, List<MacEvent> events, PortId learning) {
        while (fdb.size >= s.capacity) {
            if (!evictOne(s, now, events, learning)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Brings the table within a new configuration: lowering the per-port limit trims the ports above it, lowering
     * the capacity evicts fairly down to it. Static entries are kept even if they alone exceed the capacity.
     */
    void trim(Settings next, long now, List<MacEvent> events) {
        if (next.perPortLimit > 0) {
            for (PortIndex.PortRecord r : fdb.ports.records()) {
                while (r.count > next.perPortLimit) {
                    evictFrom(r, next, now, events);
                }
            }
        }
        while (fdb.size > next.capacity && evictOne(next, now, events, null)) {
            // evict from the fullest port, one at a time
        }
        if (fdb.size > next.capacity) {
            LOG.warn("MAC table holds {} static entries, more than its capacity {}: learning is refused until "
                    + "some are removed", fdb.staticSize, next.capacity);
        }
    }

    /**
     * Evicts one dynamic entry of the port holding the most; false if there is no dynamic entry. When
     * {@code learning} (the port a new station is being learned on) is tied for the most, it pays for its own
     * new station rather than taking from another port.
     */
    private boolean evictOne(Settings s, long now, List<MacEvent> events, PortId learning) {
        PortIndex.PortRecord largest = fdb.ports.largest();
        if (largest == null) {
            return false;
        }
        if (learning != null && largest.count == fdb.ports.count(learning)) {
            largest = fdb.ports.get(learning);
        }
        evictFrom(largest, s, now, events);
        return true;
    }

    /**
     * Evicts the least recently seen of the {@value #EVICTION_SAMPLE} oldest entries of a port (ties: the oldest).
     * An entry that has already expired is counted and reported as aged.
     */
    private void evictFrom(PortIndex.PortRecord r, Settings s, long now, List<MacEvent> events) {
        Entry victim = r.oldest;
        long victimSeen = victim.table.lastSeen(victim);
        Entry c = victim.newerInPort;
        for (int i = 1; i < EVICTION_SAMPLE && c != null; i++, c = c.newerInPort) {
            long seen = c.table.lastSeen(c);
            if (seen - victimSeen < 0) {
                victim = c;
                victimSeen = seen;
            }
        }
        if (s.expired(victimSeen, now)) {
            fdb.removeAged(victim, events);
        } else {
            fdb.unlink(victim);
            fdb.evicted.increment();
            MacEvents.add(events, MacEvent.Type.EVICTED, victim, victim.port, null);
        }
    }
}
