package org.vl2.shell.command;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.PortId;

/** A MAC table backed by a list the test fills; the admin operations act on that list. */
class FakeMacTable implements MacTableAdminService {

    final List<MacEntry> entries = new ArrayList<>();
    MacTableStatistics statistics = new MacTableStatistics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    /** When true, {@link #addStatic} fails as a table full of static entries does. */
    boolean full;

    @Override
    public PortId lookup(long network, int vlan, long mac) {
        return entry(network, vlan, MacAddress.of(mac)).map(MacEntry::port).orElse(null);
    }

    @Override
    public Optional<MacEntry> entry(long network, int vlan, MacAddress mac) {
        return entries.stream().filter(e -> e.network() == network && e.vlan() == vlan && e.mac().equals(mac))
                .findFirst();
    }

    @Override
    public List<MacEntry> entries() {
        return List.copyOf(entries);
    }

    @Override
    public int size() {
        return entries.size();
    }

    @Override
    public MacTableStatistics statistics() {
        return statistics;
    }

    @Override
    public LearnResult learn(long network, int vlan, long mac, PortId port) {
        throw new UnsupportedOperationException("the shell never learns");
    }

    @Override
    public void addStatic(long network, int vlan, MacAddress mac, PortId port) {
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
    public boolean remove(long network, int vlan, MacAddress mac) {
        return entries.removeIf(e -> e.network() == network && e.vlan() == vlan && e.mac().equals(mac));
    }

    @Override
    public int flush() {
        return removeDynamic(e -> true);
    }

    @Override
    public int flushPort(PortId port) {
        return removeDynamic(e -> e.port().equals(port));
    }

    @Override
    public int flushMac(MacAddress mac) {
        return removeDynamic(e -> e.mac().equals(mac));
    }

    private int removeDynamic(Predicate<MacEntry> which) {
        int before = entries.size();
        entries.removeIf(e -> !e.isStatic() && which.test(e));
        return before - entries.size();
    }

    static MacEntry dynamic(long network, int vlan, String mac, int port, long ageMillis, long moves) {
        return new MacEntry(network, vlan, MacAddress.valueOf(mac), PortId.of(port), false, ageMillis, moves);
    }

    static MacEntry fixed(long network, int vlan, String mac, int port) {
        return new MacEntry(network, vlan, MacAddress.valueOf(mac), PortId.of(port), true, 0, 0);
    }
}
