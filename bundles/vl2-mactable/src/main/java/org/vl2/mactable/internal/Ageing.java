package org.vl2.mactable.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.MacEvent;

/**
 * Ageing of the MAC table: a dynamic entry not seen for {@code ageing.seconds} is gone. Lookups ignore it at once
 * (they check the time themselves), and the sweep removes it (event {@code AGED}) within about a sweep period.
 * The sweep scans the tables without the writer lock and takes the lock only to remove what expired, per batch;
 * it skips scanning until the earliest possible expiry. An activated table sweeps on its own thread
 * ({@link #start}); a table built by tests has none and is swept by calling {@link #sweep(long)}.
 */
final class Ageing {

    static final String THREAD = "vl2-mactable-ageing";

    /** The component's logger: the log lines keep the name they always had. */
    private static final Logger LOG = LoggerFactory.getLogger(MacTableImpl.class);
    /** The sweep removes expired entries in batches of this many, taking the lock once per batch. */
    private static final int SWEEP_BATCH = 256;
    private static final long MIN_SWEEP_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MAX_SWEEP_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ForwardingDatabase fdb;
    /** No entry can expire before this clock reading; the periodic sweep does nothing until then. */
    private volatile long nextExpiry;

    // Lifecycle (DS calls activate, modified and deactivate one at a time).
    private ScheduledExecutorService executor;
    private ScheduledFuture<?> task;
    private long sweepPeriodNanos;

    /** {@code now}: the clock's reading at the table's creation. */
    Ageing(ForwardingDatabase fdb, long now) {
        this.fdb = fdb;
        this.nextExpiry = now;
    }

    /** Periodic ageing: sweeps unless no entry can have expired yet. Called by the ageing thread. */
    void expire() {
        // a periodic reading must not keep the idle switch's clock thread ticking
        long now = fdb.clock instanceof CoarseClock.Reading r ? r.peek() : fdb.clock.getAsLong();
        if (now - nextExpiry >= 0) {
            sweep(now);
        }
    }

    /** The next periodic {@link #expire()} scans again from {@code now} on (the ageing time may be shorter now). */
    void rescan(long now) {
        nextExpiry = now;
    }

    /**
     * Removes every dynamic entry that has not been seen for the ageing time at {@code now}. Scans without the
     * lock; takes it per batch of expired entries.
     *
     * @return how many entries were removed
     */
    int sweep(long now) {
        long ageing = fdb.settings.ageingNanos;
        if (ageing == 0) {
            return 0;
        }
        long earliest = now + ageing;   // anything learned from now on expires no earlier
        int removed = 0;
        List<Entry> batch = new ArrayList<>();
        for (NetworkTable t : fdb.networks.tables()) {
            if (t == null) {
                continue;
            }
            NetworkTable.Slots sl = t.slots();
            for (int i = 0, n = sl.length(); i < n; i++) {
                Entry e = sl.live(i);
                if (e == null || e.isStatic) {
                    continue;
                }
                long expiry = sl.seen(i) + ageing;
                if (now - expiry >= 0) {
                    batch.add(e);
                    if (batch.size() == SWEEP_BATCH) {
                        removed += expire(batch, now);
                        batch.clear();
                    }
                } else if (expiry - earliest < 0) {
                    earliest = expiry;
                }
            }
        }
        removed += expire(batch, now);
        nextExpiry = earliest;
        return removed;
    }

    private int expire(List<Entry> batch, long now) {
        if (batch.isEmpty()) {
            return 0;
        }
        List<MacEvent> events = fdb.events.newBatch();
        int n = 0;
        fdb.lock.lock();
        try {
            Settings s = fdb.settings;
            for (Entry e : batch) {
                if (e.removed) {
                    continue;
                }
                // hide it from lock-free refreshes, then re-read the time: see NetworkTable's memory model
                if (!s.expired(e.table.hide(e), now)) {
                    e.table.unhide(e);  // refreshed meanwhile
                    continue;
                }
                fdb.removeAged(e, events);
                n++;
            }
        } finally {
            fdb.lock.unlock();
        }
        fdb.events.fire(events);
        return n;
    }

    /** The sweep period for an ageing time: a tenth of it, between 100 ms and 1 s. */
    static long sweepPeriodNanos(long ageingNanos) {
        return Math.max(MIN_SWEEP_PERIOD_NANOS, Math.min(MAX_SWEEP_PERIOD_NANOS, ageingNanos / 10));
    }

    /** Starts the ageing thread and sweeps periodically for {@code s}. */
    void start(Settings s) {
        executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, THREAD);
            t.setDaemon(true);
            return t;
        });
        schedule(s);
    }

    /** Follows a new configuration: another sweep period, or none for ageing 0. Nothing without {@link #start}. */
    void schedule(Settings s) {
        if (executor == null) {
            return;
        }
        long period = s.ageingNanos == 0 ? 0 : sweepPeriodNanos(s.ageingNanos);
        if (task != null && period == sweepPeriodNanos) {
            return;
        }
        if (task != null) {
            task.cancel(false);
            task = null;
        }
        sweepPeriodNanos = period;
        if (period != 0) {
            task = executor.scheduleWithFixedDelay(this::runAgeing, period, period, TimeUnit.NANOSECONDS);
        }
    }

    /** Stops the ageing thread and waits (5 s at most) for it to end. Nothing if it is not running. */
    void stop() {
        if (executor == null) {
            return;
        }
        executor.shutdownNow();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("MAC table ageing thread did not stop within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor = null;
        task = null;
    }

    private void runAgeing() {
        try {
            expire();
        } catch (RuntimeException e) {
            LOG.error("MAC table ageing failed", e);   // keep the schedule alive
        }
    }
}
