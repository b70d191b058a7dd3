package org.vl2.rest.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.MemberInfo;
import org.vl2.api.PortCounters;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeSwitchAdminService;
import org.vl2.api.test.FakeSwitchService;

/**
 * Every resource through the servlet as a client sees it: authentication and roles first, then the answers, the
 * 400 that names the field, the 404 for unknown ids, all as JSON.
 */
class HttpEntryTest {

    static final String ADMIN = FakeHttp.basic("karaf", "s3cret");
    static final String VIEWER = FakeHttp.basic("watch", "pw");
    static final String KEY = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

    final FakeSwitchService sw = new FakeSwitchService();
    final FakeSwitchAdminService admin = new FakeSwitchAdminService(sw);
    final FakeMacTable fdb = new FakeMacTable();
    HttpEntry entry;
    @TempDir
    Path etc;
    TokenStore tokens;

    static RestConfig config(Map<String, Object> props) {
        return (RestConfig) Proxy.newProxyInstance(RestConfig.class.getClassLoader(), new Class<?>[] {RestConfig.class},
                (p, m, a) -> props.getOrDefault(m.getName(), m.getDefaultValue()));
    }

    static Set<String> realm(String user, char[] password) {
        String pw = new String(password);
        if (user.equals("karaf") && pw.equals("s3cret")) {
            return Set.of("admin", "viewer", "manager");
        }
        return user.equals("watch") && pw.equals("pw") ? Set.of("viewer") : null;
    }

    @BeforeEach
    void setUp() {
        tokens = new TokenStore(etc.resolve(TokenStore.FILE), Instant::now);
        entry = new HttpEntry(config(Map.of()), HttpEntryTest::realm, tokens).with(sw, admin, fdb, List.of());
        sw.ports.add(new PortInfo(PortId.of(3), 0, "vl2", "vl2", "192.0.2.7:40001",
                new PortCounters(10, 1000, 20, 2000, 1, 0), Instant.EPOCH, Instant.EPOCH, "300c9c9603b92a4b", "alice",
                "10.0.0.2"));
        fdb.entries.add(FakeMacTable.dynamic(0, 0, "02:00:00:00:00:02", 3, 5, 0));
        fdb.entries.add(FakeMacTable.dynamic(0, 0, "02:00:00:00:00:01", 3, 5, 0));
        fdb.entries.add(FakeMacTable.dynamic(0, 7, "02:00:00:00:00:03", 3, 5, 1));
    }

    FakeHttp.Answer get(String uri, String auth) throws Exception {
        return FakeHttp.call(entry, "GET", uri, auth == null ? Map.of() : Map.of("Authorization", auth), null);
    }

    FakeHttp.Answer write(String method, String uri, String body) throws Exception {
        return FakeHttp.call(entry, method, uri, Map.of("Authorization", ADMIN, "Content-Type", "application/json"),
                body);
    }

    static void assertError(FakeHttp.Answer a, int status, String field) {
        assertEquals(status, a.status(), a.body());
        assertEquals("application/json", a.headers().get("Content-Type"));
        JsonNode j = a.json();
        assertEquals(status, j.get("status").asInt());
        assertFalse(j.get("error").asText().isBlank());
        assertEquals(field, j.has("field") ? j.get("field").asText() : null, a.body());
    }

    @Test
    void everyResourceNeedsALogin() throws Exception {
        int wrong = 0;
        for (String uri : List.of("/api/switch", "/api/networks", "/api/networks/0", "/api/networks/0/members",
                "/api/ports", "/api/ports/3", "/api/mactable", "/api/agents", "/api/openapi.json", "/metrics",
                "/api/nothing")) {
            FakeHttp.Answer a = get(uri, null);
            assertError(a, 401, null);
            assertTrue(a.headers().get("WWW-Authenticate").startsWith("Basic "), uri);
            if (wrong++ < Authenticator.MAX_FAILURES - 1) { // stays under the throttle (its own test)
                assertError(get(uri, FakeHttp.basic("karaf", "wrong")), 401, null);
            }
        }
        assertError(FakeHttp.call(entry, "POST", "/api/networks", Map.of("Content-Type", "application/json"),
                "{\"id\":\"2a\"}"), 401, null);
        FakeHttp.Answer console = FakeHttp.call(entry, "GET", "/api/switch", Map.of("X-Requested-With", "vl2-console"),
                null);
        assertError(console, 401, null);
        assertNull(console.headers().get("WWW-Authenticate"), "the console's page has its own login form");
        assertTrue(admin.networkSettings.isEmpty());
    }

    @Test
    void guessingIsThrottledPerAddress() throws Exception {
        for (int i = 0; i < Authenticator.MAX_FAILURES; i++) {
            assertError(get("/api/switch", FakeHttp.basic("karaf", "guess" + i)), 401, null);
        }
        assertError(get("/api/switch", ADMIN), 429, null);
    }

    @Test
    void aViewerReadsButChangesNothing() throws Exception {
        assertEquals(200, get("/api/networks", VIEWER).status());
        FakeHttp.Answer a = FakeHttp.call(entry, "PUT", "/api/networks/0/members/" + "00000000000000bb",
                Map.of("Authorization", VIEWER, "Content-Type", "application/json"), null);
        assertError(a, 403, null);
        assertTrue(admin.memberCalls.isEmpty());
    }

    /** A read-only token reads, an admin token changes too; revoked or unknown tokens are 401 at once. */
    @Test
    void bearerTokens() throws Exception {
        String reader = "Bearer " + tokens.create("grafana", false);
        String writer = "Bearer " + tokens.create("ci", true);
        assertEquals(200, get("/api/networks", reader).status());
        assertEquals(200, get("/metrics", reader).status());
        assertError(FakeHttp.call(entry, "PUT", "/api/networks/0/members/00000000000000bb",
                Map.of("Authorization", reader, "Content-Type", "application/json"), null), 403, null);
        assertTrue(admin.memberCalls.isEmpty());
        assertEquals(200, FakeHttp.call(entry, "PUT", "/api/networks/0/members/00000000000000bb",
                Map.of("Authorization", writer, "Content-Type", "application/json"), null).status());
        assertNotNull(tokens.tokens().get(0).lastUsed(), "ci was used");
        assertTrue(tokens.revoke("grafana"));
        assertError(get("/api/networks", reader), 401, null);
        assertError(get("/api/networks", "Bearer vl2_nottoken"), 401, null);
        assertError(get("/api/networks", "Bearer " + writer.substring(7).toUpperCase()), 401, null);
        assertEquals(200, get("/api/networks", writer).status());
    }

    @Test
    void changesNeedJsonAndTheSameOrigin() throws Exception {
        assertError(FakeHttp.call(entry, "POST", "/api/networks", Map.of("Authorization", ADMIN,
                "Content-Type", "application/x-www-form-urlencoded"), "id=2a"), 415, null);
        assertError(FakeHttp.call(entry, "POST", "/api/networks", Map.of("Authorization", ADMIN,
                "Content-Type", "application/json", "Origin", "http://evil.example", "Host", "127.0.0.1:8181"),
                "{\"id\":\"2a\"}"), 403, null);
        assertTrue(admin.networkSettings.isEmpty());
        assertEquals(200, FakeHttp.call(entry, "GET", "/api/networks", Map.of("Authorization", ADMIN,
                "Origin", "http://127.0.0.1:8181", "Host", "127.0.0.1:8181"), null).status());
    }

    @Test
    void switchResource() throws Exception {
        JsonNode j = get("/api/switch", ADMIN).json();
        assertEquals(sw.publicKey, j.get("publicKey").asText());
        assertEquals("learning", j.get("policy").asText());
        assertEquals(0, j.get("switch").get("drops").asLong());
    }

    @Test
    void networksAreCreatedChangedAndDeleted() throws Exception {
        FakeHttp.Answer a = write("POST", "/api/networks", "{\"id\":\"2a\",\"name\":\"lab\",\"mtu\":1280,"
                + "\"members\":[\"" + KEY + "\"],\"private\":true}");
        assertEquals(201, a.status(), a.body());
        assertEquals("/api/networks/000000000000002a", a.headers().get("Location"));
        assertEquals("lab", a.json().get("name").asText());
        assertEquals("1280", a.json().get("settings").get("mtu").asText());
        assertEquals(KEY, admin.networkSettings.get(0x2aL).get("members"));
        assertError(write("POST", "/api/networks", "{\"id\":\"2a\"}"), 409, "id");

        a = write("PATCH", "/api/networks/2a", "{\"mtu\":1400}");
        assertEquals(200, a.status(), a.body());
        assertEquals("lab", a.json().get("settings").get("name").asText(), "a patch keeps the rest");
        assertError(write("PATCH", "/api/networks/2a", "{\"mtu\":99999}"), 400, "mtu");
        assertEquals("1400", admin.networkSettings.get(0x2aL).get("mtu"), "nothing changed");
        assertError(write("PATCH", "/api/networks/2a", "[1]"), 400, "body");
        assertError(write("PATCH", "/api/networks/2a", "{nope"), 400, "body");
        assertError(write("PATCH", "/api/networks/77", "{\"mtu\":1400}"), 404, null);
        assertError(write("POST", "/api/networks", "{\"name\":\"x\"}"), 400, "id");
        assertError(write("POST", "/api/networks", "{\"id\":\"xyz\"}"), 400, "id");

        assertEquals(204, write("DELETE", "/api/networks/2a", null).status());
        assertError(write("DELETE", "/api/networks/2a", null), 404, null);
        assertError(write("DELETE", "/api/networks/0", null), 409, null);
        assertError(get("/api/networks/2a", ADMIN), 404, null);
        assertError(get("/api/networks/not-hex", ADMIN), 400, "network");
    }

    @Test
    void membersByStateAuthorizedAndDeauthorized() throws Exception {
        sw.members.add(new MemberInfo(0, "300c9c9603b92a4b", KEY, false, null, null, "bob", false, null,
                Instant.parse("2026-12-05T10:00:00Z")));
        sw.members.add(new MemberInfo(0, "00000000000000bb", null, true, PortId.of(3), "10.0.0.2", "alice", true));
        JsonNode j = get("/api/networks/0/members?state=waiting", ADMIN).json();
        assertEquals(1, j.get("members").size());
        assertEquals("waiting", j.get("members").get(0).get("state").asText());
        assertEquals("2026-12-05T10:00:00Z", j.get("members").get(0).get("refused").asText());
        assertEquals("online", get("/api/networks/0/members?state=online", ADMIN).json().get("members").get(0)
                .get("state").asText());
        assertError(get("/api/networks/0/members?state=asleep", ADMIN), 400, "state");
        assertError(get("/api/networks/99/members", ADMIN), 404, null);

        String urlKey = KEY.replace('+', '-').replace('/', '_');
        assertEquals(200, write("PUT", "/api/networks/0/members/" + urlKey, null).status());
        assertTrue(admin.authorized.contains("0 " + KEY), admin.authorized.toString());
        assertError(write("PUT", "/api/networks/0/members/not-a-member", null), 400, "member");
        assertEquals(204, write("DELETE", "/api/networks/0/members/" + urlKey, null).status());
        assertError(write("DELETE", "/api/networks/0/members/" + urlKey, null), 404, null);
    }

    @Test
    void portsWithCounters() throws Exception {
        JsonNode j = get("/api/ports", ADMIN).json();
        assertEquals(1, j.size());
        assertEquals(10, j.get(0).get("rxFrames").asLong());
        assertEquals(0, get("/api/ports?network=2a", ADMIN).json().size());
        assertEquals("alice", get("/api/ports/3", ADMIN).json().get("name").asText());
        assertError(get("/api/ports/4", ADMIN), 404, null);
        assertError(get("/api/ports/x", ADMIN), 400, "port");
        assertEquals(204, write("DELETE", "/api/ports/3", null).status());
        assertError(write("DELETE", "/api/ports/3", null), 404, null);
        assertError(write("POST", "/api/ports", "{}"), 405, null);
    }

    @Test
    void macTableIsFilteredOrderedAndPaged() throws Exception {
        JsonNode j = get("/api/mactable?limit=2", ADMIN).json();
        assertEquals(3, j.get("total").asInt());
        assertEquals(2, j.get("entries").size());
        assertEquals("02:00:00:00:00:01", j.get("entries").get(0).get("mac").asText());
        j = get("/api/mactable?offset=2&limit=2", ADMIN).json();
        assertEquals(1, j.get("entries").size());
        assertEquals(7, j.get("entries").get(0).get("vlan").asInt());
        assertEquals(1, get("/api/mactable?vlan=7", ADMIN).json().get("total").asInt());
        assertEquals(1, get("/api/mactable?mac=02-00-00-00-00-02", ADMIN).json().get("total").asInt());
        assertEquals(0, get("/api/mactable?port=4", ADMIN).json().get("total").asInt());
        assertEquals(0, get("/api/mactable?offset=10", ADMIN).json().get("entries").size());
        assertError(get("/api/mactable?vlan=5000", ADMIN), 400, "vlan");
        assertError(get("/api/mactable?mac=zz", ADMIN), 400, "mac");
        assertError(get("/api/mactable?limit=0", ADMIN), 400, "limit");
        assertError(get("/api/mactable?network=q", ADMIN), 400, "network");
    }

    @Test
    void withoutASwitchTheSwitchResourcesAre404() throws Exception {
        entry = new HttpEntry(config(Map.of()), HttpEntryTest::realm, tokens).with(null, null, null, List.of());
        assertError(get("/api/networks", ADMIN), 404, null);
        assertError(get("/api/mactable", ADMIN), 404, null);
        assertEquals(0, get("/api/agents", ADMIN).json().size());
        assertError(get("/api/agents/vl2tap0", ADMIN), 404, null);
        assertEquals(200, get("/metrics", ADMIN).status());
    }

    /** The switch's managed routes, all or one network's, as vl2:routes -j writes them. */
    @Test
    void managedRoutesAreServed() throws Exception {
        sw.routes.add(new org.vl2.api.NetworkRoute(0, "0.0.0.0/0", "10.1.0.5", 100, true, (0xabL << 32) | 3));
        JsonNode all = get("/api/routes", VIEWER).json();
        assertEquals(1, all.size());
        assertEquals("0000000000000000", all.get(0).get("network").asText());
        assertEquals("0.0.0.0/0", all.get(0).get("destination").asText());
        assertEquals("10.1.0.5", all.get(0).get("gateway").asText());
        assertEquals(100, all.get(0).get("metric").asInt());
        assertTrue(all.get(0).get("inForce").asBoolean());
        assertEquals("ab:3", all.get(0).get("version").asText());
        assertEquals(all, get("/api/networks/0/routes", VIEWER).json());
        assertError(get("/api/networks/42/routes", VIEWER), 404, null);
    }

    /** The OpenAPI document describes exactly the routes the servlet serves, and every reference in it resolves. */
    @Test
    void openApiDocumentMatchesTheRoutes() throws Exception {
        JsonNode doc = get("/api/openapi.json", ADMIN).json();
        assertTrue(doc.get("openapi").asText().startsWith("3."));
        assertNotNull(doc.get("info").get("title"));
        Set<String> documented = new HashSet<>();
        doc.get("paths").fields().forEachRemaining(p -> {
            Set<String> declared = new HashSet<>();
            p.getValue().path("parameters").forEach(param -> declared.add(resolve(doc, param).get("name").asText()));
            for (String seg : p.getKey().split("/")) {
                if (seg.startsWith("{")) {
                    assertTrue(declared.contains(seg.substring(1, seg.length() - 1)), p.getKey() + " declares " + seg);
                }
            }
            p.getValue().fields().forEachRemaining(op -> {
                if (!op.getKey().equals("parameters")) {
                    documented.add(op.getKey().toUpperCase() + " " + p.getKey());
                    assertTrue(op.getValue().get("responses").size() > 0, p.getKey());
                    assertNotNull(op.getValue().get("operationId"), p.getKey());
                }
            });
        });
        Set<String> served = new HashSet<>();
        new Api(() -> sw, () -> admin, () -> fdb, List::of, Instant::now).router().routes()
                .forEach(r -> served.add(r.method() + " " + r.template()));
        assertEquals(served, documented);
        assertRefsResolve(doc, doc);
    }

    private static JsonNode resolve(JsonNode doc, JsonNode node) {
        return node.has("$ref") ? doc.at(node.get("$ref").asText().substring(1)) : node;
    }

    private static void assertRefsResolve(JsonNode doc, JsonNode node) {
        if (node.isObject()) {
            JsonNode ref = node.get("$ref");
            if (ref != null) {
                JsonNode target = doc.at(ref.asText().substring(1));
                assertFalse(target.isMissingNode(), "unresolved " + ref.asText());
            }
            node.elements().forEachRemaining(n -> assertRefsResolve(doc, n));
        } else if (node.isArray()) {
            node.elements().forEachRemaining(n -> assertRefsResolve(doc, n));
        }
    }

    @Test
    void unknownPathsAre404() throws Exception {
        assertError(get("/api/nothing", ADMIN), 404, null);
        assertNull(get("/api/nothing", ADMIN).headers().get("WWW-Authenticate"));
    }
}
