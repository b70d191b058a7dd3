package org.vl2.switching.internal;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Networks;
import org.vl2.api.spi.ForwardingPolicy;

/**
 * The forwarding policies registered now, and the switch-wide one the configuration names. Networks with a policy
 * of their own resolve it here ({@link #resolve}); {@link NetworkDirectory} re-resolves them whenever policies
 * come, go or the switch's choice changes.
 */
final class PolicyRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyRegistry.class);

    private final Map<String, ForwardingPolicy> policies = new ConcurrentHashMap<>();
    private volatile String wanted;
    /** The switch-wide policy in use: the one the settings name, or null while it is not registered. */
    private volatile ForwardingPolicy selected;
    private final AtomicBoolean noPolicyWarned = new AtomicBoolean();

    PolicyRegistry(String wanted) {
        this.wanted = wanted;
    }

    void bind(ForwardingPolicy p) {
        policies.put(p.name(), p);
        select(wanted);
    }

    void unbind(ForwardingPolicy p) {
        policies.remove(p.name(), p);
        select(wanted);
    }

    /** Makes {@code name} the switch-wide policy (it may not be registered yet: frames wait for it). */
    void select(String name) {
        wanted = name;
        ForwardingPolicy next = policies.get(name);
        ForwardingPolicy previous = selected;
        selected = next;
        if (next != null && next != previous) {
            noPolicyWarned.set(false);
            LOG.info("Forwarding policy: {}", name);
        } else if (next == null && previous != null) {
            LOG.warn("Forwarding policy '{}' went away; frames are dropped until it is back (available: {})",
                    name, names());
        }
    }

    /** A network's policy: its own ({@code own} non-null) or the switch's; null while not registered. */
    ForwardingPolicy resolve(String own) {
        return own == null ? selected : policies.get(own);
    }

    boolean has(String name) {
        return policies.containsKey(name);
    }

    boolean active() {
        return selected != null;
    }

    Set<String> names() {
        return new TreeSet<>(policies.keySet());
    }

    /** A frame of {@code net} found no policy: said once until a policy is selected again. */
    void missing(Network net) {
        if (noPolicyWarned.compareAndSet(false, true)) {
            String own = net.settings().policy();
            LOG.warn("Forwarding policy '{}' (of network {}) is not registered; its frames are dropped until it is "
                    + "(available: {})", own != null ? own : wanted, Networks.format(net.id), names());
        }
    }
}
