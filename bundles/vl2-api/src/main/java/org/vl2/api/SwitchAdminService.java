package org.vl2.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Changes an operator makes to the switch: the forwarding policy and a network's members, kept in the switch's
 * configuration (so they survive a restart), and the removal of a port. Each method returns once the switch
 * applies the change; {@link SwitchService} shows the result.
 */
@ProviderType
public interface SwitchAdminService {

    /**
     * Selects the forwarding policy, at runtime and persistently (it is written to the switch's
     * configuration). The MAC table and the ports are kept.
     *
     * @throws IllegalArgumentException if no policy of that name is registered
     */
    void setPolicy(String name);

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
