package org.vl2.api;

import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The switch as operators and tools see it, read only: ports, networks, members, counters and the forwarding
 * policy. Changes go through {@link SwitchAdminService}.
 */
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
     * The pair keys the switch holds (docs/protocol.md, "Pair keys"), by network, then sender port. Empty by default.
     *
     * @since 2.7
     */
    default java.util.List<PairInfo> pairs() {
        return java.util.List.of();
    }

    /**
     * The managed routes of every network (docs/routes.md), by network, in configured order, each with whether it is
     * in force (its gateway is a member with a port).
     */
    default java.util.List<NetworkRoute> routes() {
        return java.util.List.of();
    }

    /**
     * Sends that failed, by transport name ({@code udp}, {@code vl2}, {@code vxlan}, {@code tcp}, ...): the
     * {@link SwitchStatistics#txErrors()} of each transport the switch has had. Empty by default.
     */
    default java.util.Map<String, Long> transportErrors() {
        return java.util.Map.of();
    }

    /**
     * What each transport the switch has now dropped on receive before the switch saw it, by transport name and then
     * by reason ({@link org.vl2.api.spi.Transport#receiveDrops()}). Empty by default.
     *
     * @since 2.5
     */
    default java.util.Map<String, java.util.Map<String, Long>> transportReceiveDrops() {
        return java.util.Map.of();
    }
}
