package org.vl2.rest.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.ApiToken;

/** Tokens are stored as their SHA-256 only, in a 0600 file that a new instance reads back; revoked ones stop. */
class TokenStoreTest {

    @TempDir
    Path etc;

    private final Instant now = Instant.parse("2026-12-05T17:00:00Z");

    private TokenStore store() {
        return new TokenStore(etc.resolve(TokenStore.FILE), () -> now);
    }

    @Test
    void storedHashedAndReadBack() throws Exception {
        TokenStore s = store();
        String a = s.create("grafana", false);
        String b = s.create("ci.deploy", true);
        assertTrue(a.startsWith(TokenStore.PREFIX) && a.length() == TokenStore.PREFIX.length() + 43, a);
        assertNotEquals(a, b);
        Path file = etc.resolve(TokenStore.FILE);
        String text = Files.readString(file);
        assertFalse(text.contains(a.substring(4)) || text.contains(b.substring(4)), "no secret in the file");
        assertTrue(text.contains("grafana read 2026-12-05T17:00:00Z " + TokenStore.sha256(a)), text);
        assertTrue(text.contains("ci.deploy write 2026-12-05T17:00:00Z " + TokenStore.sha256(b)), text);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

        TokenStore again = store();
        assertEquals(List.of(new ApiToken("ci.deploy", true, now, null), new ApiToken("grafana", false, now, null)),
                again.tokens());
        assertEquals("grafana", again.check(a).name());
        assertTrue(again.check(b).admin());
        assertNotNull(again.tokens().get(0).lastUsed());
        assertNull(again.check("vl2_" + "A".repeat(43)));
        assertNull(again.check(a.substring(4)));
        assertNull(again.check(null));
    }

    @Test
    void revokedTokensStopAlsoAfterARestart() {
        TokenStore s = store();
        String a = s.create("grafana", false);
        assertTrue(s.revoke("grafana"));
        assertFalse(s.revoke("grafana"));
        assertNull(s.check(a));
        assertNull(store().check(a));
        assertTrue(store().tokens().isEmpty());
    }

    @Test
    void badNamesAndDuplicatesAreRefused() {
        TokenStore s = store();
        s.create("grafana", false);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.create("grafana", true)).getMessage()
                .contains("exists"));
        for (String bad : new String[] {"", "-x", "a b", "x".repeat(65), "ä", null}) {
            assertThrows(IllegalArgumentException.class, () -> s.create(bad, false), bad);
        }
        assertEquals(1, s.tokens().size());
    }

    @Test
    void aBadLineIsSkippedTheOthersWork() throws Exception {
        TokenStore s = store();
        String a = s.create("grafana", false);
        Path file = etc.resolve(TokenStore.FILE);
        Files.writeString(file, Files.readString(file) + "broken line\nx write yesterday " + "0".repeat(64) + "\n");
        TokenStore again = store();
        assertEquals(1, again.tokens().size());
        assertNotNull(again.check(a));
    }

    /** A file that cannot be read (here: not UTF-8) is not written over: its tokens would be lost. */
    @Test
    void anUnreadableFileIsNotOverwritten() throws Exception {
        Path file = etc.resolve(TokenStore.FILE);
        byte[] before = ("# cafX\ngrafana read 2026-12-05T17:00:00Z " + "0".repeat(64) + "\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        before[5] = (byte) 0xe9; // "cafe" with an accent in Latin-1: not UTF-8
        Files.write(file, before);
        TokenStore s = store();
        assertEquals(List.of(), s.tokens());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.create("other", false));
        assertTrue(e.getMessage().contains("could not be read"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> s.revoke("grafana"));
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(file)), "the file is as it was");
    }

    @Test
    void anUnwritableFileChangesNothing() throws Exception {
        Path dir = Files.createFile(etc.resolve("not-a-dir"));
        TokenStore s = new TokenStore(dir.resolve(TokenStore.FILE), () -> now);
        assertThrows(IllegalStateException.class, () -> s.create("grafana", false));
        assertTrue(s.tokens().isEmpty());
    }
}
