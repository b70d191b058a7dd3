package org.vl2.mactable.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A validated MAC table configuration. Immutable. */
final class Settings {

    static final long DEFAULT_AGEING_SECONDS = 300;
    static final int DEFAULT_CAPACITY = 8192;
    /**
     * 256: a Linux bridge with a few dozen hosts, containers or VMs behind one agent's TAP fits with room to spare
     * (a whole /24 of them), while one port can hold at most 1/32 of the default capacity, so no port fills the
     * table and a flood of invented source MACs costs the others nothing.
     */
    static final int DEFAULT_PER_PORT_LIMIT = 256;
    /** Linux bridges accept up to 1,000,000 s; it also keeps the value in nanoseconds far from overflow. */
    static final long MAX_AGEING_SECONDS = 1_000_000;
    static final int MIN_CAPACITY = 16;
    static final int MAX_CAPACITY = 16_777_216;

    final long ageingSeconds;
    /** Ageing time in nanoseconds, 0 = never age. */
    final long ageingNanos;
    final int capacity;
    /** Maximum dynamic entries per port, 0 = no limit. */
    final int perPortLimit;

    /** @throws IllegalArgumentException naming every bad property, the PID and the valid range */
    Settings(long ageingSeconds, int capacity, int perPortLimit) {
        List<String> errors = new ArrayList<>();
        if (ageingSeconds < 0 || ageingSeconds > MAX_AGEING_SECONDS) {
            errors.add("ageing.seconds=" + ageingSeconds + " (must be 0.." + MAX_AGEING_SECONDS + ", 0 = never age)");
        }
        if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY) {
            errors.add("capacity=" + capacity + " (must be " + MIN_CAPACITY + ".." + MAX_CAPACITY + ")");
        }
        if (perPortLimit < 0) {
            errors.add("per.port.limit=" + perPortLimit + " (must be >= 0, 0 = no limit)");
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("Invalid " + MacTableImpl.PID + " configuration: "
                    + String.join(", ", errors));
        }
        this.ageingSeconds = ageingSeconds;
        this.ageingNanos = TimeUnit.SECONDS.toNanos(ageingSeconds);
        this.capacity = capacity;
        this.perPortLimit = perPortLimit;
    }

    static Settings of(MacTableImpl.Config config) {
        return new Settings(config.ageing_seconds(), config.capacity(), config.per_port_limit());
    }

    static Settings defaults() {
        return new Settings(DEFAULT_AGEING_SECONDS, DEFAULT_CAPACITY, DEFAULT_PER_PORT_LIMIT);
    }

    /** True if a dynamic entry last seen at {@code lastSeen} has aged out at {@code now}. */
    boolean expired(long lastSeen, long now) {
        return ageingNanos != 0 && now - lastSeen >= ageingNanos;
    }

    @Override
    public String toString() {
        return "ageing.seconds=" + ageingSeconds + ", capacity=" + capacity + ", per.port.limit=" + perPortLimit;
    }
}
