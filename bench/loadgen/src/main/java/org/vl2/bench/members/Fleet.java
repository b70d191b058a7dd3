package org.vl2.bench.members;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the workers share: every member (for frame destinations: a member sends only to MACs the switch has
 * learned, so the trickle never floods), the join pacing, and the counters the main thread prints.
 */
final class Fleet {

    final SimMember[] members;
    /** Joins may start at most this many per second over all workers; 0 = no limit. */
    private final int joinRate;
    private long joinWindow;
    private int joinsInWindow;

    final LongAdder initiations = new LongAdder();
    final LongAdder responses = new LongAdder();
    final LongAdder cookieReplies = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder badAnswers = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder[] errorsByCode = new LongAdder[16];
    final LongAdder joined = new LongAdder();
    final LongAdder up = new LongAdder();
    final LongAdder keepalives = new LongAdder();
    final LongAdder acks = new LongAdder();
    final LongAdder framesSent = new LongAdder();
    final LongAdder framesReceived = new LongAdder();
    final LongAdder unopened = new LongAdder();
    final LongAdder rekeys = new LongAdder();
    /** Members that heard nothing for 3 keepalive intervals and joined again. */
    final LongAdder silences = new LongAdder();
    final LongAdder leaves = new LongAdder();
    final LongAdder sendDrops = new LongAdder();
    final LongAdder joinLatencySumNanos = new LongAdder();
    final AtomicLong joinLatencyMaxNanos = new AtomicLong();
    /** First initiation and last first-join acknowledgement (System.nanoTime), for the join rate. */
    final AtomicLong firstJoinNanos = new AtomicLong();
    final AtomicLong lastJoinNanos = new AtomicLong();

    Fleet(int members, int joinRate) {
        this.members = new SimMember[members];
        this.joinRate = joinRate;
        for (int i = 0; i < errorsByCode.length; i++) {
            errorsByCode[i] = new LongAdder();
        }
    }

    /** Whether one more join may start now (the --join-rate budget of this second). */
    synchronized boolean mayJoin(long now) {
        if (joinRate <= 0) {
            return true;
        }
        if (now - joinWindow >= 1_000_000_000L) {
            joinWindow = now;
            joinsInWindow = 0;
        }
        return joinsInWindow++ < joinRate;
    }

    /** A member's first join completed (its first keepalive came back sealed). */
    void firstJoin(long started, long now) {
        joined.increment();
        long latency = now - started;
        joinLatencySumNanos.add(latency);
        joinLatencyMaxNanos.accumulateAndGet(latency, Math::max);
        lastJoinNanos.accumulateAndGet(now, Math::max);
    }
}
