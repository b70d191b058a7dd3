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
}
