package org.vl2.api.test;

import org.vl2.api.AgentRoutes;
import org.vl2.api.AgentService;
import org.vl2.api.AgentStatus;

/** A port agent whose status (and managed routes) the test sets directly. */
public class FakeAgentService implements AgentService {

    public volatile AgentStatus status;
    /** Null: an agent without managed routes or gateway mode. */
    public volatile AgentRoutes routes;
    public final java.util.Map<String, Long> counters = new java.util.HashMap<>();

    @Override
    public AgentStatus status() {
        return status;
    }

    @Override
    public AgentRoutes routes() {
        return routes;
    }

    @Override
    public java.util.Map<String, Long> counters() {
        return java.util.Map.copyOf(counters);
    }
}
