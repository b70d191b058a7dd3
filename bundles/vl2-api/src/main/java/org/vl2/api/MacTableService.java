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

    /**
     * {@link System#nanoTime()} as the table's own clock has it: the time its ageing and learning use, which a
     * caller on the frame path may read for its own timestamps (a port's last frame, a rate limit's refill) instead of
     * a clock read per frame. At most about a millisecond behind {@code System.nanoTime()} while the table
     * is in use, exact while it is idle. This default reads {@code System.nanoTime()}.
     */
    default long nowNanos() {
        return System.nanoTime();
    }
}
