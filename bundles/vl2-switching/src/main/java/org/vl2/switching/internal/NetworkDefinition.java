package org.vl2.switching.internal;

import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.vl2.api.Networks;

/**
 * One configured network (a factory configuration of {@value #FACTORY_PID}). The switch core binds every
 * definition; creating or deleting a configuration adds or removes a network while the switch runs. A
 * changed configuration is applied in place (the network keeps its ports); an invalid one is refused and
 * the last good one stays.
 */
@Component(service = NetworkDefinition.class, configurationPid = NetworkDefinition.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = NetworkConfig.class, factory = true)
public final class NetworkDefinition {

    static final String FACTORY_PID = "org.vl2.network";

    private final String pid;
    /** The configuration's PID as ConfigAdmin knows it (for updates by vl2:members); null in tests. */
    private final String servicePid;
    private volatile NetworkSettings settings;

    @Activate
    public NetworkDefinition(NetworkConfig config, Map<String, Object> properties) {
        Object file = properties.get("felix.fileinstall.filename");
        Object sp = properties.get("service.pid");
        this.servicePid = sp == null ? null : sp.toString();
        this.pid = properties.getOrDefault("service.pid", FACTORY_PID)
                + (file == null ? "" : " (" + file.toString().replaceFirst("^file:", "") + ")");
        try {
            this.settings = NetworkSettings.from(config, pid);
        } catch (IllegalArgumentException e) {
            SwitchCore.FATAL.error("{}; this network is not created until this is fixed", e.getMessage());
            throw e;
        }
    }

    /** For tests. */
    NetworkDefinition(NetworkSettings settings) {
        this.pid = FACTORY_PID;
        this.servicePid = null;
        this.settings = settings;
    }

    @Modified
    void modified(NetworkConfig config) {
        NetworkSettings next;
        try {
            next = NetworkSettings.from(config, pid);
        } catch (IllegalArgumentException e) {
            SwitchCore.FATAL.error("{}; keeping the previous configuration of network {}", e.getMessage(),
                    settings.describe());
            return;
        }
        if (next.id() != settings.id()) {
            SwitchCore.FATAL.error("Invalid configuration {}: id={} (a network's id cannot change; delete this configuration and "
                    + "create one for network {}); keeping network {}", pid, Networks.format(next.id()),
                    Networks.format(next.id()), settings.describe());
            return;
        }
        settings = next;
    }

    /** For tests: what a configuration change does, without ConfigAdmin. */
    void replace(NetworkSettings next) {
        settings = next;
    }

    NetworkSettings settings() {
        return settings;
    }

    String pid() {
        return pid;
    }

    String servicePid() {
        return servicePid;
    }
}
