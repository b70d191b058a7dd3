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

    /**
     * The settings of a configured network as its configuration ({@code org.vl2.network}) holds them: property
     * names as in docs/configuration.md, values as text (lists comma-separated); empty if the network has no
     * configuration (the built-in default and raw networks until one is created for them).
     */
    java.util.Map<String, String> networkSettings(long network);

    /**
     * Creates a network, or changes the settings of one, through its configuration ({@code org.vl2.network}),
     * and returns once the switch shows it. {@code settings} uses the configuration's property names
     * ({@code name}, {@code mtu}, {@code ipv4.pool}, {@code private}, {@code members} comma-separated, ...);
     * {@code id} need not be given. With {@code merge} the given settings replace only those properties and the
     * rest stay; without, the configuration becomes exactly {@code settings}. Concurrent changes are applied one
     * after the other, none is lost.
     *
     * @return true if the network was created, false if it existed and was changed
     * @throws InvalidSettingException naming the first invalid setting; nothing was changed
     */
    boolean putNetwork(long network, java.util.Map<String, String> settings, boolean merge);

    /**
     * Deletes a network's configuration: the network and its ports go (the built-in default and raw networks
     * return to their built-in settings).
     *
     * @return false if the network has no configuration
     */
    boolean removeNetwork(long network);
}
