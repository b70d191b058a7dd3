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
     * (ROUTES while not joined) (part of
     * {@link AgentStatus#drops()}). Empty by default.
     */
    default java.util.Map<String, Long> counters() {
        return java.util.Map.of();
    }

    /** Key of {@link #counters()}. */
    String HANDSHAKES = "handshakes";
    /** Key of {@link #counters()}. */
    String COOKIE_REPLIES = "cookieReplies";
    /** Prefix of the keys of {@link #counters()} that count discarded datagrams by reason. */
    String DISCARDED_PREFIX = "discarded.";
}
