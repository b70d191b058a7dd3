package org.vl2.agent.internal;

import org.vl2.crypto.Session;

/**
 * How long the agent waits for what; the tests shorten them. {@code secondMillis} is the length of a protocol
 * second (the WELCOME's keepalive interval is in seconds).
 *
 * @param retryMillis           how often the link is checked while there is none, or a send failed
 * @param silenceMillis         a switch silent this long makes the link keeper resolve and check again
 * @param unreachableHoldMillis how long an ICMP port unreachable makes the switch unreachable
 * @param tickMillis            the longest any thread waits before it looks again
 * @param joinMillis            how long stopping waits for each thread
 * @param joinRetryMillis       vl2: a JOIN (handshake) round's retry interval
 * @param slowRetryMillis       vl2: the retry interval after a retryable ERROR
 * @param rejoinMillis          vl2: at most one re-join per this long on {@code unknown-port}
 * @param clock                 what all of these are measured on ({@link AgentClock#SYSTEM}; tests drive their own)
 */
record Timing(long retryMillis, long silenceMillis, long unreachableHoldMillis, long tickMillis,
              long joinMillis, long joinRetryMillis, long slowRetryMillis, long rejoinMillis,
              long secondMillis, Session.Limits sessionLimits, AgentClock clock) {

    static final Timing DEFAULT = new Timing(5_000, 30_000, 30_000, 1_000, 2_000, 1_000, 30_000, 1_000, 1_000);

    /** With the session limits of docs/crypto.md: rekey after 120 s, reject after 180 s. */
    Timing(long retryMillis, long silenceMillis, long unreachableHoldMillis, long tickMillis, long joinMillis,
           long joinRetryMillis, long slowRetryMillis, long rejoinMillis, long secondMillis) {
        this(retryMillis, silenceMillis, unreachableHoldMillis, tickMillis, joinMillis, joinRetryMillis,
                slowRetryMillis, rejoinMillis, secondMillis, Session.Limits.DEFAULT, AgentClock.SYSTEM);
    }

    /** These timings with other session limits (tests: rekey within seconds). */
    Timing withSessionLimits(Session.Limits limits) {
        return new Timing(retryMillis, silenceMillis, unreachableHoldMillis, tickMillis, joinMillis,
                joinRetryMillis, slowRetryMillis, rejoinMillis, secondMillis, limits, clock);
    }

}
