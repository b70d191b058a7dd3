package org.vl2.mactable.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** A nanosecond clock the test moves by hand. Starts near the top of the long range to catch overflow bugs. */
final class TestClock implements LongSupplier {

    static final long START = Long.MAX_VALUE - TimeUnit.SECONDS.toNanos(100);

    private final AtomicLong now = new AtomicLong(START);

    @Override
    public long getAsLong() {
        return now.get();
    }

    long advanceSeconds(long seconds) {
        return now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }

    long advanceMillis(long millis) {
        return now.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    long advanceNanos(long nanos) {
        return now.addAndGet(nanos);
    }
}
