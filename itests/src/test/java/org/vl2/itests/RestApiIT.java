package org.vl2.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerSuite;
import org.vl2.api.MemberInfo;
import org.vl2.crypto.Identity;
import org.vl2.protocol.ErrorCode;

/**
 * The feature vl2-api-rest installs from the distribution (offline) and serves every resource over real HTTP,
 * authenticated against the container's JAAS realm: 401 without or with wrong credentials, 403 for a reader's
 * change, 400 naming the field, 404 for unknown ids; a member refused by a private network is listed as waiting,
 * authorized through the API, and then joins. The feature is uninstalled afterwards (the container is shared).
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerSuite.class)
public class RestApiIT extends Vl2TestSupport {

    /** Users the container's etc/users.properties gets (Vl2TestSupport): test fixtures, never shipped. */
    static final String ADMIN = "restadmin";
    static final String VIEWER = "restviewer";
    static final String PASSWORD = "itest-9f2c41d7";

    /** Network ab1: an id no other class uses. */
    private static final long NETWORK = 0xab1;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String base;

    private HttpResponse<String> call(String method, String path, String user, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (user != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":" + PASSWORD)
                    .getBytes(StandardCharsets.UTF_8)));
        }
        if (!method.equals("GET")) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return call("GET", path, ADMIN, null);
    }

    private static void assertStatus(int status, HttpResponse<String> r) {
        assertEquals(r.request().method() + " " + r.uri() + ": " + r.body(), status, r.statusCode());
        if (status != 204) { // No Content: no body, no type
            assertTrue(r.body(), r.headers().firstValue("Content-Type").orElse("").startsWith(
                    r.uri().getPath().equals("/metrics") && status == 200 ? "text/plain" : "application/json"));
        } else {
            assertEquals("", r.body());
        }
    }

    @Test
    public void everyResourceOverHttpWithAuthentication() throws Exception {
        featuresService.installFeature("vl2-api-rest");
        try {
            base = "http://127.0.0.1:" + configProperty("org.ops4j.pax.web", "org.osgi.service.http.port");
            awaitCondition("the API answers", Duration.ofSeconds(60), () -> {
                try {
                    return call("GET", "/api/switch", null, null).statusCode() == 401;
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            checkAuthentication();
            checkTokens();
            checkResources();
            checkWaitingMemberAuthorized();
        } finally {
            featuresService.uninstallFeature("vl2-api-rest");
            if (switchService.network(NETWORK).isPresent()) {
                switchAdmin.removeNetwork(NETWORK);
            }
        }
        assertTrue("the HTTP API is gone with its feature", bundle("org.vl2.vl2-rest") == null);
    }

    private void checkAuthentication() throws Exception {
        for (String path : List.of("/api/switch", "/api/networks", "/api/networks/0", "/api/networks/0/members",
                "/api/ports", "/api/mactable", "/api/agents", "/api/openapi.json", "/metrics")) {
            HttpResponse<String> r = call("GET", path, null, null);
            assertStatus(401, r);
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"));
            assertStatus(200, call("GET", path, VIEWER, null));
        }
        HttpResponse<String> wrong = http.send(HttpRequest.newBuilder(URI.create(base + "/api/switch"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        (ADMIN + ":not-it").getBytes(StandardCharsets.UTF_8))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertStatus(401, wrong);
        assertStatus(403, call("POST", "/api/networks", VIEWER, "{\"id\":\"ab1\"}"));
        assertTrue(switchService.network(NETWORK).isEmpty());
    }

    /**
     * Tokens made in the shell work as Bearer at once, read-only unless --admin, and stop when revoked; the
     * instance's token file holds their hashes only.
     */
    private void checkTokens() throws Exception {
        String out = executeCommand("vl2:token-create itest-reader");
        String reader = out.lines().findFirst().orElseThrow().trim();
        assertTrue(out, reader.startsWith("vl2_"));
        String writer = executeCommand("vl2:token-create --admin itest-writer").lines().findFirst().orElseThrow()
                .trim();
        try {
            String listed = executeCommand("vl2:tokens --no-format");
            assertTrue(listed, listed.contains("itest-reader") && listed.contains("read-only")
                    && listed.contains("itest-writer") && listed.contains("read-write"));
            assertFalse(listed, listed.contains(reader) || listed.contains(writer));
            String file = new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of(
                    System.getProperty("karaf.data"), "vl2", "api-tokens")), StandardCharsets.UTF_8);
            assertFalse(file, file.contains(reader.substring(4)) || file.contains(writer.substring(4)));
            assertStatus(200, bearer("GET", "/api/switch", reader));
            assertStatus(200, bearer("GET", "/metrics", reader));
            assertStatus(403, bearer("POST", "/api/networks", reader));
            // a well-formed change by the writer: refused for its content (400), not for its rights
            assertStatus(400, bearer("POST", "/api/networks", writer));
            executeCommand("vl2:token-revoke itest-reader");
            assertStatus(401, bearer("GET", "/api/switch", reader));
            assertTrue(executeFailingCommand("vl2:token-revoke itest-reader").contains("no API token named"));
        } finally {
            for (String name : List.of("itest-reader", "itest-writer")) {
                try {
                    executeCommand("vl2:token-revoke " + name); // the shared container keeps no token
                } catch (AssertionError alreadyRevoked) {
                    // fine
                }
            }
        }
        assertStatus(401, bearer("GET", "/api/switch", writer));
    }

    private HttpResponse<String> bearer(String method, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token);
        if (method.equals("GET")) {
            b.GET();
        } else {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString("{}"));
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private void checkResources() throws Exception {
        HttpResponse<String> r = get("/api/switch");
        assertStatus(200, r);
        assertTrue(r.body(), r.body().contains("\"publicKey\":\"" + switchService.publicKey() + "\""));
        // the console's files (no data in them: what the page shows comes from the API, with its login)
        HttpResponse<String> page = call("GET", "/console/index.html", null, null);
        assertEquals(page.body(), 200, page.statusCode());
        assertTrue(page.body(), page.body().contains("<title>vl2 console</title>"));
        assertEquals(200, call("GET", "/console/console.js", null, null).statusCode());
        assertStatus(200, get("/api/openapi.json"));
        assertTrue(get("/api/openapi.json").body().contains("\"openapi\":\"3.0.3\""));

        RawPort p = rawPort();
        String mac = p.mac;
        int port = portOf(p).number();
        r = get("/api/ports");
        assertStatus(200, r);
        assertTrue(r.body(), r.body().contains("\"port\":" + port + ","));
        assertStatus(200, get("/api/ports/" + port));
        assertStatus(404, get("/api/ports/65000"));
        assertStatus(400, get("/api/ports/nope"));
        r = get("/api/mactable?mac=" + mac);
        assertStatus(200, r);
        assertTrue(r.body(), r.body().contains("\"total\":1,") && r.body().contains("\"port\":" + port));
        assertStatus(400, get("/api/mactable?vlan=4096"));
        r = get("/metrics");
        assertStatus(200, r);
        assertTrue(r.body(), r.body().contains("vl2_port_received_frames_total{network=\"0000000000000000\",port=\""
                + port + "\"}"));

        assertStatus(404, get("/api/networks/ab1"));
        assertStatus(201, call("POST", "/api/networks", ADMIN, "{\"id\":\"ab1\",\"name\":\"rest\",\"private\":true}"));
        assertEquals("rest", switchService.network(NETWORK).orElseThrow().name());
        r = call("PATCH", "/api/networks/ab1", ADMIN, "{\"mtu\":12}");
        assertStatus(400, r);
        assertTrue(r.body(), r.body().contains("\"field\":\"mtu\""));
        assertEquals(1400, switchService.network(NETWORK).orElseThrow().mtu());
        assertStatus(200, call("PATCH", "/api/networks/ab1", ADMIN, "{\"mtu\":1280}"));
        assertEquals(1280, switchService.network(NETWORK).orElseThrow().mtu());
        assertStatus(404, call("PATCH", "/api/networks/ab2", ADMIN, "{\"mtu\":1280}"));
        assertStatus(404, get("/api/networks/ab2/members"));
        assertStatus(404, get("/api/agents/vl2tap9"));
    }

    private void checkWaitingMemberAuthorized() throws Exception {
        byte[] switchKey = Identity.parsePublicKey(switchService.publicKey());
        Identity carol = Identity.generate();
        List<Vl2Member> open = new ArrayList<>();
        try {
            Vl2Member c = new Vl2Member(9, "02:00:00:00:0a:b1", vl2TransportPort());
            open.add(c);
            assertFalse(c.joinEncrypted(carol, switchKey, NETWORK, WAIT));
            assertEquals(ErrorCode.NOT_AUTHORIZED, c.error.code());
            String id = Identity.formatMemberId(carol.memberId());
            HttpResponse<String> r = get("/api/networks/ab1/members?state=waiting");
            assertStatus(200, r);
            assertTrue(r.body(), r.body().contains("\"member\":\"" + id + "\"")
                    && r.body().contains("\"publicKey\":\"" + carol.fingerprint() + "\""));
            String urlKey = carol.fingerprint().replace('+', '-').replace('/', '_');
            assertStatus(403, call("PUT", "/api/networks/ab1/members/" + urlKey, VIEWER, null));
            assertStatus(200, call("PUT", "/api/networks/ab1/members/" + urlKey, ADMIN, null));
            assertTrue(c.joinEncrypted(carol, switchKey, NETWORK, WAIT));
            awaitCondition("carol online", () -> switchService.members(NETWORK).stream()
                    .anyMatch(m -> m.member().equals(id) && m.state().equals(MemberInfo.ONLINE)));
            assertTrue(get("/api/networks/ab1/members?state=online").body().contains(id));
            assertStatus(204, call("DELETE", "/api/networks/ab1/members/" + id, ADMIN, null));
            assertStatus(404, call("DELETE", "/api/networks/ab1/members/" + id, ADMIN, null));
            assertStatus(204, call("DELETE", "/api/networks/ab1", ADMIN, null));
            assertTrue(switchService.network(NETWORK).isEmpty());
            assertStatus(404, call("DELETE", "/api/networks/ab1", ADMIN, null));
        } finally {
            for (Vl2Member m : open) {
                m.close();
            }
        }
    }
}
