package org.vl2.agent.internal;

/**
 * Where the agent's timers read the time: join retries and their back-off, keepalives, silence, rekeying, the
 * expiry of replaced keys, a finished round's grace, the link's checks and its port-unreachable hold. One clock for
 * all of them, so that they agree with each other and with the session keys' age; the data path seals and opens
 * with it too, since a key's age and its expiry must be read on the same clock. Production uses {@link #SYSTEM};
 * tests drive their own so that a timer fires when the test moves time on, not when a loaded machine lets it.
 * Round-trip measurements and waits for threads stay on the real clock: they measure work, not protocol time.
 */
interface AgentClock {

    /** Milliseconds, for the timers; only differences mean anything. */
    long millis();

    /** Nanoseconds, for the session keys' age ({@link org.vl2.crypto.Session}); only differences mean anything. */
    long nanos();

    /**
     * The system's monotonic clock. Not the wall clock: a timer due at a wall-clock time waits as long as the clock
     * is set back (an NTP step, a resumed VM, {@code date -s}), so a step back by an hour held every JOIN retry and
     * keepalive for an hour and the switch dropped the port as idle. The millis start at the wall clock's when the
     * class loads (far from 0, which the agent takes for "never") and then follow {@link System#nanoTime}.
     */
    AgentClock SYSTEM = new AgentClock() {
        private final long originMillis = System.currentTimeMillis();
        private final long originNanos = System.nanoTime();

        @Override
        public long millis() {
            return originMillis + (System.nanoTime() - originNanos) / 1_000_000L;
        }

        @Override
        public long nanos() {
            return System.nanoTime();
        }
    };
}
