package org.vl2.api;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Read side of the MAC table (forwarding database), keyed by (network, VLAN, MAC). Lookups are lock-free
 * and allocate nothing.
 */
@ProviderType
public interface MacTableService {

    /**
     * The port a station is behind, or {@code null} if unknown. Hot path: no locks, no allocation.
     *
     * @param mac the MAC in primitive form ({@link MacAddress#toLong()})
     */
    PortId lookup(long network, int vlan, long mac);

    /** The entry for a station, if any. */
    Optional<MacEntry> entry(long network, int vlan, MacAddress mac);

    /** A snapshot of all entries, in no particular order. */
    List<MacEntry> entries();

    /** Number of entries (dynamic and static). */
    int size();

    MacTableStatistics statistics();
}
