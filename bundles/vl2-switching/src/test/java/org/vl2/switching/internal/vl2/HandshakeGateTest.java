package org.vl2.switching.internal.vl2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.crypto.CookieChecker.Check.MAC2_MISSING;
import static org.vl2.crypto.CookieChecker.Check.MAC2_VALID;
import static org.vl2.switching.internal.vl2.HandshakeGate.Decision.COOKIE_REPLY;
import static org.vl2.switching.internal.vl2.HandshakeGate.Decision.DROP;
import static org.vl2.switching.internal.vl2.HandshakeGate.Decision.HANDSHAKE;

import java.net.InetAddress;
import java.util.EnumMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

class HandshakeGateTest {

    private static final long SECOND = 1_000_000_000L;
    private final HandshakeGate gate = new HandshakeGate();

    private static InetAddress ip(int i) throws Exception {
        return InetAddress.getByAddress(new byte[] {(byte) 198, 51, (byte) (i >> 8), (byte) i});
    }

    @Test
    void belowTheThresholdEveryInitiationGetsAHandshakeWithoutACookie() throws Exception {
        for (int i = 0; i < HandshakeGate.LOAD_THRESHOLD; i++) {
            assertEquals(HANDSHAKE, gate.decide(MAC2_MISSING, ip(1), 0));
        }
        assertFalse(gate.underLoad(0));
    }

    @Test
    void underLoadCookiesAreRequiredAndEachSourceIsLimited() throws Exception {
        Map<HandshakeGate.Decision, Integer> seen = new EnumMap<>(HandshakeGate.Decision.class);
        for (int i = 0; i < 1_000; i++) {
            seen.merge(gate.decide(MAC2_MISSING, ip(i), 10), 1, Integer::sum);
        }
        assertEquals(HandshakeGate.LOAD_THRESHOLD, seen.get(HANDSHAKE), "DH only until the threshold");
        assertEquals(1_000 - HandshakeGate.LOAD_THRESHOLD, seen.get(COOKIE_REPLY));
        assertTrue(gate.underLoad(10));
        for (int i = 0; i < HandshakeGate.PER_SOURCE; i++) {
            assertEquals(HANDSHAKE, gate.decide(MAC2_VALID, ip(7), 20));
        }
        assertEquals(DROP, gate.decide(MAC2_VALID, ip(7), 20), "per source");
        assertEquals(HANDSHAKE, gate.decide(MAC2_VALID, ip(8), 20), "another source");
    }

    @Test
    void theDhBudgetIsBoundedAndEveryInitiationWithoutACookieGetsOne() throws Exception {
        int handshakes = 0;
        int replies = 0;
        for (int i = 0; i < 10_000; i++) {
            HandshakeGate.Decision d = gate.decide(i % 2 == 0 ? MAC2_VALID : MAC2_MISSING, ip(i), 5);
            handshakes += d == HANDSHAKE ? 1 : 0;
            replies += d == COOKIE_REPLY ? 1 : 0;
        }
        assertEquals(HandshakeGate.MIN_HANDSHAKES_PER_SECOND, handshakes);
        // an honest agent's initiation among a flood still gets its cookie: no budget the flood could use up
        assertEquals(5_000 - HandshakeGate.LOAD_THRESHOLD / 2, replies);
    }

    @Test
    void loadLastsOneQuietSecondLongerThenEnds() throws Exception {
        for (int i = 0; i <= HandshakeGate.LOAD_THRESHOLD; i++) {
            gate.decide(MAC2_MISSING, ip(i), 0);
        }
        assertTrue(gate.underLoad(0));
        assertTrue(gate.underLoad(SECOND), "the next second still requires cookies");
        assertEquals(COOKIE_REPLY, gate.decide(MAC2_MISSING, ip(1), SECOND + 1));
        assertFalse(gate.underLoad(2 * SECOND + 2), "a quiet second ends it");
        assertEquals(HANDSHAKE, gate.decide(MAC2_MISSING, ip(1), 2 * SECOND + 3));
        // after a long silence too
        for (int i = 0; i <= HandshakeGate.LOAD_THRESHOLD; i++) {
            gate.decide(MAC2_MISSING, ip(i), 10 * SECOND);
        }
        assertFalse(gate.underLoad(20 * SECOND));
    }

    @Test
    void theSourceTableIsBounded() throws Exception {
        for (int i = 0; i <= HandshakeGate.LOAD_THRESHOLD; i++) {
            gate.decide(MAC2_MISSING, ip(i), 0);
        }
        for (int i = 0; i < HandshakeGate.MAX_SOURCES + 50; i++) {
            gate.decide(MAC2_VALID, ip(i), 0);
        }
        assertEquals(HandshakeGate.MAX_SOURCES, gate.sources());
        assertEquals(0, new HandshakeGate().sources());
    }

    @Test
    void theBudgetFollowsWhatTheWorkerCanDoFromTheNextSecondOn() throws Exception {
        int[] capacity = {1_000};
        HandshakeGate g = new HandshakeGate(() -> capacity[0]);
        Map<HandshakeGate.Decision, Integer> seen = new EnumMap<>(HandshakeGate.Decision.class);
        for (int i = 0; i < 2_000; i++) {
            seen.merge(g.decide(MAC2_MISSING, ip(i), 0), 1, Integer::sum);
        }
        assertEquals(500, seen.get(HANDSHAKE), "no cookie asked up to half of what the worker does");
        assertEquals(1_500, seen.get(COOKIE_REPLY));
        int proven = 0;
        for (int i = 0; i < 2_000; i++) {
            proven += g.decide(MAC2_VALID, ip(i), 1) == HANDSHAKE ? 1 : 0;
        }
        assertEquals(500, proven, "within the budget of 1000 a second");

        capacity[0] = 50; // a slow worker: never below the fixed minimum
        assertEquals(1_000, g.budget(SECOND - 1), "taken once a second");
        assertEquals(HandshakeGate.MIN_HANDSHAKES_PER_SECOND, g.budget(SECOND));
        capacity[0] = 1_000_000;
        assertEquals(HandshakeGate.MAX_HANDSHAKES_PER_SECOND, g.budget(3 * SECOND), "nor above the maximum");
    }
}
