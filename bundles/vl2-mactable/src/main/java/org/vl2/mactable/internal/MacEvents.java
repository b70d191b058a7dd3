package org.vl2.mactable.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.MacAddress;
import org.vl2.api.MacEvent;
import org.vl2.api.MacEventListener;
import org.vl2.api.PortId;

/**
 * The MAC table's listeners and the delivery of its events. A change collects its events in a batch under the
 * writer lock and {@link #fire}s them after releasing it, on the thread that made the change; a listener that
 * throws does not stop the others, and its failures are logged at most once a minute.
 */
final class MacEvents {

    /** The component's logger: the log lines keep the name they always had. */
    private static final Logger LOG = LoggerFactory.getLogger(MacTableImpl.class);
    private static final long LISTENER_WARN_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final List<MacEventListener> listeners = new CopyOnWriteArrayList<>();
    private final LongSupplier clock;
    private final AtomicLong lastListenerWarning;
    private final LongAdder suppressedListenerFailures = new LongAdder();

    /** {@code now}: the clock's reading at the table's creation (the first failure is logged at once). */
    MacEvents(LongSupplier clock, long now) {
        this.clock = clock;
        this.lastListenerWarning = new AtomicLong(now - LISTENER_WARN_INTERVAL_NANOS);
    }

    void addListener(MacEventListener listener) {
        listeners.add(listener);
    }

    void removeListener(MacEventListener listener) {
        listeners.remove(listener);
    }

    /** A list to collect events in, or null when nobody listens (then nothing is allocated for events). */
    List<MacEvent> newBatch() {
        return listeners.isEmpty() ? null : new ArrayList<>(2);
    }

    /** Adds an event about {@code e} to a batch from {@link #newBatch()} (nothing if it is null). */
    static void add(List<MacEvent> batch, MacEvent.Type type, Entry e, PortId port, PortId previous) {
        if (batch != null) {
            batch.add(new MacEvent(type, e.network(), e.vlan(), MacAddress.of(e.mac()), port, previous));
        }
    }

    /** Delivers a batch to every listener. Call without the writer lock. */
    void fire(List<MacEvent> batch) {
        if (batch == null) {
            return;
        }
        for (MacEvent event : batch) {
            for (MacEventListener listener : listeners) {
                try {
                    listener.event(event);
                } catch (RuntimeException e) {
                    listenerFailed(listener, event, e);
                }
            }
        }
    }

    /** Logs a failing listener at most once a minute, with the number of failures not logged meanwhile. */
    private void listenerFailed(MacEventListener listener, MacEvent event, RuntimeException failure) {
        long now = clock.getAsLong();
        long last = lastListenerWarning.get();
        if (now - last >= LISTENER_WARN_INTERVAL_NANOS && lastListenerWarning.compareAndSet(last, now)) {
            LOG.warn("MAC event listener {} failed on {} ({} more failures not logged in the last minute)",
                    listener, event, suppressedListenerFailures.sumThenReset(), failure);
        } else {
            suppressedListenerFailures.increment();
        }
    }
}
