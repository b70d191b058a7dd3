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

    /** The switch's public key (44 base64 characters), which agents pin ({@code switch.key}). */
    String publicKey();

    /**
     * The members of a network, ordered by member id: those its configuration authorizes and those with a port.
     *
     * @throws IllegalArgumentException if the switch has no such network
     */
    java.util.List<MemberInfo> members(long network);

    /**
     * Authorizes a member (public key or member id) on a network, persistently: it is added to the network's
     * configuration ({@code members}). A private network then admits it.
     *
     * @throws IllegalArgumentException if the network has no configuration, or the member is malformed
     */
    void authorize(long network, String member);

    /**
     * Removes a member's authorization, persistently; on a private network its port is removed at once (cut off).
     *
     * @return false if it was not authorized
     * @throws IllegalArgumentException if the network has no configuration, or the member is malformed
     */
    boolean deauthorize(long network, String member);

    /** Removes a port now (its dynamic MAC entries are flushed); false if there is no such port. */
    boolean removePort(PortId id);
}
