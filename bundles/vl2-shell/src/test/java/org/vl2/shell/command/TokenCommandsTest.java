package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.karaf.shell.support.CommandException;
import org.junit.jupiter.api.Test;
import org.vl2.api.ApiToken;
import org.vl2.api.ApiTokenService;
import org.vl2.json.Views;

/** vl2:token-create prints the token once, vl2:tokens lists names and access (never a token), revoke removes. */
class TokenCommandsTest {

    /** In memory; the real one (vl2-rest TokenStore) has its own test. */
    static final class FakeTokens implements ApiTokenService {
        final List<ApiToken> list = new ArrayList<>();

        @Override
        public String create(String name, boolean admin) {
            if (list.stream().anyMatch(t -> t.name().equals(name))) {
                throw new IllegalArgumentException("a token named '" + name + "' exists");
            }
            list.add(new ApiToken(name, admin, Instant.parse("2026-12-05T17:00:00Z"), null));
            list.sort(Comparator.comparing(ApiToken::name));
            return "vl2_secret-of-" + name;
        }

        @Override
        public List<ApiToken> tokens() {
            return List.copyOf(list);
        }

        @Override
        public boolean revoke(String name) {
            return list.removeIf(t -> t.name().equals(name));
        }
    }

    final FakeTokens tokens = new FakeTokens();

    private Out create(String name, boolean admin) throws CommandException {
        TokenCreateCommand c = new TokenCreateCommand();
        c.tokens = tokens;
        c.name = name;
        c.admin = admin;
        Out out = new Out();
        c.execute(out.stream);
        return out;
    }

    private Out list(boolean json) {
        TokensCommand c = new TokensCommand();
        c.tokens = tokens;
        c.json = json;
        c.noFormat = true;
        Out out = new Out();
        c.execute(out.stream);
        return out;
    }

    @Test
    void createListRevoke() throws Exception {
        Out created = create("grafana", false);
        assertEquals("vl2_secret-of-grafana", created.lines().get(0), "the token alone on the first line (scripts)");
        assertTrue(created.lines().get(1).contains("read-only") && created.lines().get(1).contains("only now"));
        create("ci", true);
        assertThrows(CommandException.class, () -> create("ci", false));

        List<String> lines = list(false).lines();
        assertEquals(List.of("ci", "read-write", "2026-12-05T17:00:00Z", "-"), Out.cells(lines.get(0)));
        assertEquals(List.of("grafana", "read-only", "2026-12-05T17:00:00Z", "-"), Out.cells(lines.get(1)));
        assertEquals(2, lines.size());
        assertTrue(list(false).text().indexOf("secret") < 0);

        JsonNode j = Views.MAPPER.readTree(list(true).text());
        assertEquals(2, j.size());
        assertEquals("read-write", j.get(0).get("access").asText());
        assertTrue(j.get(0).get("lastUsed").isNull());

        TokenRevokeCommand r = new TokenRevokeCommand();
        r.tokens = tokens;
        r.name = "ci";
        Out out = new Out();
        r.execute(out.stream);
        assertEquals("API token 'ci' revoked", out.lines().get(0));
        assertTrue(assertThrows(CommandException.class, () -> r.execute(new Out().stream)).getMessage()
                .contains("no API token named 'ci'"));
        assertEquals(1, tokens.tokens().size());
    }
}
