package org.vl2.switching.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;

/**
 * Which transport serves each transport name. Of the transports registered under one name, the one with the
 * highest service ranking serves that name's slot and its ports (on a tie, the one registered first, as OSGi
 * orders services). A better one registering takes the ports over; when the serving one goes, the next best takes
 * over, else the ports wait, detached.
 */
final class Transports {

    private static final Logger LOG = LoggerFactory.getLogger(Transports.class);
    static final String MODE_VL2 = "vl2";

    private record Candidate(Transport transport, int ranking, long serviceId) {
    }

    private final PortRegistry registry;
    private final FrameReceiver receiver;
    private final Map<String, List<Candidate>> candidates = new ConcurrentHashMap<>();
    private final Object lock = new Object();

    Transports(PortRegistry registry, FrameReceiver receiver) {
        this.registry = registry;
        this.receiver = receiver;
    }

    void add(Transport transport, int ranking, long serviceId) {
        synchronized (lock) {
            candidates.computeIfAbsent(transport.name(), n -> new ArrayList<>())
                    .add(new Candidate(transport, ranking, serviceId));
        }
        elect(transport.name());
    }

    void remove(Transport transport) {
        synchronized (lock) {
            List<Candidate> list = candidates.get(transport.name());
            if (list != null) {
                list.removeIf(c -> c.transport == transport);
            }
        }
        elect(transport.name());
    }

    /** Stops every transport (the switch stops); the slots keep their ports until the registry drops them. */
    void stopAll() {
        for (TransportSlot slot : registry.slots()) {
            Transport t = slot.transport;
            slot.transport = null;
            if (t != null) {
                t.stop();
            }
        }
    }

    private void elect(String name) {
        Transport previous;
        Candidate best;
        TransportSlot slot;
        synchronized (lock) {
            List<Candidate> list = candidates.getOrDefault(name, List.of());
            best = list.stream().max(Comparator.comparingInt(Candidate::ranking)
                    .thenComparing(Comparator.comparingLong(Candidate::serviceId).reversed())).orElse(null);
            slot = registry.slotFor(name);
            previous = slot.transport;
            if (best != null && best.transport == previous) {
                return;
            }
            if (best != null) {
                slot.mode = best.transport.mode();
                slot.vl2 = MODE_VL2.equals(slot.mode);
                slot.ranking = best.ranking;
            }
            // from now on frames of the previous one (if any) are ignored
            slot.transport = best == null ? null : best.transport;
        }
        if (previous != null) {
            previous.stop();
        }
        if (best == null) {
            if (previous != null) {
                LOG.info("Transport {} detached; its {} ports are kept for a transport of that name (or until they"
                        + " expire)", name, registry.portCount(slot));
            }
            return;
        }
        best.transport.start(receiver);
        int taken = registry.portCount(slot);
        LOG.info("Transport {} ({} mode, ranking {}) on {} attached{}", name, best.transport.mode(), best.ranking,
                best.transport.localAddress(), taken == 0 ? "" : "; it takes over " + taken + " ports");
    }
}
