package org.vl2.mactable.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MAC table's hot-path clock: one daemon thread per JVM (bundle class loader) stores {@link System#nanoTime()}
 * in a volatile field every {@value #TICK_MILLIS} ms, and readers read the field. A read is a plain load (~1 ns)
 * instead of a {@code clock_gettime} (26-42 ns in this VM, and a point that serialises execution, so the cache
 * misses of consecutive lookups no longer overlap). Ageing works in seconds and refreshes are rate-limited to
 * 1 ms anyway, so a reading that lags by a tick changes nothing visible.
 *
 * <p>Idle, the thread sleeps: a switch without traffic must not wake a core 1000 times a second (that was most of
 * its idle CPU). A reader marks the tick it saw ({@link #readAt}, one write per tick and reader at most); after
 * {@value #IDLE_TICKS} ticks that nobody read, the thread parks, looking once every {@value #ASLEEP_LOOK_MILLIS} ms
 * whether a reader came meanwhile. While it sleeps a reader reads {@code System.nanoTime()} itself and leaves a mark
 * ({@link #wanted}) that the thread finds at its next look: the frame that ends an idle spell does not pay for
 * waking the thread (a futex wake and an inter-processor interrupt on its way through the switch, measured at
 * up to 0.1 ms more per round trip of a sparse ping, bench/RESULTS.md), and a burst pays {@code nanoTime} per read
 * for at most that long. Periodic readers off the frame path (the ageing sweep) {@link Reading#peek() peek}
 * instead, so that they do not keep it awake.
 *
 * <p>Shared and reference-counted: every activated table {@link #acquire()}s it and {@link #release()}s it on
 * deactivation; the thread runs while at least one table holds it and is joined when the last one lets go.
 * Tables built by tests get their clock injected (a {@code TestClock}) and never start the thread.
 */
final class CoarseClock {

    static final String THREAD = "vl2-mactable-clock";
    static final long TICK_MILLIS = 1;
    /** Ticks in a row that no reader saw before the thread sleeps (100 ms: a burst's gaps keep it awake). */
    static final int IDLE_TICKS = 100;
    /** How often the sleeping thread looks for a reader's mark: a wake-up a second is no idle cost. */
    static final long ASLEEP_LOOK_MILLIS = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(CoarseClock.class);
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);
    private static final long ASLEEP_LOOK_NANOS = TimeUnit.MILLISECONDS.toNanos(ASLEEP_LOOK_MILLIS);

    private static volatile long now = System.nanoTime();
    /** The last {@link #now} a reader returned. */
    private static volatile long readAt;
    /** True while the ticker is parked for lack of readers: {@link #now} is stale then. */
    private static final AtomicBoolean ASLEEP = new AtomicBoolean();
    /** A reader came while the ticker slept: it ticks again from its next look. */
    private static volatile boolean wanted;
    /** How often the sleeping ticker looked for {@link #wanted} (tests; written by the ticker only). */
    private static volatile int looks;
    // Guarded by the class lock.
    private static int users;
    private static volatile Thread ticker;
    private static volatile boolean running;

    /** The clock as the MAC table reads it: {@link #now()} on the frame path, {@link Reading#peek()} elsewhere. */
    static final Reading READING = new Reading();

    private CoarseClock() {
    }

    /** {@link CoarseClock} as a {@link LongSupplier}, with a reading that does not wake the thread. */
    static final class Reading implements LongSupplier {

        private Reading() {
        }

        @Override
        public long getAsLong() {
            return now();
        }

        /** The same reading for a periodic task: {@code System.nanoTime()} while the thread sleeps, never waking it. */
        long peek() {
            return ASLEEP.get() ? System.nanoTime() : now;
        }
    }

    /** The last tick: {@link System#nanoTime()} at most about a millisecond ago (monotonic). */
    static long now() {
        if (ASLEEP.get()) {
            return wake();
        }
        long n = now;
        if (readAt != n) {
            readAt = n;
        }
        return n;
    }

    /** How often the sleeping ticker has looked for a reader so far (tests). */
    static int looks() {
        return looks;
    }

    /** True while the ticker sleeps for lack of readers (tests). */
    static boolean asleep() {
        return ASLEEP.get();
    }

    /**
     * A read while the ticker sleeps: a fresh reading, and a mark the ticker finds at its next look (written once,
     * not by every read of a burst). The ticker is not woken here: that costs the frame a system call.
     */
    private static long wake() {
        if (!wanted) {
            wanted = true;
        }
        return System.nanoTime();
    }

    /** Registers a user; starts the ticker thread for the first one. */
    static synchronized void acquire() {
        if (users++ == 0) {
            now = System.nanoTime();
            ASLEEP.set(false);
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
            ASLEEP.set(true); // a reader left over (a switch stopping after its table) reads System.nanoTime()
        }
    }

    private static void tick() {
        int unread = 0;
        while (running) {
            long last = now;
            now = System.nanoTime();
            unread = readAt == last ? 0 : unread + 1;
            if (unread >= IDLE_TICKS) {
                unread = 0;
                wanted = false;
                ASLEEP.set(true);
                while (running && !wanted) {
                    LockSupport.parkNanos(ASLEEP_LOOK_NANOS); // a reader's mark, or release() unparks
                    looks = looks + 1;
                }
                now = System.nanoTime();
                ASLEEP.set(false);
                continue;
            }
            LockSupport.parkNanos(TICK_NANOS);
        }
    }
}
