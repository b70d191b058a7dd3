package org.vl2.ipam;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one thread that writes lease files ({@link LeaseTable#load(Ipv4Pool, java.nio.file.Path, java.time.Clock,
 * Duration, Executor)}), so that a DHCP exchange or a join on a receive thread never waits for an fsync. One
 * thread for all tables: writes are small, and one writer keeps a slow disk from piling up threads. The thread
 * exists only while there is something to write.
 *
 * <p>A write runs {@code coalesce} after the change that queued it: a table queues one write at a time and every
 * change until it runs goes into it, so a table is written at most once per interval however fast it changes (a
 * join storm of 10,000 members rewrote the whole file for nearly every join: O(n) per change). The price is the
 * interval: a crash (not a stop) loses the changes of at most the last {@code coalesce}.
 *
 * <p>{@link #close} drops the writes still waiting for their time and waits for the one running; the owner then
 * calls {@link LeaseTable#flush()} on its tables, which writes what those would have, and any change after that is
 * written by the thread making it (a closed writer refuses work), so a stop loses nothing.
 */
public final class LeaseWriter implements Executor, AutoCloseable {

    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    private final ScheduledThreadPoolExecutor thread;
    private final long delayNanos;

    /** A writer that writes as soon as it can (no coalescing beyond what queues while a write runs). */
    public LeaseWriter(String name) {
        this(name, Duration.ZERO);
    }

    /**
     * @param name     the writer thread's name
     * @param coalesce how long a write waits for more changes to take along (at most this much is lost in a crash)
     */
    public LeaseWriter(String name, Duration coalesce) {
        if (coalesce.isNegative()) {
            throw new IllegalArgumentException("negative coalescing interval " + coalesce);
        }
        delayNanos = coalesce.toNanos();
        thread = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        thread.setKeepAliveTime(5, TimeUnit.SECONDS);
        thread.allowCoreThreadTimeOut(true);
        // close(): writes waiting for their time are dropped; the owner flushes the tables at once instead
        thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        thread.setRemoveOnCancelPolicy(true);
    }

    /** Queues a write to run after the coalescing interval; throws {@link java.util.concurrent.RejectedExecutionException} once closed. */
    @Override
    public void execute(Runnable write) {
        thread.schedule(write, delayNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Refuses further writes, drops those waiting for their time and waits up to {@code timeout} for the one
     * running. The owner flushes its tables after this.
     *
     * @return whether the running write finished in time
     */
    public boolean close(Duration timeout) {
        thread.shutdown();
        try {
            return thread.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** {@link #close(Duration)} with 10 s: a lease file write takes milliseconds, even an fsync on a busy disk. */
    @Override
    public void close() {
        close(CLOSE_WAIT);
    }
}
