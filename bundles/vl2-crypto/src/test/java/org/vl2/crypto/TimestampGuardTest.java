package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** The replay guard's bound never pushes out a protected key (the switch's authorized and joined members). */
class TimestampGuardTest {

    private static byte[] key(int n) {
        byte[] k = new byte[32];
        k[0] = (byte) n;
        return k;
    }

    private static byte[] time(int t) {
        byte[] b = new byte[12];
        b[11] = (byte) t;
        return b;
    }

    @Test
    void aFullGuardForgetsOnlyUnprotectedKeys() {
        byte[] member = key(1);
        TimestampGuard guard = new TimestampGuard(4, k -> Arrays.equals(k, member));
        assertTrue(guard.record(member, time(5)));
        for (int i = 2; i < 200; i++) { // passers-by, each answered once: more than the guard holds
            assertTrue(guard.record(key(i), time(1)));
            assertTrue(guard.size() <= 4, guard.size() + " keys");
        }
        assertFalse(guard.isFresh(member, time(5)), "the member's old initiation is still a replay");
        assertTrue(guard.isFresh(member, time(6)));
    }

    @Test
    void withoutProtectionAnyKeyMayBeForgottenAndAllProtectedGrowsBeyondTheBound() {
        TimestampGuard guard = new TimestampGuard(2, k -> true);
        for (int i = 0; i < 5; i++) {
            guard.record(key(i), time(1));
        }
        assertEquals(5, guard.size(), "protected keys are never forgotten to make room");
        guard.forget(key(0));
        assertEquals(4, guard.size(), "only forget() drops them");
    }
}
