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

    /** The system's clocks. */
    AgentClock SYSTEM = new AgentClock() {
        @Override
        public long millis() {
            return System.currentTimeMillis();
        }

        @Override
        public long nanos() {
            return System.nanoTime();
        }
    };
}
