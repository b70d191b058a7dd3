package org.vl2.switching.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Dictionary;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.InvalidSettingException;
import org.vl2.api.Networks;
import org.vl2.api.PortId;
import org.vl2.api.SwitchAdminService;

/**
 * The operator's changes to the switch, and the only component that writes the switch's configuration: the
 * policy ({@value SwitchCore#PID}) and the members of a network ({@value NetworkDefinition#FACTORY_PID}). The switch
 * applies them when ConfigurationAdmin delivers them, as it applies an edited file; each change here returns once
 * the switch shows it (bounded wait), so a command's effect is visible when the command returns.
 */
@Component(service = SwitchAdminService.class)
public final class SwitchAdmin implements SwitchAdminService {

    private static final Logger LOG = LoggerFactory.getLogger(SwitchAdmin.class);
    /** How long a change may take to come back from ConfigurationAdmin (it takes milliseconds). */
    private static final long APPLY_MILLIS = 10_000;

    private final SwitchCore core;
    private final ConfigurationAdmin configAdmin;
    private final long applyMillis;

    @Activate
    public SwitchAdmin(@Reference SwitchCore core, @Reference ConfigurationAdmin configAdmin) {
        this(core, configAdmin, APPLY_MILLIS);
    }

    SwitchAdmin(SwitchCore core, ConfigurationAdmin configAdmin, long applyMillis) {
        this.core = core;
        this.configAdmin = configAdmin;
        this.applyMillis = applyMillis;
    }

    @Override
    public void setPolicy(String name) {
        String wanted = name == null ? "" : name.trim();
        if (!core.policies().contains(wanted)) {
            throw new IllegalArgumentException("unknown forwarding policy '" + name + "' (available: "
                    + String.join(", ", core.policies()) + ")");
        }
        try {
            Configuration c = configAdmin.getConfiguration(SwitchCore.PID, "?");
            Dictionary<String, Object> props = c.getProperties();
            if (props == null) {
                props = new Hashtable<>();
            }
            if (!wanted.equals(props.get("policy"))) {
                props.put("policy", wanted);
                c.update(props);
            }
        } catch (IOException e) {
            throw new IllegalStateException("policy " + wanted + " could not be saved in " + SwitchCore.PID + ": "
                    + e.getMessage(), e);
        }
        awaitApplied("policy " + wanted + " (" + SwitchCore.PID + ")", () -> wanted.equals(core.policy()));
    }

    /**
     * Authorizes a member: lifts a revocation made in the shell (which wins over the configuration, see
     * {@link Revocations}), then lists it in the network's configuration.
     */
    @Override
    public void authorize(long network, String member) {
        String normalised = normalised(member);
        boolean lifted = core.liftRevocation(network, normalised);
        if (editMembers(network, member, true) || lifted) {
            LOG.info("Member {} authorized on network {}", normalised, Networks.format(network));
        }
        if (lifted) {
            awaitApplied("the members of network " + Networks.format(network), () -> {
                Set<String> now = core.authorizedMembers(network);
                return now != null && now.stream().anyMatch(m -> Revocations.sameMember(normalised, m));
            });
        }
    }

    /**
     * Deauthorizes a member (its key and the member id derived from it, whichever is named): removed from the
     * network's configuration, and revoked in the instance, so that a configuration rewritten at restart
     * ({@code bin/vl2-switch --member}) does not silently authorize it again.
     */
    @Override
    public boolean deauthorize(long network, String member) {
        String normalised = normalised(member);
        boolean was = editMembers(network, member, false);
        if (was) {
            core.revoke(network, normalised);
            LOG.info("Member {} deauthorized on network {}", normalised, Networks.format(network));
        }
        return was;
    }

    private static String normalised(String member) {
        return NetworkSettings.member(NetworkDefinition.FACTORY_PID, member == null ? "" : member.trim());
    }

    @Override
    public boolean removePort(PortId id) {
        return core.removePort(id);
    }

    /**
     * Adds or removes a member in the network's configuration and waits until the switch uses the new list (a
     * member cut off has no port by then); whether the list changed.
     */
    private synchronized boolean editMembers(long network, String member, boolean add) {
        String normalised = NetworkSettings.member(NetworkDefinition.FACTORY_PID, member == null ? "" : member.trim());
        String pid = core.configurationOf(network);
        if (pid == null) {
            throw new IllegalArgumentException("network " + Networks.format(network) + " has no configuration to "
                    + "keep members in: create one (" + NetworkDefinition.FACTORY_PID + ", e.g. etc/"
                    + NetworkDefinition.FACTORY_PID + "-NAME.cfg with id and private = true)");
        }
        Set<String> expected = new HashSet<>();
        try {
            Configuration c = configAdmin.getConfiguration(pid, "?");
            Dictionary<String, Object> props = c.getProperties();
            List<String> list = new ArrayList<>();
            Object current = props == null ? null : props.get("members");
            if (current instanceof String[] a) {
                list.addAll(Arrays.asList(a));
            } else if (current instanceof Collection<?> col) {
                col.forEach(o -> list.add(String.valueOf(o)));
            } else if (current != null) {
                list.addAll(Arrays.asList(String.valueOf(current).split("[,\\s]+")));
            }
            list.removeIf(String::isBlank);
            // deauthorizing takes every entry naming that member: a key and the member id derived from it are one
            // member, whichever the operator names (authorizing adds only what was named)
            boolean present = list.stream().anyMatch(m -> add ? normalised.equals(normalise(m))
                    : Revocations.sameMember(normalised, normalise(m)));
            if (add == present) {
                return false;
            }
            if (add) {
                list.add(normalised);
            } else {
                list.removeIf(m -> Revocations.sameMember(normalised, normalise(m)));
            }
            list.forEach(m -> expected.add(normalise(m)));
            props.put("members", list.toArray(new String[0]));
            c.update(props);
        } catch (IOException e) {
            throw new IllegalStateException("cannot update the members of network " + Networks.format(network) + ": "
                    + e.getMessage(), e);
        }
        awaitApplied("the members of network " + Networks.format(network) + " (" + pid + ")",
                () -> expected.equals(core.authorizedMembers(network)));
        return true;
    }

    @Override
    public Map<String, String> networkSettings(long network) {
        String pid = core.configurationOf(network);
        if (pid == null) {
            return Map.of();
        }
        try {
            return NetworkConfigs.text(configAdmin.getConfiguration(pid, "?").getProperties());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the configuration of network " + Networks.format(network)
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * Validates the whole resulting configuration as the switch will (so an invalid one changes nothing), writes
     * it, and waits until the switch applied it. Synchronized with the members' edits: each is a read, modify,
     * write of the same configuration, and none may lose another's change.
     */
    @Override
    public synchronized boolean putNetwork(long network, Map<String, String> settings, boolean merge) {
        String id = Networks.format(network);
        Map<String, String> given = new LinkedHashMap<>(settings);
        String named = given.remove("id");
        if (named != null && !named.isBlank()) {
            long other;
            try {
                other = Networks.parse(named);
            } catch (IllegalArgumentException e) {
                throw new InvalidSettingException("id", e.getMessage());
            }
            if (other != network) {
                throw new InvalidSettingException("id", "id=" + named + " is not network " + id
                        + " (a network's id cannot change)");
            }
        }
        String pid = core.configurationOf(network);
        try {
            Configuration c = pid != null ? configAdmin.getConfiguration(pid, "?")
                    : configAdmin.getFactoryConfiguration(NetworkDefinition.FACTORY_PID, id, "?");
            Map<String, Object> next = new LinkedHashMap<>();
            if (merge && c.getProperties() != null) {
                next.putAll(NetworkConfigs.typed(NetworkConfigs.text(c.getProperties())));
            }
            next.putAll(NetworkConfigs.typed(given));
            next.put("id", id);
            NetworkSettings expected = NetworkSettings.from(NetworkConfigs.config(next), NetworkDefinition.FACTORY_PID
                    + " of network " + id);
            Dictionary<String, Object> props = c.getProperties();
            if (props != null) { // keep what is not a setting (felix.fileinstall.filename: the file it came from)
                for (String k : NetworkConfigs.properties()) {
                    props.remove(k);
                }
                next.forEach(props::put);
            } else {
                props = NetworkConfigs.dictionary(next);
            }
            c.update(props);
            LOG.info("Network {} {}", expected.describe(), pid == null ? "created" : "changed");
            awaitApplied("network " + id, () -> expected.equals(core.configuredSettings(network)));
            return pid == null;
        } catch (IOException e) {
            throw new IllegalStateException("cannot save the configuration of network " + id + ": " + e.getMessage(),
                    e);
        }
    }

    @Override
    public synchronized boolean removeNetwork(long network) {
        String pid = core.configurationOf(network);
        if (pid == null) {
            return false;
        }
        try {
            configAdmin.getConfiguration(pid, "?").delete();
        } catch (IOException e) {
            throw new IllegalStateException("cannot delete the configuration of network " + Networks.format(network)
                    + ": " + e.getMessage(), e);
        }
        LOG.info("Network {} removed", Networks.format(network));
        awaitApplied("the removal of network " + Networks.format(network), () -> core.configurationOf(network) == null);
        return true;
    }

    private static String normalise(String member) {
        return NetworkSettings.member(NetworkDefinition.FACTORY_PID, member.trim());
    }

    /** Waits (bounded) until the switch shows a change written to its configuration. */
    private void awaitApplied(String what, BooleanSupplier applied) {
        long deadline = System.nanoTime() + applyMillis * 1_000_000L;
        while (!applied.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(what + " is saved, but the switch has not applied it within "
                        + applyMillis / 1000 + " s (see its log)");
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while " + what + " was being applied", e);
            }
        }
    }
}
