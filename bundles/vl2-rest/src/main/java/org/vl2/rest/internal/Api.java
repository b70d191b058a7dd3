package org.vl2.rest.internal;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.Collection;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;

import org.vl2.api.AgentService;
import org.vl2.api.MacTableService;
import org.vl2.api.SwitchAdminService;
import org.vl2.api.SwitchService;
import org.vl2.json.Views;

/** The routes under /api: the switch's and the agents' resources, and the OpenAPI document that describes them. */
final class Api {

    /** The OpenAPI document, a resource of this bundle (checked against the routes in a test). */
    static final String OPENAPI = "openapi.json";

    private final Router router = new Router();
    private final JsonNode openApi;

    Api(Supplier<SwitchService> switches, Supplier<SwitchAdminService> admins, Supplier<MacTableService> macTables,
        Supplier<Collection<AgentService>> agents, Supplier<Instant> clock) {
        this.openApi = load();
        router.get("/openapi.json", x -> openApi);
        new SwitchResources(switches, admins, macTables, clock).register(router);
        new AgentResources(agents, clock).register(router);
    }

    Router router() {
        return router;
    }

    static JsonNode load() {
        try (InputStream in = Api.class.getResourceAsStream(OPENAPI)) {
            if (in == null) {
                throw new IllegalStateException(OPENAPI + " is missing from the bundle");
            }
            return Views.MAPPER.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException(OPENAPI + " cannot be read: " + e.getMessage(), e);
        }
    }
}
