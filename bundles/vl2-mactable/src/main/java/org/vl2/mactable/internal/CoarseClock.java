package org.vl2.mactable.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MAC table's hot-path clock: one daemon thread per JVM (bundle class loader) stores {@link System#nanoTime()}
 * in a volatile field every {@value #TICK_MILLIS} ms, and readers read the field. A read is a plain load (~1 ns)
 * instead of a {@code clock_gettime} (26-42 ns in this VM, and a point that serialises execution, so the cache
 * misses of consecutive lookups no longer overlap). Ageing works in seconds and refreshes are rate-limited to
 * 1 ms anyway, so a reading that lags by a tick changes nothing visible.
 *
 * <p>Shared and reference-counted: every activated table {@link #acquire()}s it and {@link #release()}s it on
 * deactivation; the thread runs while at least one table holds it and is joined when the last one lets go.
 * Tables built by tests get their clock injected (a {@code TestClock}) and never start the thread.
 */
final class CoarseClock {

    static final String THREAD = "vl2-mactable-clock";
    static final long TICK_MILLIS = 1;

    private static final Logger LOG = LoggerFactory.getLogger(CoarseClock.class);
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);

    private static volatile long now = System.nanoTime();
    // Guarded by the class lock.
    private static int users;
    private static Thread ticker;
    private static volatile boolean running;

    private CoarseClock() {
    }

    /** The last tick: {@link System#nanoTime()} at most about a millisecond ago (monotonic). */
    static long now() {
        return now;
    }

    /** Registers a user; starts the ticker thread for the first one. */
    static synchronized void acquire() {
        if (users++ == 0) {
            now = System.nanoTime();
            running = true;
            Thread t = new Thread(CoarseClock::tick, THREAD);
            t.setDaemon(true);
            ticker = t;
            t.start();
        }
    }

    /** Unregisters a user; the last one stops the ticker thread and waits (up to 5 s) for it to end. */
    static synchronized void release() {
        if (users == 0) {
            throw new IllegalStateException("coarse clock released more often than acquired");
        }
        if (--users == 0) {
            running = false;
            Thread t = ticker;
            ticker = null;
            LockSupport.unpark(t);
            try {
                t.join(5000);
                if (t.isAlive()) {
                    LOG.warn("MAC table clock thread did not stop within 5 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void tick() {
        while (running) {
            now = System.nanoTime();
            LockSupport.parkNanos(TICK_NANOS);
        }
    }
}
