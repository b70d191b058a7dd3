package org.vl2.switching.internal;

import java.lang.annotation.Annotation;
import java.nio.file.Path;
import java.util.function.LongSupplier;

import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.crypto.Identity;
import org.vl2.switching.internal.vl2.HandshakeWorker;

/** Configurations of the switch core for tests (the transport and MAC table doubles are vl2-api's test-jar). */
final class Fakes {

    private Fakes() {
    }

    static SwitchConfig config(String policy, int maxFrame, long idleSeconds, int maxPorts) {
        return config(policy, maxFrame, idleSeconds, maxPorts, 1000);
    }

    static SwitchConfig config(String policy, int maxFrame, long idleSeconds, int maxPorts, int stormPps) {
        return config(policy, maxFrame, idleSeconds, maxPorts, stormPps, true);
    }

    static SwitchConfig config(String policy, int maxFrame, long idleSeconds, int maxPorts, int stormPps,
                               boolean allowPlaintext) {
        return config(policy, maxFrame, idleSeconds, maxPorts, stormPps, allowPlaintext, 8, 512, 25, 30);
    }

    /** With the quotas of unauthenticated ports (defaults: 8 per address, 512 per transport, 25 % reserved, 30 s). */
    static SwitchConfig quotas(int maxPorts, int perAddress, int perTransport, int reservedPercent,
                               long probationSeconds) {
        return config("learning", 1522, 300, maxPorts, 1000, true, perAddress, perTransport, reservedPercent,
                probationSeconds);
    }

    static SwitchConfig config(String policy, int maxFrame, long idleSeconds, int maxPorts, int stormPps,
                               boolean allowPlaintext, int perAddress, int perTransport, int reservedPercent,
                               long probationSeconds) {
        return config(policy, maxFrame, idleSeconds, maxPorts, stormPps, allowPlaintext, perAddress, perTransport,
                reservedPercent, probationSeconds, "auto");
    }

    /** The defaults with another cipher setting ({@code auto}, {@code aes-256-gcm}, {@code chacha20-poly1305}). */
    static SwitchConfig cipher(String cipher) {
        return config("learning", 1522, 300, 1024, 1000, true, 8, 512, 25, 30, cipher);
    }

    static SwitchConfig config(String policy, int maxFrame, long idleSeconds, int maxPorts, int stormPps,
                               boolean allowPlaintext, int perAddress, int perTransport, int reservedPercent,
                               long probationSeconds, String cipher) {
        return config(policy, maxFrame, idleSeconds, maxPorts, stormPps, allowPlaintext, perAddress, perTransport,
                reservedPercent, probationSeconds, cipher, true);
    }

    /** The defaults with pair keys on or off. */
    static SwitchConfig pairs(boolean pairs) {
        return config("learning", 1522, 300, 1024, 1000, false, 8, 512, 25, 30, "auto", pairs);
    }

    /** Pair keys on, direct paths on or off. */
    static SwitchConfig direct(boolean direct) {
        return config("learning", 1522, 300, 1024, 1000, false, 8, 512, 25, 30, "auto", true, direct);
    }

    static SwitchConfig config(String policy, int maxFrame, long idleSeconds, int maxPorts, int stormPps,
                               boolean allowPlaintext, int perAddress, int perTransport, int reservedPercent,
                               long probationSeconds, String cipher, boolean pairs) {
        return config(policy, maxFrame, idleSeconds, maxPorts, stormPps, allowPlaintext, perAddress, perTransport,
                reservedPercent, probationSeconds, cipher, pairs, true);
    }

    static SwitchConfig config(String policy, int maxFrame, long idleSeconds, int maxPorts, int stormPps,
                               boolean allowPlaintext, int perAddress, int perTransport, int reservedPercent,
                               long probationSeconds, String cipher, boolean pairs, boolean direct) {
        return new SwitchConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return SwitchConfig.class;
            }

            @Override
            public String policy() {
                return policy;
            }

            @Override
            public int max_frame_size() {
                return maxFrame;
            }

            @Override
            public long port_idle_timeout_seconds() {
                return idleSeconds;
            }

            @Override
            public int max_ports() {
                return maxPorts;
            }

            @Override
            public int ports_per_address() {
                return perAddress;
            }

            @Override
            public int ports_per_transport() {
                return perTransport;
            }

            @Override
            public int ports_reserved_percent() {
                return reservedPercent;
            }

            @Override
            public long port_probation_seconds() {
                return probationSeconds;
            }

            @Override
            public int keepalive_seconds() {
                return 10;
            }

            @Override
            public int storm_control_pps() {
                return stormPps;
            }

            @Override
            public String cipher() {
                return cipher;
            }

            @Override
            public int handshake_nice() {
                return 10;
            }

            @Override
            public boolean pairs() {
                return pairs;
            }

            @Override
            public boolean direct() {
                return direct;
            }

            @Override
            public boolean allow_plaintext() {
                return allowPlaintext; // most tests here drive the plaintext protocol; EncryptedProtocolTest does not
            }
        };
    }

    /**
     * The encrypted protocol's tests' switch: learning, 1522-byte frames, 300 s idle, {@code maxPorts} ports, plaintext
     * not allowed, on the test's clock, its leases in {@code stateDir} and the key pair {@code identity}, attached to
     * {@code vl2}; handshakes on {@code handshakes} (a MANUAL worker), or null: on the receiving thread. No network yet.
     */
    static SwitchCore vl2Switch(FakeTransport vl2, int maxPorts, LongSupplier clock, Path stateDir, Identity identity,
                                HandshakeWorker handshakes) {
        SwitchCore sw = new SwitchCore(new FakeMacTable(), config("learning", 1522, 300, maxPorts, 1000, false), clock,
                false, stateDir, identity, handshakes);
        sw.bindPolicy(new LearningPolicy());
        sw.attach(vl2);
        return sw;
    }

    static SwitchConfig defaults() {
        return config("learning", 1522, 300, 1024);
    }
}
