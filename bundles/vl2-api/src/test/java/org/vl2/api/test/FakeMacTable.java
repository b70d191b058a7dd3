package org.vl2.api.test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.PortId;

/**
 * A MAC table backed by a list a test may fill directly ({@link #entries}); learning, static entries and the
 * flushes act on that list as the real table does (a static entry is never learned over nor flushed). Enough to
 * test a user of the table, not the table itself.
 */
public class FakeMacTable implements MacTableAdminService {

    public final List<MacEntry> entries = new ArrayList<>();
    /** What {@link #statistics} returns; null = a snapshot of the entries (size only). */
    public volatile MacTableStatistics statistics;
    /** When true, {@link #addStatic} fails as a table full of static entries does. */
    public volatile boolean full;
    /** Calls of {@link #learn}. */
    public int learnCalls;
    /** As the real table's per-port limit: a port holding this many dynamic entries learns no other; 0 = none. */
    public volatile int perPortLimit;

    public static MacEntry dynamic(long network, int vlan, String mac, int port, long ageMillis, long moves) {
        return new MacEntry(network, vlan, MacAddress.valueOf(mac), PortId.of(port), false, ageMillis, moves);
    }

    public static MacEntry fixed(long network, int vlan, String mac, int port) {
        return new MacEntry(network, vlan, MacAddress.valueOf(mac), PortId.of(port), true, 0, 0);
    }

    @Override
    public synchronized PortId lookup(long network, int vlan, long mac) {
        MacEntry e = find(network, vlan, mac);
        return e == null ? null : e.port();
    }

    @Override
    public synchronized Optional<MacEntry> entry(long network, int vlan, MacAddress mac) {
        return Optional.ofNullable(find(network, vlan, mac.toLong()));
    }

    @Override
    public synchronized List<MacEntry> entries() {
        return List.copyOf(entries);
    }

    @Override
    public synchronized int size() {
        return entries.size();
    }

    @Override
    public synchronized MacTableStatistics statistics() {
        MacTableStatistics s = statistics;
        return s != null ? s : new MacTableStatistics(entries.size(), 0, 8192, perPortLimit, 300, 0, 0, 0, 0, 0);
    }

    @Override
    public synchronized LearnResult learn(long network, int vlan, long mac, PortId port) {
        learnCalls++;
        MacEntry e = find(network, vlan, mac);
        if (e != null && e.isStatic()) {
            return LearnResult.STATIC;
        }
        boolean onPort = e != null && e.port().equals(port);
        if (!onPort && perPortLimit > 0
                && entries.stream().filter(x -> !x.isStatic() && x.port().equals(port)).count() >= perPortLimit) {
            return LearnResult.REFUSED;
        }
        if (e != null) {
            entries.remove(e);
        }
        entries.add(new MacEntry(network, vlan, MacAddress.of(mac), port, false, 0, 0));
        return e == null ? LearnResult.LEARNED : e.port().equals(port) ? LearnResult.REFRESHED : LearnResult.MOVED;
    }

    @Override
    public synchronized void addStatic(long network, int vlan, MacAddress mac, PortId port) {
        if (mac.isMulticast()) {
            throw new IllegalArgumentException("static entries need a unicast MAC, got " + mac);
        }
        if (full) {
            throw new IllegalStateException("MAC table is full of static entries (capacity 2)");
        }
        remove(network, vlan, mac);
        entries.add(new MacEntry(network, vlan, mac, port, true, 0, 0));
    }

    @Override
    public synchronized boolean remove(long network, int vlan, MacAddress mac) {
        return entries.removeIf(e -> e.network() == network && e.vlan() == vlan && e.mac().equals(mac));
    }

    @Override
    public synchronized int flush() {
        return removeDynamic(e -> true);
    }

    @Override
    public synchronized int flushPort(PortId port) {
        return removeDynamic(e -> e.port().equals(port));
    }

    @Override
    public synchronized int flushMac(MacAddress mac) {
        return removeDynamic(e -> e.mac().equals(mac));
    }

    private MacEntry find(long network, int vlan, long mac) {
        for (MacEntry e : entries) {
            if (e.network() == network && e.vlan() == vlan && e.mac().toLong() == mac) {
                return e;
            }
        }
        return null;
    }

    private int removeDynamic(Predicate<MacEntry> which) {
        int before = entries.size();
        entries.removeIf(e -> !e.isStatic() && which.test(e));
        return before - entries.size();
    }
}
