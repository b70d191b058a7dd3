package org.vl2.api;

import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.osgi.annotation.versioning.ProviderType;

/** The switch core as operators and tools see it: ports, counters and the forwarding policy. */
@ProviderType
public interface SwitchService {

    /** Snapshots of all ports, ordered by id. */
    List<PortInfo> ports();

    Optional<PortInfo> port(PortId id);

    SwitchStatistics statistics();

    /** Name of the configured forwarding policy, e.g. {@code learning}. */
    String policy();

    /** Whether the configured policy is registered and in use (false means frames are being dropped). */
    boolean policyActive();

    /** Names of the forwarding policies registered now. */
    Set<String> policies();

    /**
     * Selects the forwarding policy, at runtime and persistently (it is written to the switch's
     * configuration). The MAC table and the ports are kept.
     *
     * @throws IllegalArgumentException if no policy of that name is registered
     */
    void setPolicy(String name);

    /** The networks the switch hosts, ordered by id: the default network and every configured one. */
    List<NetworkInfo> networks();

    Optional<NetworkInfo> network(long id);

    /** Removes a port now (its dynamic MAC entries are flushed); false if there is no such port. */
    boolean removePort(PortId id);
}
