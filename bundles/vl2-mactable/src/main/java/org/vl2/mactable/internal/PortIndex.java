package org.vl2.mactable.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.vl2.api.PortId;

/**
 * The dynamic entries of each port, for per-port limits, fair eviction and {@code flushPort}. Guarded by the
 * writer lock; never touched by lookups.
 *
 * <p>Each port keeps its entries in a doubly linked list in insertion order (oldest first). Ports are also
 * kept in buckets by entry count ({@code byCount[c]} lists the ports holding exactly {@code c} entries) with
 * the highest non-empty count remembered, so "the port with the most entries" is O(1) and every add or
 * remove is O(1): counts only change by one, so the maximum only ever moves by one.
 */
final class PortIndex {

    /** One port's dynamic entries. */
    static final class PortRecord {
        final PortId port;
        int count;
        Entry oldest;
        Entry newest;
        PortRecord prevSameCount;
        PortRecord nextSameCount;

        PortRecord(PortId port) {
            this.port = port;
        }
    }

    private final Map<PortId, PortRecord> byPort = new HashMap<>();
    private PortRecord[] byCount = new PortRecord[16];
    private int maxCount;

    /** Dynamic entries on a port. */
    int count(PortId port) {
        PortRecord r = byPort.get(port);
        return r == null ? 0 : r.count;
    }

    PortRecord get(PortId port) {
        return byPort.get(port);
    }

    /** Snapshot of the ports that hold entries. */
    List<PortRecord> records() {
        return new ArrayList<>(byPort.values());
    }

    /** The port holding the most dynamic entries (ties: any of them), or null if there are none. */
    PortRecord largest() {
        return maxCount == 0 ? null : byCount[maxCount];
    }

    /** Appends a dynamic entry as the newest of {@code port}. */
    void add(Entry e, PortId port) {
        PortRecord r = byPort.computeIfAbsent(port, PortRecord::new);
        e.portRecord = r;
        e.olderInPort = r.newest;
        e.newerInPort = null;
        if (r.newest == null) {
            r.oldest = e;
        } else {
            r.newest.newerInPort = e;
        }
        r.newest = e;
        recount(r, r.count + 1);
    }

    /** Removes a dynamic entry from its port. */
    void remove(Entry e) {
        PortRecord r = e.portRecord;
        if (e.olderInPort == null) {
            r.oldest = e.newerInPort;
        } else {
            e.olderInPort.newerInPort = e.newerInPort;
        }
        if (e.newerInPort == null) {
            r.newest = e.olderInPort;
        } else {
            e.newerInPort.olderInPort = e.olderInPort;
        }
        e.portRecord = null;
        e.olderInPort = null;
        e.newerInPort = null;
        recount(r, r.count - 1);
        if (r.count == 0) {
            byPort.remove(r.port);
        }
    }

    private void recount(PortRecord r, int count) {
        if (r.count > 0) {
            if (r.prevSameCount == null) {
                byCount[r.count] = r.nextSameCount;
            } else {
                r.prevSameCount.nextSameCount = r.nextSameCount;
            }
            if (r.nextSameCount != null) {
                r.nextSameCount.prevSameCount = r.prevSameCount;
            }
            r.prevSameCount = null;
            r.nextSameCount = null;
        }
        r.count = count;
        if (count > 0) {
            if (count >= byCount.length) {
                byCount = Arrays.copyOf(byCount, byCount.length * 2);
            }
            PortRecord head = byCount[count];
            r.nextSameCount = head;
            if (head != null) {
                head.prevSameCount = r;
            }
            byCount[count] = r;
        }
        if (count > maxCount) {
            maxCount = count;
        }
        while (maxCount > 0 && byCount[maxCount] == null) {
            maxCount--;
        }
    }

    /** Consistency problems (for tests and diagnostics); empty when the index is sound. */
    List<String> check() {
        List<String> problems = new ArrayList<>();
        int max = 0;
        for (PortRecord r : byPort.values()) {
            int n = 0;
            Entry prev = null;
            for (Entry e = r.oldest; e != null; e = e.newerInPort) {
                if (e.portRecord != r || e.olderInPort != prev || !r.port.equals(e.port) || e.isStatic || e.removed) {
                    problems.add("port " + r.port + ": bad list node " + e);
                }
                prev = e;
                n++;
            }
            if (prev != r.newest || n != r.count || n == 0) {
                problems.add("port " + r.port + ": count " + r.count + " but " + n + " entries listed");
            }
            max = Math.max(max, r.count);
            boolean inBucket = false;
            for (PortRecord b = r.count < byCount.length ? byCount[r.count] : null; b != null; b = b.nextSameCount) {
                inBucket |= b == r;
            }
            if (!inBucket) {
                problems.add("port " + r.port + " missing from bucket " + r.count);
            }
        }
        if (max != maxCount) {
            problems.add("maxCount " + maxCount + " but the largest port holds " + max);
        }
        return problems;
    }
}
