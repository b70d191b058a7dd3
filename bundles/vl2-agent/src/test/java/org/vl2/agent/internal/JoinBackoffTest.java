package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import org.junit.jupiter.api.Test;

/** The join round's retry waits: doubling from the retry interval, capped, lengthened by up to half as jitter. */
class JoinBackoffTest {

    /** A jitter source that always draws {@code bound - 1} (the longest wait) or always 0 (the shortest). */
    private static RandomGenerator always(boolean longest) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                throw new UnsupportedOperationException();
            }

            @Override
            public long nextLong(long bound) {
                return longest ? bound - 1 : 0;
            }
        };
    }

    @Test
    void theWaitDoublesPerUnansweredAttemptUpToEightRetryIntervals() {
        JoinBackoff b = new JoinBackoff(1_000, always(false));
        long[] expected = {1_000, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000};
        for (int sent = 0; sent < expected.length; sent++) {
            assertEquals(expected[sent], b.capped(sent), "after attempt " + sent);
            assertEquals(expected[sent], b.after(sent), "the shortest jitter adds nothing");
        }
        assertEquals(8_000, b.capped(Integer.MAX_VALUE), "capped however long the switch stays silent");
    }

    @Test
    void theJitterAddsAtMostHalfTheWait() {
        JoinBackoff b = new JoinBackoff(1_000, always(true));
        assertEquals(1_500, b.after(1));
        assertEquals(3_000, b.after(2));
        assertEquals(12_000, b.after(9));
    }

    @Test
    void theJitterSpreadsMembersThatStartedTogether() {
        // members retrying after the same outage draw their own waits: spread over the half interval, none shorter
        JoinBackoff b = new JoinBackoff(1_000, new SplittableRandom(19));
        Set<Long> waits = new HashSet<>();
        for (int member = 0; member < 1_000; member++) {
            long w = b.after(1);
            assertTrue(w >= 1_000 && w <= 1_500, w + " ms");
            waits.add(w);
        }
        assertTrue(waits.size() > 300, waits.size() + " distinct waits of 1,000 members");
    }
}
