package org.vl2.shell.command;

import java.time.Instant;

import org.vl2.api.PortCounters;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;

/** Test data shared by the command tests. */
final class Fixtures {

    static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");

    private Fixtures() {
    }

    static PortInfo port(int id, long network) {
        return new PortInfo(PortId.of(id), network, "udp", "raw", "192.0.2." + id + ":40001", PortCounters.ZERO,
                NOW.minusSeconds(600), NOW.minusSeconds(1));
    }
}
