package org.vl2.switching.internal;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Networks;
import org.vl2.api.spi.ForwardingPolicy;
import org.vl2.ipam.LeaseTable;

/**
 * The networks the switch hosts: the built-in ones (the default network, sealed, and the raw network, open to
 * plaintext) and one per {@link NetworkDefinition}. A configuration becomes a
 * {@link Network.State} (settings, policy, leases, DHCP) that is complete before anyone sees it: a new network is
 * put into the directory only with its first state, a changed one swaps its state in one write. Changes run on
 * the port registry's lock, so admission never sees a network half changed, and members a private network no
 * longer authorizes (and ports without an identity in a network no longer open to plaintext) are cut off before the
 * new settings show.
 */
final class NetworkDirectory {

    private static final Logger LOG = LoggerFactory.getLogger(NetworkDirectory.class);

    private final PortRegistry registry;
    private final Addressing addressing;
    private final PolicyRegistry policies;
    /** Members deauthorized in the shell: they win over a configuration that lists them. */
    private final Revocations revocations;
    private final Map<Long, Network> networks = new ConcurrentHashMap<>();
    private final Map<NetworkDefinition, Long> definitions = new ConcurrentHashMap<>();
    /** Per network with a configuration: the configured settings it was last given (see {@link #configured}). */
    private final Map<Long, NetworkSettings> appliedSettings = new ConcurrentHashMap<>();
    /** Called after a network's settings changed (or it came or went), outside the registry's lock. */
    private volatile Runnable changed = () -> { };

    NetworkDirectory(PortRegistry registry, Addressing addressing, PolicyRegistry policies, Revocations revocations) {
        this.registry = registry;
        this.revocations = revocations;
        this.addressing = addressing;
        this.policies = policies;
        for (long id : new long[] {Networks.DEFAULT, Networks.RAW}) {
            networks.put(id, new Network(state(id, null, NetworkSettings.builtIn(id))));
        }
    }

    void onChange(Runnable listener) {
        this.changed = listener;
    }

    public Network get(long id) {
        return networks.get(id);
    }

    Collection<Network> all() {
        return networks.values();
    }

    /** The PID of the configuration that defines network {@code id}; null if none (or only built-in). */
    String configurationOf(long id) {
        for (Map.Entry<NetworkDefinition, Long> e : definitions.entrySet()) {
            if (e.getValue() == id) {
                return e.getKey().servicePid();
            }
        }
        return null;
    }

    /**
     * The configured settings (before revocations) network {@code id} runs with now, or null without a configuration:
     * set once the network shows them, so a caller that waits for them sees the change in {@code networks()}.
     */
    NetworkSettings configured(long id) {
        return appliedSettings.get(id);
    }

    void bind(NetworkDefinition definition) {
        NetworkSettings s = revocations.apply(definition.settings(), definition.pid());
        boolean added = registry.exclusive(() -> {
            Long owner = s.id();
            for (Map.Entry<NetworkDefinition, Long> e : definitions.entrySet()) {
                if (e.getValue().equals(owner)) {
                    SwitchCore.FATAL.error("Invalid configuration {}: id={} is already defined by {}; this definition "
                            + "is ignored", definition.pid(), Networks.format(s.id()), e.getKey().pid());
                    return false;
                }
            }
            definitions.put(definition, owner);
            Network n = networks.get(owner);
            if (n == null) {
                networks.put(owner, new Network(state(owner, null, s))); // visible only once complete
            } else {
                apply(n, s);
            }
            appliedSettings.put(owner, definition.settings());
            return true;
        });
        if (added) {
            LOG.info("Network {} is up", s.describe());
            changed.run();
        }
    }

    void updated(NetworkDefinition definition) {
        boolean applied = registry.exclusive(() -> {
            Long id = definitions.get(definition);
            Network n = id == null ? null : networks.get(id);
            if (n == null) {
                return false;
            }
            apply(n, revocations.apply(definition.settings(), definition.pid()));
            appliedSettings.put(id, definition.settings());
            return true;
        });
        if (applied) {
            LOG.info("Network {} reconfigured", definition.settings().describe());
            changed.run();
        }
    }

    /** Whether a private network lists this member's key (or the member id derived from it). */
    boolean lists(byte[] key) {
        long member = org.vl2.crypto.Identity.memberId(key);
        for (Network n : networks.values()) {
            NetworkSettings s = n.settings();
            if (s.privateNetwork() && s.authorizes(key, member)) {
                return true;
            }
        }
        return false;
    }

    /** The revocations of network {@code id} changed: its configuration applies again. */
    void refresh(long id) {
        for (Map.Entry<NetworkDefinition, Long> e : definitions.entrySet()) {
            if (e.getValue() == id) {
                updated(e.getKey());
            }
        }
    }

    void unbind(NetworkDefinition definition) {
        Network n = registry.exclusive(() -> {
            Long id = definitions.remove(definition);
            if (id != null) {
                appliedSettings.remove(id);
            }
            Network gone = id == null ? null : networks.get(id);
            if (gone == null) {
                return null;
            }
            if (NetworkSettings.hasBuiltIn(gone.id)) {
                apply(gone, NetworkSettings.builtIn(gone.id));
                LOG.info("Network {} back to its built-in settings", gone.settings().describe());
                return null;
            }
            networks.remove(id, gone);
            return gone;
        });
        if (n == null) {
            changed.run(); // a built-in network back to its settings (or nothing to do)
            return;
        }
        int removed = 0;
        for (SwitchPort p : n.ports()) {
            registry.remove(p, "its network was removed", false);
            removed++;
        }
        LOG.info("Network {} removed ({} ports removed)", n.settings().describe(), removed);
        changed.run();
    }

    /** Policies came, went, or the switch's choice changed: every network resolves its policy again. */
    void policiesChanged() {
        registry.exclusive(() -> {
            for (Network n : networks.values()) {
                Network.State s = n.state();
                n.publish(s.withPolicy(policies.resolve(s.settings().policy())));
            }
            return null;
        });
    }

    /** New settings for an existing network: the unauthorized cut off, then the new state in one write. */
    private void apply(Network n, NetworkSettings s) {
        registry.cutOffUnauthorized(n, s);
        n.publish(state(n.id, n.state(), s));
    }

    /** The complete state of settings {@code s}: policy resolved, leases (kept if the pool is unchanged), DHCP. */
    private Network.State state(long id, Network.State previous, NetworkSettings s) {
        ForwardingPolicy policy = policies.resolve(s.policy());
        if (s.policy() != null && policy == null) {
            LOG.warn("Network {}: forwarding policy '{}' is not registered; its frames are dropped until it is "
                    + "(available: {})", Networks.format(id), s.policy(), policies.names());
        }
        LeaseTable leases = addressing.leasesFor(id, previous, s);
        return new Network.State(s, policy, leases, Addressing.dhcpFor(leases, Network.serverMac(id), s));
    }
}
