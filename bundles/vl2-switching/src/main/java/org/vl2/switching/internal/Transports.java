package org.vl2.switching.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Networks;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;

/**
 * Which transport serves each transport name. Of the transports registered under one name, the one with the
 * highest service ranking serves that name's slot and its ports (on a tie, the one registered first, as OSGi
 * orders services). A better one registering takes the ports over; when the serving one goes, the next best takes
 * over, else the ports wait, detached.
 *
 * <p>A raw-mode transport's datagrams name no network: its {@value Transport#NETWORK} service property does (else
 * {@link Networks#RAW}). That network must be open to plaintext; when it is not (or not hosted), the switch says so
 * once per change and its frames are counted drops.
 */
final class Transports {

    private static final Logger LOG = LoggerFactory.getLogger(Transports.class);
    static final String MODE_VL2 = "vl2";
    static final String MODE_RAW = "raw";

    private record Candidate(Transport transport, int ranking, long serviceId, long network) {
    }

    private final PortRegistry registry;
    private final FrameReceiver receiver;
    private final LongFunction<Network> networks;
    private final Map<String, List<Candidate>> candidates = new ConcurrentHashMap<>();
    private final Object lock = new Object();

    Transports(PortRegistry registry, FrameReceiver receiver, LongFunction<Network> networks) {
        this.registry = registry;
        this.receiver = receiver;
        this.networks = networks;
    }

    /** @param network the network its raw frames land in (its {@value Transport#NETWORK} property) */
    void add(Transport transport, int ranking, long serviceId, long network) {
        synchronized (lock) {
            candidates.computeIfAbsent(transport.name(), n -> new ArrayList<>())
                    .add(new Candidate(transport, ranking, serviceId, network));
        }
        elect(transport.name());
    }

    /** A transport's service properties changed: a raw transport may feed another network now. */
    void update(Transport transport, int ranking, long serviceId, long network) {
        synchronized (lock) {
            List<Candidate> list = candidates.get(transport.name());
            if (list == null || !list.removeIf(c -> c.transport == transport)) {
                return;
            }
            list.add(new Candidate(transport, ranking, serviceId, network));
        }
        elect(transport.name());
    }

    /** The network of a candidate already known ({@code fallback} if none): an invalid property keeps it. */
    long networkOf(Transport transport, long fallback) {
        synchronized (lock) {
            for (Candidate c : candidates.getOrDefault(transport.name(), List.of())) {
                if (c.transport == transport) {
                    return c.network;
                }
            }
        }
        return fallback;
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
                feed(slot, best.network, false);
                return;
            }
            if (best != null) {
                slot.mode = best.transport.mode();
                slot.vl2 = MODE_VL2.equals(slot.mode);
                slot.ranking = best.ranking;
                feed(slot, best.network, true);
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
        LOG.info("Transport {} ({} mode, ranking {}) on {} attached{}{}", name, best.transport.mode(), best.ranking,
                best.transport.localAddress(), raw(slot) ? "; plaintext, unauthenticated: its ports land in network "
                + Networks.format(slot.network) : "", taken == 0 ? "" : "; it takes over " + taken + " ports");
        checkRawNetworks();
    }

    private static boolean raw(TransportSlot slot) {
        return MODE_RAW.equals(slot.mode);
    }

    /** Points a raw slot at {@code network}; ports it has in another one go (they would stay in the old one). */
    private void feed(TransportSlot slot, long network, boolean attaching) {
        long before = slot.network;
        slot.network = network;
        if (before != network && raw(slot)) {
            registry.moveRaw(slot, network, "transport " + slot.name + " feeds network " + Networks.format(network)
                    + " now");
            if (!attaching) {
                LOG.info("Transport {}: its raw ports land in network {} now (was {})", slot.name,
                        Networks.format(network), Networks.format(before));
                checkRawNetworks();
            }
        }
    }

    /**
     * Says (once per change) when a raw transport feeds a network that does not take its frames: not hosted, or not
     * open to plaintext. Called when a transport attaches and when a network changes.
     */
    void checkRawNetworks() {
        for (TransportSlot slot : registry.slots()) {
            slot.sealedDropSaid = false; // the next drop for a sealed network is worth a line again
            if (slot.transport == null || !raw(slot)) {
                continue;
            }
            Network n = networks.apply(slot.network);
            String id = Networks.format(slot.network);
            String problem = n == null ? "network " + id + " is not hosted by this switch (define it with an "
                    + NetworkDefinition.FACTORY_PID + " configuration, id=" + id + ", plaintext=true)"
                    : n.settings().openToPlaintext() ? null : "network " + id + " is " + n.settings().access()
                    + " (encrypted vl2 members only); to open it to raw ports set plaintext=true in its "
                    + NetworkDefinition.FACTORY_PID + " configuration (bin/vl2-switch --network id=" + id
                    + ",plaintext=true), or point 'network' in the raw transport's configuration elsewhere";
            String before = slot.networkProblem;
            slot.networkProblem = problem;
            if (problem != null && !problem.equals(before)) {
                LOG.warn("Transport {} ({} mode) on {}: its frames are dropped: {}", slot.name, slot.mode,
                        slot.transport.localAddress(), problem);
            } else if (problem == null && before != null) {
                LOG.info("Transport {}: network {} takes its raw ports now", slot.name, id);
            }
        }
    }
}
