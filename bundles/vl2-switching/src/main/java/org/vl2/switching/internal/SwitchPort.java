package org.vl2.switching.internal;

import java.net.SocketAddress;
import java.time.Instant;
import java.util.concurrent.atomic.LongAdder;

import org.vl2.api.Endpoints;
import org.vl2.api.PortCounters;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;

/** A port of the switch: a remote endpoint reached through a transport, member of one flood domain. */
final class SwitchPort {

    final PortId id;
    final FloodDomain domain;
    final TransportSlot slot;
    final SocketAddress remote;
    final Instant created;

    final LongAdder rxFrames = new LongAdder();
    final LongAdder rxBytes = new LongAdder();
    final LongAdder rxDrops = new LongAdder();
    final LongAdder txFrames = new LongAdder();
    final LongAdder txBytes = new LongAdder();
    final LongAdder txDrops = new LongAdder();

    /** Monotonic time of the last frame received from the port; a plain volatile write per frame. */
    volatile long lastSeenNanos;
    /** Set once the port is removed, so that a racing receive does not resurrect it silently. */
    volatile boolean removed;

    SwitchPort(PortId id, FloodDomain domain, TransportSlot slot, SocketAddress remote, long nowNanos,
               Instant created) {
        this.id = id;
        this.domain = domain;
        this.slot = slot;
        this.remote = remote;
        this.lastSeenNanos = nowNanos;
        this.created = created;
    }

    PortInfo info(long nowNanos, Instant now) {
        PortCounters c = new PortCounters(rxFrames.sum(), rxBytes.sum(), txFrames.sum(), txBytes.sum(),
                rxDrops.sum(), txDrops.sum());
        Instant lastSeen = now.minusNanos(Math.max(0, nowNanos - lastSeenNanos));
        return new PortInfo(id, domain.network, slot.name, slot.transport != null ? slot.mode : "detached",
                Endpoints.format(remote), c, created, lastSeen);
    }

    @Override
    public String toString() {
        return "port " + id + " (" + slot.name + " " + Endpoints.format(remote) + ")";
    }
}
