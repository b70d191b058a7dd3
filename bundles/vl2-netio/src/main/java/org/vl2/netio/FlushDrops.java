package org.vl2.netio;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Datagrams an endpoint accepted but dropped when it flushed (full send buffer, unreachable destination): counted,
 * and a log line due at most once a minute, so a congested port costs one line, not one per datagram.
 */
public final class FlushDrops {

    private static final long REPORT_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final LongAdder total = new LongAdder();
    private long reported;
    private long lastReport;
    private boolean everReported;

    /** Counts {@code dropped} datagrams. */
    public void add(int dropped) {
        total.add(dropped);
    }

    /** Every drop counted so far. Any thread. */
    public long total() {
        return total.sum();
    }

    /**
     * Drops since the last report if a report is due now (the first drops, or a minute after the last report), else
     * 0. Any thread: the receive threads of a socket group share one instance and each flushes its own socket. Called
     * only after a flush dropped something, so the lock is not on the forwarding path.
     */
    public synchronized long due() {
        long now = System.nanoTime();
        long sum = total.sum();
        if (sum == reported || everReported && now - lastReport < REPORT_NANOS) {
            return 0;
        }
        everReported = true;
        lastReport = now;
        long since = sum - reported;
        reported = sum;
        return since;
    }
}
