package org.vl2.agent.internal;

import java.util.random.RandomGenerator;

/**
 * vl2 mode: how long a join round waits before its next JOIN (encrypted: handshake). The wait doubles with each
 * unanswered attempt, from the retry interval up to {@link #MAX_DOUBLINGS} doublings of it (1 s .. 8 s by
 * default), and each wait is lengthened by a random part of up to half of it. A switch that restarts or recovers
 * from an outage meets its members' JOINs spread over time rather than all of them every second in step (10,000
 * members at once); an agent whose switch is back re-joins within the capped wait. An attempt refused by an ICMP port
 * unreachable (the switch's host is up, its process is not) counts as the first: an agent re-joins within a retry
 * interval of its switch's restart, and the kernel's ICMP rate limit spreads a crowd. A WELCOME ends the round: the
 * next round (a rekey, a re-join) starts again from the retry interval. Control thread only.
 */
final class JoinBackoff {

    /** The wait stops growing after this many doublings of the retry interval. */
    static final int MAX_DOUBLINGS = 3;

    private final long retryMillis;
    private final RandomGenerator random;

    /** {@code random}: the jitter's source ({@link java.util.SplittableRandom} in the agent). */
    JoinBackoff(long retryMillis, RandomGenerator random) {
        this.retryMillis = retryMillis;
        this.random = random;
    }

    /** The wait after the round's {@code sent}-th attempt (1, 2, ...; 0 when none could be sent, as 1). */
    long after(int sent) {
        long wait = capped(sent);
        return wait + random.nextLong(wait / 2 + 1);
    }

    /** The wait after the {@code sent}-th attempt before its jitter: 1, 2, 4, 8, 8, ... retry intervals. */
    long capped(int sent) {
        return retryMillis << Math.min(Math.max(sent, 1) - 1, MAX_DOUBLINGS);
    }
}
