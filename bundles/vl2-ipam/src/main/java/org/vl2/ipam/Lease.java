package org.vl2.ipam;

import java.net.Inet4Address;
import java.time.Instant;
import java.util.Objects;

/**
 * An address leased to a key ({@code member:<id>} for a vl2 member, {@code mac:<mac>} for a DHCP client).
 *
 * @param expires when the lease ends; null while it is held until released
 */
public record Lease(String key, Inet4Address address, Instant expires) {

    public Lease {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(address, "address");
    }

    /** Whether the lease has ended at {@code now}. */
    public boolean isExpiredAt(Instant now) {
        return expires != null && !now.isBefore(expires);
    }
}
