package org.vl2.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * A prototype of a coarse monotonic clock for the hot path: a daemon thread stores {@link System#nanoTime()} in a
 * volatile field every millisecond, readers read the field. A read is a plain load (~1 ns) instead of a
 * {@code clock_gettime} (tens of ns in a VM, and an ordering point that keeps the CPU from overlapping the cache
 * misses of consecutive lookups). Good enough for MAC ageing (seconds) and port idle timeouts; the MAC table's
 * refresh granularity is 1 ms anyway. Only used by benchmarks, to show what the switch would gain.
 */
public final class CoarseClock implements LongSupplier, AutoCloseable {

    static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private volatile long now = System.nanoTime();
    private volatile boolean running = true;
    private final Thread ticker;

    public CoarseClock() {
        ticker = new Thread(() -> {
            while (running) {
                now = System.nanoTime();
                LockSupport.parkNanos(TICK_NANOS);
            }
        }, "coarse-clock");
        ticker.setDaemon(true);
        ticker.start();
    }

    @Override
    public long getAsLong() {
        return now;
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(ticker);
    }
}
