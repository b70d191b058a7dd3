package org.vl2.ipam;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one thread that writes lease files ({@link LeaseTable#load(Ipv4Pool, java.nio.file.Path, java.time.Clock,
 * Duration, Executor)}), so that a DHCP exchange or a join on a receive thread never waits for an fsync. One
 * thread for all tables: writes are rare and small, and one writer keeps a slow disk from piling up threads. The
 * thread exists only while there is something to write.
 *
 * <p>{@link #close} waits for what is queued; the owner then calls {@link LeaseTable#flush()} on its tables, and
 * any change after that is written by the thread making it (a closed writer refuses work), so nothing is lost.
 */
public final class LeaseWriter implements Executor, AutoCloseable {

    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    private final ThreadPoolExecutor thread;

    /** @param name the writer thread's name */
    public LeaseWriter(String name) {
        thread = new ThreadPoolExecutor(1, 1, 5, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        thread.allowCoreThreadTimeOut(true);
    }

    /** Queues a write; throws {@link java.util.concurrent.RejectedExecutionException} once closed. */
    @Override
    public void execute(Runnable write) {
        thread.execute(write);
    }

    /**
     * Refuses further writes and waits up to {@code timeout} for the queued ones.
     *
     * @return whether all queued writes finished in time
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
