package org.vl2.switching.internal;

import java.util.regex.Pattern;

import org.vl2.crypto.CipherPolicy;

/** A validated snapshot of {@link SwitchConfig}; the switch swaps it atomically, never half-applied. */
public record Settings(String policy, int maxFrameSize, long portIdleTimeoutNanos, int maxPorts, int keepaliveSeconds,
                int stormControlPps, boolean allowPlaintext, Quotas quotas, CipherPolicy cipher, int handshakeNice, boolean pairs,
                boolean direct) {

    /**
     * Bounds on unauthenticated ports (see {@link PortRegistry}): per source address (IPv6: /64) and per transport,
     * the share of max.ports kept for encrypted members, and how long a port that never proved it receives may stay
     * silent. 0 = no limit / no probation.
     */
    public record Quotas(int perAddress, int perTransport, int reservedPercent, long probationNanos) {

        /** No bounds: what the switch did before quotas (tests and benchmarks that need many ports per address). */
        public static final Quotas NONE = new Quotas(0, 0, 0, 0);

        /** Unauthenticated ports that fit beside the reserve. */
        int unauthenticatedRoom(int maxPorts) {
            return maxPorts - (int) ((long) maxPorts * reservedPercent / 100);
        }
    }

    static final int MIN_FRAME = 64;
    static final int MAX_FRAME = 9216;
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    /**
     * @throws IllegalArgumentException naming the property, its value and what is allowed
     */
    static Settings from(SwitchConfig c) {
        String policy = c.policy() == null ? "" : c.policy().trim();
        if (!NAME.matcher(policy).matches()) {
            throw invalid("policy", "'" + c.policy() + "'", "a policy name such as 'learning' or 'hub'");
        }
        if (c.max_frame_size() < MIN_FRAME || c.max_frame_size() > MAX_FRAME) {
            throw invalid("max.frame.size", c.max_frame_size(), MIN_FRAME + ".." + MAX_FRAME + " bytes");
        }
        if (c.port_idle_timeout_seconds() < 0 || c.port_idle_timeout_seconds() > 31_536_000L) {
            throw invalid("port.idle.timeout.seconds", c.port_idle_timeout_seconds(),
                    "0 (never) .. 31536000 seconds");
        }
        if (c.max_ports() < 1 || c.max_ports() > 65535) {
            throw invalid("max.ports", c.max_ports(), "1..65535");
        }
        if (c.keepalive_seconds() < 1 || c.keepalive_seconds() > 3600) {
            throw invalid("keepalive.seconds", c.keepalive_seconds(), "1..3600 seconds");
        }
        if (c.storm_control_pps() < 0 || c.storm_control_pps() > 10_000_000) {
            throw invalid("storm.control.pps", c.storm_control_pps(), "0 (no limit) .. 10000000 frames/s");
        }
        if (c.ports_per_address() < 0 || c.ports_per_address() > 65535) {
            throw invalid("ports.per.address", c.ports_per_address(), "0 (no limit) .. 65535");
        }
        if (c.ports_per_transport() < 0 || c.ports_per_transport() > 65535) {
            throw invalid("ports.per.transport", c.ports_per_transport(), "0 (no limit) .. 65535");
        }
        if (c.ports_reserved_percent() < 0 || c.ports_reserved_percent() > 100) {
            throw invalid("ports.reserved.percent", c.ports_reserved_percent(), "0..100");
        }
        if (c.port_probation_seconds() < 0 || c.port_probation_seconds() > 31_536_000L) {
            throw invalid("port.probation.seconds", c.port_probation_seconds(), "0 (no probation) .. 31536000 seconds");
        }
        if (c.handshake_nice() < 0 || c.handshake_nice() > 19) {
            throw invalid("handshake.nice", c.handshake_nice(), "0 (the process's priority) .. 19 (the lowest)");
        }
        CipherPolicy cipher;
        try {
            cipher = CipherPolicy.parse(c.cipher());
        } catch (IllegalArgumentException e) {
            throw invalid("cipher", "'" + c.cipher() + "'", CipherPolicy.VALUES);
        }
        Quotas quotas = new Quotas(c.ports_per_address(), c.ports_per_transport(), c.ports_reserved_percent(),
                c.port_probation_seconds() * 1_000_000_000L);
        return new Settings(policy, c.max_frame_size(), c.port_idle_timeout_seconds() * 1_000_000_000L,
                c.max_ports(), c.keepalive_seconds(), c.storm_control_pps(), c.allow_plaintext(), quotas, cipher,
                c.handshake_nice(), c.pairs(), c.direct());
    }

    /** Cost of one flooded frame in the storm-control bucket, in nanoseconds of credit; 0 = no limit. */
    long stormCostNanos() {
        return stormControlPps == 0 ? 0 : 1_000_000_000L / stormControlPps;
    }

    /** A vl2-protocol port silent for this long is expired: three keepalive intervals. */
    public long sessionTimeoutNanos() {
        return 3L * keepaliveSeconds * 1_000_000_000L;
    }

    private static IllegalArgumentException invalid(String property, Object value, String allowed) {
        return new IllegalArgumentException("Invalid configuration " + SwitchCore.PID + ": " + property + "=" + value
                + " (must be " + allowed + ")");
    }

    @Override
    public String toString() {
        return "policy=" + policy + ", max.frame.size=" + maxFrameSize + ", port.idle.timeout.seconds="
                + portIdleTimeoutNanos / 1_000_000_000L + ", max.ports=" + maxPorts + ", keepalive.seconds=" + keepaliveSeconds + ", storm.control.pps="
                + stormControlPps + ", allow.plaintext=" + allowPlaintext + ", ports.per.address=" + quotas.perAddress
                + ", ports.per.transport=" + quotas.perTransport + ", ports.reserved.percent=" + quotas.reservedPercent
                + ", port.probation.seconds=" + quotas.probationNanos / 1_000_000_000L + ", cipher=" + cipher.describe()
                + ", handshake.nice=" + handshakeNice + ", pairs=" + pairs + ", direct=" + direct;
    }
}
