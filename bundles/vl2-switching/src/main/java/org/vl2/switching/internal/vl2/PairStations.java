package org.vl2.switching.internal.vl2;

import static org.vl2.switching.internal.PortPair.append;
import static org.vl2.switching.internal.PortPair.remove;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.vl2.switching.internal.PortPair;

/**
 * The live pairs by station, (MAC table VLAN, MAC) of their source and of their destination: a station that moves
 * finds its pairs without a walk over the network's ports (a member flapping MACs must not make every frame cost
 * that). Reads take no lock; an update is atomic per station (a concurrent map of copy-on-write arrays).
 */
final class PairStations {

    private final Map<Long, PortPair[]> byStation = new ConcurrentHashMap<>();

    /** Indexes {@code pp} under its source and its destination. */
    void add(PortPair pp) {
        index(pp.source, pp);
        index(pp.destination, pp);
    }

    void drop(PortPair pp) {
        unindex(pp.source, pp);
        unindex(pp.destination, pp);
    }

    /** The pairs with station {@code mac} on MAC table VLAN {@code fdbVlan} as source or destination, or null. */
    PortPair[] at(int fdbVlan, long mac) {
        return byStation.get(station(fdbVlan, mac));
    }

    private void index(long mac, PortPair pp) {
        byStation.merge(station(Pairs.fdbVlan(pp.vlan), mac), new PortPair[] {pp}, (a, b) -> append(a, pp));
    }

    private void unindex(long mac, PortPair pp) {
        byStation.computeIfPresent(station(Pairs.fdbVlan(pp.vlan), mac), (k, a) -> {
            PortPair[] b = remove(a, pp);
            return b.length == 0 ? null : b;
        });
    }

    private static long station(int fdbVlan, long mac) {
        return (long) fdbVlan << 48 | mac;
    }
}
