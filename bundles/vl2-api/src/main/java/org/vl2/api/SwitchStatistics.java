package org.vl2.api;

/**
 * Switch core counters since start.
 *
 * @param ports              ports now
 * @param rxFrames           frames received from all ports (valid or not)
 * @param rxBytes            bytes received
 * @param txFrames           frames sent to ports (a flooded frame counts once per egress port)
 * @param txBytes            bytes sent
 * @param unicast            frames forwarded to one known port
 * @param flooded            frames flooded (broadcast, multicast, unknown unicast, or by a hub policy)
 * @param filtered           frames whose destination sits behind the ingress port: not sent back
 * @param dropRunt           frames shorter than an Ethernet header
 * @param dropOversize       frames over the configured maximum frame size
 * @param dropSourceMulticast frames with a group (multicast/broadcast) source MAC
 * @param dropNoPolicy       frames dropped because the configured forwarding policy is not available
 * @param dropPolicy         frames the forwarding policy dropped, or sent to a port that does not exist
 * @param dropPortLimit      datagrams from new endpoints refused because the switch has its maximum of ports
 * @param txErrors           sends that failed in the transport
 * @param dropUnknownNetwork frames for a network the switch does not host (e.g. an unmapped VXLAN network)
 * @param malformed          vl2-protocol datagrams that are not well-formed messages (wrong magic, truncated, ...)
 * @param badSession         vl2-protocol messages naming an unknown port or carrying a wrong session token
 * @param dropStorm          broadcast, multicast and unknown-unicast frames over their port's storm-control budget
 * @param dropPortQuota      datagrams from new unauthenticated endpoints (raw, VXLAN, plaintext vl2) refused by a
 *                           quota: per source address, per transport, or the room reserved for encrypted members
 * @param dropMacLimit       frames from a station the MAC table refused: its port is at its MAC limit per port
 * @param dropDhcpSpoofed    DHCP requests to the switch whose client MAC (chaddr) is not the frame's source MAC
 * @param dropDhcpRate       DHCP messages to the switch over their port's DHCP rate
 * @param dropIpGuard        IPv4 and ARP frames from an address not assigned to their port (network ip.guard)
 * @param dropSealed         frames of ports without an identity (raw, VXLAN) for a network not open to plaintext
 * @param handshakes         encrypted handshakes completed (a RESPONSE sent: a member joined or renewed its session)
 * @param cookieReplies      COOKIE-REPLYs sent: initiations asked to prove their source address (under load)
 * @param handshakesThrottled initiations that passed mac1 but got neither a handshake nor a cookie reply (over the
 *                           switch's handshake budget, its per-source budget under load, or its cookie reply budget);
 *                           also counted in {@code badSession}
 * @param pairFrames         frames forwarded on a pair key: sealed end to end, passed on without AEAD (docs/protocol.md,
 *                           Pair keys); also counted in rx/tx and unicast
 * @param pairDrops          datagrams on a pair that were dropped: the pair had ended, or they did not come from its
 *                           sender's endpoint
 * @param pairsMade          pairs both members took
 * @param pairsEnded         pairs ended: a station moved, a member went, the settings changed, renewed, refused or
 *                           unanswered
 */
public record SwitchStatistics(int ports, long rxFrames, long rxBytes, long txFrames, long txBytes, long unicast,
                               long flooded, long filtered, long dropRunt, long dropOversize,
                               long dropSourceMulticast, long dropNoPolicy, long dropPolicy, long dropPortLimit,
                               long txErrors, long dropUnknownNetwork, long malformed, long badSession,
                               long dropStorm, long dropPortQuota, long dropMacLimit, long dropDhcpSpoofed,
                               long dropDhcpRate, long dropIpGuard, long dropSealed, long handshakes,
                               long cookieReplies, long handshakesThrottled, long pairFrames, long pairDrops,
                               long pairsMade, long pairsEnded) {

    /** Without the pair counters (0): the statistics before pair keys. */
    public SwitchStatistics(int ports, long rxFrames, long rxBytes, long txFrames, long txBytes, long unicast,
                            long flooded, long filtered, long dropRunt, long dropOversize, long dropSourceMulticast,
                            long dropNoPolicy, long dropPolicy, long dropPortLimit, long txErrors,
                            long dropUnknownNetwork, long malformed, long badSession, long dropStorm,
                            long dropPortQuota, long dropMacLimit, long dropDhcpSpoofed, long dropDhcpRate,
                            long dropIpGuard, long dropSealed, long handshakes, long cookieReplies,
                            long handshakesThrottled) {
        this(ports, rxFrames, rxBytes, txFrames, txBytes, unicast, flooded, filtered, dropRunt, dropOversize,
                dropSourceMulticast, dropNoPolicy, dropPolicy, dropPortLimit, txErrors, dropUnknownNetwork, malformed,
                badSession, dropStorm, dropPortQuota, dropMacLimit, dropDhcpSpoofed, dropDhcpRate, dropIpGuard,
                dropSealed, handshakes, cookieReplies, handshakesThrottled, 0, 0, 0, 0);
    }

    /** Without the handshake counters (0): the statistics before they were exported. */
    public SwitchStatistics(int ports, long rxFrames, long rxBytes, long txFrames, long txBytes, long unicast,
                            long flooded, long filtered, long dropRunt, long dropOversize, long dropSourceMulticast,
                            long dropNoPolicy, long dropPolicy, long dropPortLimit, long txErrors,
                            long dropUnknownNetwork, long malformed, long badSession, long dropStorm,
                            long dropPortQuota, long dropMacLimit, long dropDhcpSpoofed, long dropDhcpRate,
                            long dropIpGuard, long dropSealed) {
        this(ports, rxFrames, rxBytes, txFrames, txBytes, unicast, flooded, filtered, dropRunt, dropOversize,
                dropSourceMulticast, dropNoPolicy, dropPolicy, dropPortLimit, txErrors, dropUnknownNetwork, malformed,
                badSession, dropStorm, dropPortQuota, dropMacLimit, dropDhcpSpoofed, dropDhcpRate, dropIpGuard,
                dropSealed, 0, 0, 0);
    }

    /** Without {@code dropPortQuota} and the per-port hygiene drops (0): the statistics before they existed. */
    public SwitchStatistics(int ports, long rxFrames, long rxBytes, long txFrames, long txBytes, long unicast,
                            long flooded, long filtered, long dropRunt, long dropOversize, long dropSourceMulticast,
                            long dropNoPolicy, long dropPolicy, long dropPortLimit, long txErrors,
                            long dropUnknownNetwork, long malformed, long badSession, long dropStorm) {
        this(ports, rxFrames, rxBytes, txFrames, txBytes, unicast, flooded, filtered, dropRunt, dropOversize,
                dropSourceMulticast, dropNoPolicy, dropPolicy, dropPortLimit, txErrors, dropUnknownNetwork, malformed,
                badSession, dropStorm, 0);
    }

    /** Without the per-port hygiene drops (0). */
    public SwitchStatistics(int ports, long rxFrames, long rxBytes, long txFrames, long txBytes, long unicast,
                            long flooded, long filtered, long dropRunt, long dropOversize, long dropSourceMulticast,
                            long dropNoPolicy, long dropPolicy, long dropPortLimit, long txErrors,
                            long dropUnknownNetwork, long malformed, long badSession, long dropStorm,
                            long dropPortQuota) {
        this(ports, rxFrames, rxBytes, txFrames, txBytes, unicast, flooded, filtered, dropRunt, dropOversize,
                dropSourceMulticast, dropNoPolicy, dropPolicy, dropPortLimit, txErrors, dropUnknownNetwork, malformed,
                badSession, dropStorm, dropPortQuota, 0, 0, 0, 0, 0);
    }

    /** Without {@code dropSealed} (0): the statistics before sealed networks. */
    public SwitchStatistics(int ports, long rxFrames, long rxBytes, long txFrames, long txBytes, long unicast,
                            long flooded, long filtered, long dropRunt, long dropOversize, long dropSourceMulticast,
                            long dropNoPolicy, long dropPolicy, long dropPortLimit, long txErrors,
                            long dropUnknownNetwork, long malformed, long badSession, long dropStorm,
                            long dropPortQuota, long dropMacLimit, long dropDhcpSpoofed, long dropDhcpRate,
                            long dropIpGuard) {
        this(ports, rxFrames, rxBytes, txFrames, txBytes, unicast, flooded, filtered, dropRunt, dropOversize,
                dropSourceMulticast, dropNoPolicy, dropPolicy, dropPortLimit, txErrors, dropUnknownNetwork, malformed,
                badSession, dropStorm, dropPortQuota, dropMacLimit, dropDhcpSpoofed, dropDhcpRate, dropIpGuard, 0);
    }

    /** All drops together. */
    public long drops() {
        return dropRunt + dropOversize + dropSourceMulticast + dropNoPolicy + dropPolicy + dropPortLimit
                + dropUnknownNetwork + malformed + badSession + dropStorm + dropPortQuota + dropMacLimit
                + dropDhcpSpoofed + dropDhcpRate + dropIpGuard + dropSealed + pairDrops;
    }
}
