package org.vl2.agent.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An {@link AgentClock} that stands still until the test moves it: an agent's timers (join retries, keepalives,
 * silence, rekeying, the expiry of replaced keys) fire when the test says so, never because a loaded machine was
 * slow between two of its steps. The threads still wake every tick of real time, and so see a move within one tick.
 */
final class TestClock implements AgentClock {

    /** Arbitrary origins, far from 0 (which the agent takes for "never"). */
    private final long originMillis = System.currentTimeMillis();
    private final long originNanos = System.nanoTime();
    private final AtomicLong elapsedNanos = new AtomicLong();

    @Override
    public long millis() {
        return originMillis + TimeUnit.NANOSECONDS.toMillis(elapsedNanos.get());
    }

    @Override
    public long nanos() {
        return originNanos + elapsedNanos.get();
    }

    /** Moves time on by {@code millis}. */
    void advance(long millis) {
        elapsedNanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    /** How far the test has moved time. */
    long elapsedMillis() {
        return TimeUnit.NANOSECONDS.toMillis(elapsedNanos.get());
    }
}
