package org.vl2.rest.internal;

import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;

import org.vl2.api.AgentService;
import org.vl2.api.AgentStatus;
import org.vl2.json.Views;

/** The port agents of this instance (one per network it joins), by their TAP device's name. */
final class AgentResources {

    private final Supplier<Collection<AgentService>> agents;
    private final Supplier<Instant> clock;

    AgentResources(Supplier<Collection<AgentService>> agents, Supplier<Instant> clock) {
        this.agents = agents;
        this.clock = clock;
    }

    void register(Router r) {
        r.get("/agents", x -> list()).get("/agents/{tap}", x -> one(x.variable("tap")));
    }

    private List<AgentStatus> statuses() {
        return agents.get().stream().map(AgentService::status)
                .sorted(Comparator.comparing(AgentStatus::tapName, Comparator.nullsLast(Comparator.naturalOrder())))
                .toList();
    }

    private JsonNode list() {
        ArrayNode a = Views.MAPPER.createArrayNode();
        Instant now = clock.get();
        statuses().forEach(s -> a.add(Views.agent(s, now)));
        return a;
    }

    private JsonNode one(String tap) {
        return statuses().stream().filter(s -> tap.equals(s.tapName())).findFirst()
                .map(s -> (JsonNode) Views.agent(s, clock.get()))
                .orElseThrow(() -> HttpError.notFound("no port agent with TAP device " + tap + " in this instance"));
    }
}
