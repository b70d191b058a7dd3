package org.vl2.rest.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** Failed logins per client address, and how the bounded table of them makes room. */
class AuthenticatorTest {

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final Authenticator auth = new Authenticator(
            (user, password) -> "right".equals(new String(password)) ? Set.of("admin") : null, clock::get);

    private static String basic(String password) {
        return "Basic " + Base64.getEncoder().encodeToString(("karaf:" + password).getBytes(StandardCharsets.UTF_8));
    }

    private int status(String header, String address) {
        try {
            auth.authenticate(header, address);
            return 200;
        } catch (HttpError e) {
            return e.status;
        }
    }

    @Test
    void anAddressPastTheLimitIsRefusedForTheMinute() {
        for (int i = 0; i < Authenticator.MAX_FAILURES; i++) {
            assertEquals(401, status(basic("guess" + i), "192.0.2.1"));
        }
        assertEquals(429, status(basic("right"), "192.0.2.1"), "even the right password, until the minute is over");
        assertEquals(200, status(basic("right"), "192.0.2.2"), "another address is not held up");
        clock.addAndGet(61_000_000_000L);
        assertEquals(200, status(basic("right"), "192.0.2.1"));
    }

    /**
     * A flood of failures from more addresses than the table holds does not wipe the count of an address that is
     * blocked: before, the table was cleared when full, so a few thousand addresses reset the guesser's limit.
     */
    @Test
    void aFullTableEvictsTheOldestUnblockedAddressNotTheBlockedOne() {
        for (int i = 0; i < Authenticator.MAX_FAILURES; i++) {
            assertEquals(401, status(basic("guess" + i), "192.0.2.1"));
        }
        for (int i = 0; i < Authenticator.MAX_ENTRIES + 500; i++) {
            clock.addAndGet(1_000_000); // a millisecond apart: each window younger than the one before
            assertEquals(401, status(basic("x"), "10." + (i >> 16) + "." + (i >> 8 & 255) + "." + (i & 255)));
        }
        assertTrue(auth.failureEntries() <= Authenticator.MAX_ENTRIES, "bounded: " + auth.failureEntries());
        assertEquals(429, status(basic("right"), "192.0.2.1"), "the blocked address is still blocked");
        // the oldest unblocked addresses made room; the newest are still counted
        String newest = "10.0." + ((Authenticator.MAX_ENTRIES + 499) >> 8 & 255) + "." + ((Authenticator.MAX_ENTRIES + 499) & 255);
        for (int i = 1; i < Authenticator.MAX_FAILURES; i++) {
            assertEquals(401, status(basic("y"), newest));
        }
        assertEquals(429, status(basic("right"), newest), "the newest address's first failure was kept");
    }

    @Test
    void windowsThatAreOverGoFirst() {
        for (int i = 0; i < Authenticator.MAX_ENTRIES; i++) {
            assertEquals(401, status(basic("x"), "10.1." + (i >> 8) + "." + (i & 255)));
        }
        clock.addAndGet(61_000_000_000L);
        assertEquals(401, status(basic("x"), "192.0.2.9"));
        assertEquals(1, auth.failureEntries(), "the windows that were over made room, all of them");
        assertThrows(HttpError.class, () -> auth.authenticate(null, "192.0.2.9"));
    }
}
