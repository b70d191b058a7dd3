package org.vl2.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A port agent: connects this host's kernel, through a TAP device, to a vl2 switch. Registered only while an
 * agent runs (it needs a configuration), so a consumer with a mandatory reference exists only where there
 * is an agent.
 */
@ProviderType
public interface AgentService {

    /** A snapshot of the agent: its TAP device, the switch it talks to, its state and its counters. */
    AgentStatus status();

    /**
     * The agent's managed routes and gateway mode (docs/routes.md); {@code null} where it has neither (raw, vxlan
     * and plaintext vl2 mode, which get no routes, and agents without a routing table).
     */
    default AgentRoutes routes() {
        return null;
    }

    /**
     * The agent's detailed counters since start, by name (for /metrics): {@value #HANDSHAKES} (encrypted handshakes
     * completed: the first join, re-joins, rekeys), {@value #COOKIE_REPLIES} (COOKIE-REPLYs the switch sent that
     * opened: it asked the agent to prove its address), and the datagrams from the switch's side dropped by reason,
     * {@value #DISCARDED_PREFIX}{@code foreign}, {@code malformed}, {@code unopened}, {@code ignored},
     * {@code queue_full} (valid control messages the agent's control thread had no room for), {@code not_joined}
     * (ROUTES while not joined), {@code pair_mismatch} (a frame under a pair key that was not of the pair's flow) (part
     * of {@link AgentStatus#drops()}); in encrypted vl2 mode the pair keys ({@value #PAIR_FRAMES_SEALED},
     * {@value #PAIR_FRAMES_OPENED}: frames sealed and opened under a pair key, which the switch forwarded unopened;
     * {@value #PAIRS_TAKEN}, {@value #PAIRS_REFUSED}, {@value #PAIRS_REVOKED}: PAIRs; {@value #PAIRS_SENDING},
     * {@value #PAIRS_RECEIVING}: pairs held now); with direct paths ({@value #DIRECT_FRAMES_SENT},
     * {@value #DIRECT_FRAMES_RECEIVED}: a pair's frames sent straight to, and received straight from, the other member;
     * {@value #PROBES_SENT}, {@value #PROBES_ANSWERED}: PROBEs sent, and answered for others; {@value #PAIRS_DIRECT}: a
     * gauge, the send pairs whose direct path is up). Empty by default.
     */
    default java.util.Map<String, Long> counters() {
        return java.util.Map.of();
    }

    /** Key of {@link #counters()}. */
    String HANDSHAKES = "handshakes";
    /** Key of {@link #counters()}. */
    String COOKIE_REPLIES = "cookieReplies";
    /** Key of {@link #counters()} (since 2.7). */
    String PAIR_FRAMES_SEALED = "pairs.frames_sealed";
    /** Key of {@link #counters()} (since 2.7). */
    String PAIR_FRAMES_OPENED = "pairs.frames_opened";
    /** Key of {@link #counters()} (since 2.7). */
    String PAIRS_TAKEN = "pairs.taken";
    /** Key of {@link #counters()} (since 2.7). */
    String PAIRS_REFUSED = "pairs.refused";
    /** Key of {@link #counters()} (since 2.7). */
    String PAIRS_REVOKED = "pairs.revoked";
    /** Key of {@link #counters()}: a gauge, the pairs this agent seals with now (since 2.7). */
    String PAIRS_SENDING = "pairs.sending";
    /** Key of {@link #counters()}: a gauge, the pairs this agent opens with now (since 2.7). */
    String PAIRS_RECEIVING = "pairs.receiving";
    /** Key of {@link #counters()} (since 2.8). */
    String DIRECT_FRAMES_SENT = "direct.frames_sent";
    /** Key of {@link #counters()} (since 2.8). */
    String DIRECT_FRAMES_RECEIVED = "direct.frames_received";
    /** Key of {@link #counters()} (since 2.8). */
    String PROBES_SENT = "direct.probes_sent";
    /** Key of {@link #counters()} (since 2.8). */
    String PROBES_ANSWERED = "direct.probes_answered";
    /** Key of {@link #counters()}: a gauge, the send pairs whose direct path is up now (since 2.8). */
    String PAIRS_DIRECT = "pairs.direct";
    /** Prefix of the keys of {@link #counters()} that count discarded datagrams by reason. */
    String DISCARDED_PREFIX = "discarded.";
}
