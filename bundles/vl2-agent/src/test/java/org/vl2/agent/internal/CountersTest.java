package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Drops by reason: each reason its own counter, all of them part of the drops. */
class CountersTest {

    @Test
    void aFullControlInboxAndRoutesWhileNotJoinedAreDropsOfTheirOwnNotMalformed() {
        Counters c = new Counters();
        c.queueFull();
        c.queueFull();
        c.notJoined();
        c.malformed();
        assertEquals(2, c.queueFull.get());
        assertEquals(1, c.notJoined.get());
        assertEquals(1, c.malformed.get(), "a valid message the agent had no room for is not malformed");
        assertEquals(4, c.drops.get());
    }
}
