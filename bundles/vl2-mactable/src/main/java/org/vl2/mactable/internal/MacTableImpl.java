package org.vl2.mactable.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.MacEvent;
import org.vl2.api.MacEventListener;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.MacTableService;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.PortId;

/**
 * The MAC table (forwarding database) of the switch: learning with move detection, exact ageing, a capacity
 * with fair eviction, an optional per-port limit and static entries, keyed by (network, VLAN, MAC).
 *
 * <h2>Concurrency</h2>
 * <ul>
 *   <li>{@link #lookup} and the refresh of a known station by {@link #learn} take no lock and allocate
 *       nothing: an index of networks ({@link NetworkIndex}, copy on write), then an open-addressing table per
 *       network ({@link NetworkTable}) whose keys, last-seen times and ports are inline in arrays (no
 *       {@link Entry} is read), then a volatile write of the slot's last-seen time (skipped when it is less than
 *       {@value #REFRESH_GRANULARITY_NANOS} ns old, so hot stations do not bounce their cache line between
 *       cores). The memory-model argument is in {@link NetworkTable}.</li>
 *   <li>Time comes from a {@link CoarseClock} (a volatile field a shared thread updates every millisecond), not
 *       from {@link System#nanoTime()} per call; tests inject their own clock.</li>
 *   <li>Everything else (new entries, moves, removals, ageing, eviction, reconfiguration) holds one writer
 *       lock. Listener events are collected under the lock and delivered after it is released, on the thread
 *       that made the change; events from different threads may therefore arrive out of order.</li>
 *   <li>A lookup racing a removal may still return the removed entry's port once; a refresh racing a removal
 *       or a rebuild is detected and redone under the lock.</li>
 * </ul>
 *
 * <h2>Ageing</h2>
 * A dynamic entry not seen for {@code ageing.seconds} is gone: lookups ignore it at once, and the ageing
 * thread removes it (event {@code AGED}) within about a sweep period. The sweep scans the tables without the
 * lock and takes the lock only to remove what expired; it skips scanning until the earliest possible expiry.
 */
@Component(name = MacTableImpl.PID, configurationPid = MacTableImpl.PID,
        service = {MacTableService.class, MacTableAdminService.class})
@Designate(ocd = MacTableImpl.Config.class)
public final class MacTableImpl implements MacTableAdminService {

    static final String PID = "org.vl2.mactable";
    static final String AGEING_THREAD = "vl2-mactable-ageing";

    @ObjectClassDefinition(id = PID, name = "vl2 MAC table",
            description = "Forwarding database of the vl2 switch: learned and static MAC entries per network and VLAN.")
    public @interface Config {

        @AttributeDefinition(name = "Ageing time (seconds)", min = "0", max = "1000000",
                description = "Dynamic entries not seen for this long are removed; 0 = never age. Default 300, "
                        + "as Linux bridges and Open vSwitch.")
        long ageing_seconds() default Settings.DEFAULT_AGEING_SECONDS;

        @AttributeDefinition(name = "Capacity", min = "16", max = "16777216",
                description = "Maximum entries (dynamic and static). When full, learning a new station evicts an "
                        + "entry of the port that holds the most. Default 8192, as Open vSwitch.")
        int capacity() default Settings.DEFAULT_CAPACITY;

        @AttributeDefinition(name = "Per-port limit", min = "0",
                description = "Maximum dynamic entries a single port may hold; 0 = no limit. Stations beyond it "
                        + "are not learned.")
        int per_port_limit() default Settings.DEFAULT_PER_PORT_LIMIT;
    }

    private static final Logger LOG = LoggerFactory.getLogger(MacTableImpl.class);
    /** Contract with the launchers: the one ERROR saying why this component does not start (docs/operating.md). */
    private static final Logger FATAL = LoggerFactory.getLogger("org.vl2.fatal");
    private static final int VLAN_MASK = 0xFFF;
    /** A refresh rewrites the last-seen time only when it is older than this (1 ms). */
    static final long REFRESH_GRANULARITY_NANOS = 1_000_000L;
    /** Eviction removes the least recently seen of this many oldest entries of the fullest port. */
    static final int EVICTION_SAMPLE = 8;
    /** The sweep removes expired entries in batches of this many, taking the lock once per batch. */
    private static final int SWEEP_BATCH = 256;
    private static final long MIN_SWEEP_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MAX_SWEEP_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long LISTENER_WARN_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final LongSupplier clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final PortIndex ports = new PortIndex();   // guarded by lock
    private final List<MacEventListener> listeners = new CopyOnWriteArrayList<>();

    private volatile Settings settings;
    private volatile NetworkIndex networks = NetworkIndex.EMPTY;  // replaced under lock
    private volatile int size;          // written under lock
    private volatile int staticSize;    // written under lock
    /** No entry can expire before this clock reading; the periodic sweep does nothing until then. */
    private volatile long nextExpiry;

    private final LongAdder learned = new LongAdder();
    private final LongAdder moved = new LongAdder();
    private final LongAdder aged = new LongAdder();
    private final LongAdder evicted = new LongAdder();
    private final LongAdder refused = new LongAdder();

    private final AtomicLong lastListenerWarning;
    private final LongAdder suppressedListenerFailures = new LongAdder();

    // Lifecycle (DS calls activate, modified and deactivate one at a time).
    private ScheduledExecutorService ageingExecutor;
    private ScheduledFuture<?> ageingTask;
    private long sweepPeriodNanos;
    private boolean clockAcquired;

    /**
     * DS constructor: validates the configuration and starts the ageing thread.
     *
     * @throws IllegalArgumentException naming the bad property, so the component does not start
     */
    @Activate
    public MacTableImpl(Config config) {
        this(validated(config), clock());
        clockAcquired = true;
        ageingExecutor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, AGEING_THREAD);
            t.setDaemon(true);
            return t;
        });
        scheduleAgeing(settings);
        LOG.info("MAC table started ({})", settings);
    }

    /**
     * For tests and embedding: no ageing thread (call {@link #sweep(long)}), time from {@code nanoClock}
     * (nanoseconds, monotonic; read on every learn and every lookup of a dynamic entry, so it should be cheap).
     */
    MacTableImpl(Settings settings, LongSupplier nanoClock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(nanoClock, "nanoClock");
        long now = nanoClock.getAsLong();
        this.nextExpiry = now;
        this.lastListenerWarning = new AtomicLong(now - LISTENER_WARN_INTERVAL_NANOS);
    }

    /** The shared coarse clock, acquired for a DS-activated table (released by {@link #deactivate()}). */
    private static LongSupplier clock() {
        CoarseClock.acquire();
        return CoarseClock::now;
    }

    private static Settings validated(Config config) {
        try {
            return Settings.of(config);
        } catch (IllegalArgumentException e) {
            FATAL.error("{}; the MAC table does not start", e.getMessage());
            throw e;
        }
    }

    @Modified
    void modified(Config config) {
        Settings next;
        try {
            next = Settings.of(config);
        } catch (IllegalArgumentException e) {
            LOG.error("{}; keeping {}", e.getMessage(), settings);
            return;
        }
        reconfigure(next);
        scheduleAgeing(next);
        LOG.info("MAC table reconfigured ({})", next);
    }

    @Deactivate
    void deactivate() {
        if (ageingExecutor != null) {
            ageingExecutor.shutdownNow();
            try {
                if (!ageingExecutor.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("MAC table ageing thread did not stop within 5 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ageingExecutor = null;
            ageingTask = null;
        }
        if (clockAcquired) {
            clockAcquired = false;
            CoarseClock.release();
        }
        LOG.info("MAC table stopped ({} entries dropped)", size);
    }

    @Reference(name = "listener", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            unbind = "removeListener")
    void addListener(MacEventListener listener) {
        listeners.add(listener);
    }

    void removeListener(MacEventListener listener) {
        listeners.remove(listener);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Hot path

    @Override
    public PortId lookup(long network, int vlan, long mac) {
        if (((mac & ~MacAddress.MASK) | (vlan & ~VLAN_MASK)) != 0) {
            return null;
        }
        NetworkTable t = networks.get(network);
        return t == null ? null : t.lookup(Entry.key(vlan, mac), settings.ageingNanos, clock);
    }

    @Override
    public LearnResult learn(long network, int vlan, long mac, PortId port) {
        checkVlan(vlan);
        if ((mac & ~MacAddress.MASK) != 0) {
            throw new IllegalArgumentException("not a 48-bit MAC address: 0x" + Long.toHexString(mac));
        }
        checkPort(port);
        if (MacAddress.isMulticast(mac)) {
            return LearnResult.REFUSED;     // a group address is never a source
        }
        long key = Entry.key(vlan, mac);
        long now = clock.getAsLong();
        NetworkTable t = networks.get(network);
        if (t != null) {
            // Lock-free refresh of a known station on its port: touches only the slot's key, time and port.
            NetworkTable.Slots sl = t.slots();
            int i = t.find(sl, key);
            if (i >= 0) {
                long live = key | NetworkTable.LIVE;
                long k = sl.keyWord(i);
                if (k == (live | NetworkTable.STATIC)) {
                    return LearnResult.STATIC;
                }
                PortId current = sl.ports[i];
                long seen = sl.seen(i);
                if (k == live && current != null && (current == port || current.equals(port))
                        && !settings.expired(seen, now)) {
                    if (now - seen < REFRESH_GRANULARITY_NANOS) {
                        return LearnResult.REFRESHED;
                    }
                    sl.setSeenVolatile(i, now);
                    // Dekker check against removal / ageing (tombstone) and rebuilds (retired): see NetworkTable
                    if (sl.keyWordVolatile(i) == live && !sl.retired) {
                        return LearnResult.REFRESHED;
                    }
                }
                // removed, moved, replaced or rebuilt meanwhile: learn it again under the lock
            }
        }
        List<MacEvent> events = newEvents();
        LearnResult result;
        lock.lock();
        try {
            result = learnLocked(network, key, port, now, events);
        } finally {
            lock.unlock();
        }
        fire(events);
        return result;
    }

    private LearnResult learnLocked(long network, long key, PortId port, long now, List<MacEvent> events) {
        Settings s = settings;
        NetworkTable t = networks.get(network);
        Entry e = t == null ? null : t.get(key);
        if (e != null) {
            if (e.isStatic) {
                return LearnResult.STATIC;
            }
            if (s.expired(t.lastSeen(e), now)) {
                removeAged(e, events);  // gone for good: the station is new again
            } else if (e.port.equals(port)) {
                t.setLastSeen(e, now);
                return LearnResult.REFRESHED;
            } else {
                if (atPortLimit(s, port)) {
                    refused.increment();
                    return LearnResult.REFUSED;     // the entry stays where it was, and ages out if stale
                }
                PortId previous = e.port;
                ports.remove(e);
                t.setPort(e, port, now);
                e.moves++;
                ports.add(e, port);
                moved.increment();
                event(events, MacEvent.Type.MOVED, e, port, previous);
                return LearnResult.MOVED;
            }
        }
        if (atPortLimit(s, port)) {
            refused.increment();
            return LearnResult.REFUSED;
        }
        while (size >= s.capacity) {
            if (!evictOne(s, now, events, port)) {
                refused.increment();
                return LearnResult.REFUSED;
            }
        }
        t = tableFor(network);     // after evictions: they may have dropped an emptied network
        Entry created = new Entry(key, t, port, false);
        t.insert(created, now);
        ports.add(created, port);
        size++;
        learned.increment();
        event(events, MacEvent.Type.LEARNED, created, port, null);
        return LearnResult.LEARNED;
    }

    private boolean atPortLimit(Settings s, PortId port) {
        return s.perPortLimit > 0 && ports.count(port) >= s.perPortLimit;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Read side

    @Override
    public Optional<MacEntry> entry(long network, int vlan, MacAddress mac) {
        Objects.requireNonNull(mac, "mac");
        if ((vlan & ~VLAN_MASK) != 0) {
            return Optional.empty();
        }
        NetworkTable t = networks.get(network);
        if (t == null) {
            return Optional.empty();
        }
        NetworkTable.Slots sl = t.slots();
        int i = t.find(sl, Entry.key(vlan, mac.toLong()));
        Entry e = i < 0 ? null : sl.live(i);
        long now = clock.getAsLong();
        if (e == null || (!e.isStatic && settings.expired(sl.seen(i), now))) {
            return Optional.empty();
        }
        return Optional.of(snapshot(e, sl.seen(i), now));
    }

    @Override
    public List<MacEntry> entries() {
        long now = clock.getAsLong();
        Settings s = settings;
        List<MacEntry> out = new ArrayList<>(size);
        for (NetworkTable t : networks.tables()) {
            if (t == null) {
                continue;
            }
            NetworkTable.Slots sl = t.slots();
            for (int i = 0, n = sl.length(); i < n; i++) {
                Entry e = sl.live(i);
                if (e != null && (e.isStatic || !s.expired(sl.seen(i), now))) {
                    out.add(snapshot(e, sl.seen(i), now));
                }
            }
        }
        return out;
    }

    private static MacEntry snapshot(Entry e, long lastSeen, long now) {
        long age = e.isStatic ? 0 : Math.max(0, TimeUnit.NANOSECONDS.toMillis(now - lastSeen));
        return new MacEntry(e.network(), e.vlan(), MacAddress.of(e.mac()), e.port, e.isStatic, age, e.moves);
    }

    /** Entries in the table, static ones included; entries already aged count until the sweep removes them. */
    @Override
    public int size() {
        return size;
    }

    @Override
    public MacTableStatistics statistics() {
        Settings s = settings;
        return new MacTableStatistics(size, staticSize, s.capacity, s.perPortLimit, s.ageingSeconds,
                learned.sum(), moved.sum(), aged.sum(), evicted.sum(), refused.sum());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Administration

    @Override
    public void addStatic(long network, int vlan, MacAddress mac, PortId port) {
        checkVlan(vlan);
        Objects.requireNonNull(mac, "mac");
        checkPort(port);
        if (mac.isMulticast()) {
            throw new IllegalArgumentException("static MAC entries must be unicast: " + mac
                    + " is a group (multicast) address");
        }
        long key = Entry.key(vlan, mac.toLong());
        List<MacEvent> events = newEvents();
        lock.lock();
        try {
            long now = clock.getAsLong();
            NetworkTable t = networks.get(network);
            Entry old = t == null ? null : t.get(key);
            if (old != null) {
                Entry replacement = new Entry(key, t, port, true);
                t.replace(old, replacement, now);
                old.removed = true;
                if (old.isStatic) {
                    return;
                }
                ports.remove(old);
                staticSize++;
                return;
            }
            Settings s = settings;
            while (size >= s.capacity) {
                if (!evictOne(s, now, events, null)) {
                    throw new IllegalStateException("MAC table is full (capacity " + s.capacity + ", " + staticSize
                            + " static entries): cannot add a static entry for " + mac);
                }
            }
            t = tableFor(network);
            t.insert(new Entry(key, t, port, true), now);
            size++;
            staticSize++;
        } finally {
            lock.unlock();
            fire(events);
        }
    }

    @Override
    public boolean remove(long network, int vlan, MacAddress mac) {
        Objects.requireNonNull(mac, "mac");
        if ((vlan & ~VLAN_MASK) != 0) {
            return false;
        }
        lock.lock();
        try {
            NetworkTable t = networks.get(network);
            Entry e = t == null ? null : t.get(Entry.key(vlan, mac.toLong()));
            if (e == null) {
                return false;
            }
            unlink(e);
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int flush() {
        lock.lock();
        try {
            int n = 0;
            for (PortIndex.PortRecord r : ports.records()) {
                n += flush(r);
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int flushPort(PortId port) {
        Objects.requireNonNull(port, "port");
        lock.lock();
        try {
            PortIndex.PortRecord r = ports.get(port);
            return r == null ? 0 : flush(r);
        } finally {
            lock.unlock();
        }
    }

    private int flush(PortIndex.PortRecord r) {
        int n = 0;
        while (r.oldest != null) {
            unlink(r.oldest);
            n++;
        }
        return n;
    }

    @Override
    public int flushMac(MacAddress mac) {
        long bits = Objects.requireNonNull(mac, "mac").toLong();
        lock.lock();
        try {
            List<Entry> victims = new ArrayList<>();
            for (NetworkTable t : networks.tables()) {
                if (t == null) {
                    continue;
                }
                if (t.size() <= VLAN_MASK + 1) {
                    NetworkTable.Slots sl = t.slots();
                    for (int i = 0, n = sl.length(); i < n; i++) {
                        Entry e = sl.live(i);
                        if (e != null && !e.isStatic && e.mac() == bits) {
                            victims.add(e);
                        }
                    }
                } else {
                    for (int vlan = 0; vlan <= VLAN_MASK; vlan++) {
                        Entry e = t.get(Entry.key(vlan, bits));
                        if (e != null && !e.isStatic) {
                            victims.add(e);
                        }
                    }
                }
            }
            victims.forEach(this::unlink);
            return victims.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Applies a new (valid) configuration: lowering the per-port limit trims the ports above it, lowering the
     * capacity evicts fairly down to it. Static entries are kept even if they alone exceed the capacity.
     */
    void reconfigure(Settings next) {
        List<MacEvent> events = newEvents();
        lock.lock();
        try {
            settings = next;
            nextExpiry = clock.getAsLong();     // the ageing time may be shorter now
            long now = clock.getAsLong();
            if (next.perPortLimit > 0) {
                for (PortIndex.PortRecord r : ports.records()) {
                    while (r.count > next.perPortLimit) {
                        evictFrom(r, next, now, events);
                    }
                }
            }
            while (size > next.capacity && evictOne(next, now, events, null)) {
                // evict from the fullest port, one at a time
            }
            if (size > next.capacity) {
                LOG.warn("MAC table holds {} static entries, more than its capacity {}: learning is refused until "
                        + "some are removed", staticSize, next.capacity);
            }
        } finally {
            lock.unlock();
        }
        fire(events);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Ageing

    /** Periodic ageing: sweeps unless no entry can have expired yet. Called by the ageing thread. */
    void expire() {
        long now = clock.getAsLong();
        if (now - nextExpiry >= 0) {
            sweep(now);
        }
    }

    /**
     * Removes every dynamic entry that has not been seen for the ageing time at {@code now}. Scans without the
     * lock; takes it per batch of expired entries.
     *
     * @return how many entries were removed
     */
    int sweep(long now) {
        long ageing = settings.ageingNanos;
        if (ageing == 0) {
            return 0;
        }
        long earliest = now + ageing;   // anything learned from now on expires no earlier
        int removed = 0;
        List<Entry> batch = new ArrayList<>();
        for (NetworkTable t : networks.tables()) {
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
        List<MacEvent> events = newEvents();
        int n = 0;
        lock.lock();
        try {
            Settings s = settings;
            for (Entry e : batch) {
                if (e.removed) {
                    continue;
                }
                // hide it from lock-free refreshes, then re-read the time: see NetworkTable's memory model
                if (!s.expired(e.table.hide(e), now)) {
                    e.table.unhide(e);  // refreshed meanwhile
                    continue;
                }
                removeAged(e, events);
                n++;
            }
        } finally {
            lock.unlock();
        }
        fire(events);
        return n;
    }

    /** The sweep period for an ageing time: a tenth of it, between 100 ms and 1 s. */
    static long sweepPeriodNanos(long ageingNanos) {
        return Math.max(MIN_SWEEP_PERIOD_NANOS, Math.min(MAX_SWEEP_PERIOD_NANOS, ageingNanos / 10));
    }

    private void scheduleAgeing(Settings s) {
        if (ageingExecutor == null) {
            return;
        }
        long period = s.ageingNanos == 0 ? 0 : sweepPeriodNanos(s.ageingNanos);
        if (ageingTask != null && period == sweepPeriodNanos) {
            return;
        }
        if (ageingTask != null) {
            ageingTask.cancel(false);
            ageingTask = null;
        }
        sweepPeriodNanos = period;
        if (period != 0) {
            ageingTask = ageingExecutor.scheduleWithFixedDelay(this::runAgeing, period, period,
                    TimeUnit.NANOSECONDS);
        }
    }

    private void runAgeing() {
        try {
            expire();
        } catch (RuntimeException e) {
            LOG.error("MAC table ageing failed", e);   // keep the schedule alive
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals (writer lock held)

    private NetworkTable tableFor(long network) {
        NetworkTable t = networks.get(network);
        if (t == null) {
            t = new NetworkTable(network);
            networks = networks.with(t);
        }
        return t;
    }

    /** Removes an entry from its table and its port, and drops the network once it is empty. */
    private void unlink(Entry e) {
        NetworkTable t = e.table;
        t.remove(e);
        e.removed = true;
        if (e.isStatic) {
            staticSize--;
        } else {
            ports.remove(e);
        }
        size--;
        if (t.size() == 0) {
            networks = networks.without(t.network);
        }
    }

    private void removeAged(Entry e, List<MacEvent> events) {
        unlink(e);
        aged.increment();
        event(events, MacEvent.Type.AGED, e, e.port, null);
    }

    /**
     * Evicts one dynamic entry of the port holding the most; false if there is no dynamic entry. When
     * {@code learning} (the port a new station is being learned on) is tied for the most, it pays for its own
     * new station rather than taking from another port.
     */
    private boolean evictOne(Settings s, long now, List<MacEvent> events, PortId learning) {
        PortIndex.PortRecord largest = ports.largest();
        if (largest == null) {
            return false;
        }
        if (learning != null && largest.count == ports.count(learning)) {
            largest = ports.get(learning);
        }
        evictFrom(largest, s, now, events);
        return true;
    }

    /**
     * Evicts the least recently seen of the {@value #EVICTION_SAMPLE} oldest entries of a port (ties: the oldest).
     * An entry that has already expired is counted and reported as aged.
     */
    private void evictFrom(PortIndex.PortRecord r, Settings s, long now, List<MacEvent> events) {
        Entry victim = r.oldest;
        long victimSeen = victim.table.lastSeen(victim);
        Entry c = victim.newerInPort;
        for (int i = 1; i < EVICTION_SAMPLE && c != null; i++, c = c.newerInPort) {
            long seen = c.table.lastSeen(c);
            if (seen - victimSeen < 0) {
                victim = c;
                victimSeen = seen;
            }
        }
        if (s.expired(victimSeen, now)) {
            removeAged(victim, events);
        } else {
            unlink(victim);
            evicted.increment();
            event(events, MacEvent.Type.EVICTED, victim, victim.port, null);
        }
    }

    /** Consistency problems of the whole table (for tests and diagnostics); empty when it is sound. */
    List<String> check() {
        lock.lock();
        try {
            List<String> problems = new ArrayList<>(ports.check());
            int total = 0;
            int statics = 0;
            int tables = 0;
            Map<PortId, Integer> perPort = new HashMap<>();
            for (NetworkTable t : networks.tables()) {
                if (t == null) {
                    continue;
                }
                tables++;
                if (t.size() == 0) {
                    problems.add("empty network table kept: " + t.network);
                }
                int n = 0;
                NetworkTable.Slots sl = t.slots();
                for (int i = 0, len = sl.length(); i < len; i++) {
                    Entry e = sl.live(i);
                    if (e == null) {
                        continue;
                    }
                    n++;
                    if (e.removed || e.table != t || t.get(e.key) != e || !e.port.equals(sl.ports[i])
                            || sl.keyWord(i) != NetworkTable.tagged(e.key, e.isStatic)) {
                        problems.add("bad entry in table " + t.network + ": " + e);
                    }
                    if (e.isStatic) {
                        statics++;
                    } else {
                        perPort.merge(e.port, 1, Integer::sum);
                        if (e.portRecord == null) {
                            problems.add("dynamic entry not in its port list: " + e);
                        }
                    }
                }
                if (n != t.size()) {
                    problems.add("network " + t.network + " holds " + n + " entries but counts " + t.size());
                }
                total += n;
            }
            if (tables != networks.count()) {
                problems.add("network index counts " + networks.count() + " tables, holds " + tables);
            }
            if (total != size || statics != staticSize) {
                problems.add("size " + size + "/" + staticSize + " static, but " + total + "/" + statics + " found");
            }
            perPort.forEach((port, n) -> {
                if (ports.count(port) != n) {
                    problems.add("port " + port + " counts " + ports.count(port) + " entries, " + n + " found");
                }
            });
            return problems;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Events

    /** A list to collect events in, or null when nobody listens (then nothing is allocated for events). */
    private List<MacEvent> newEvents() {
        return listeners.isEmpty() ? null : new ArrayList<>(2);
    }

    private static void event(List<MacEvent> events, MacEvent.Type type, Entry e, PortId port, PortId previous) {
        if (events != null) {
            events.add(new MacEvent(type, e.network(), e.vlan(), MacAddress.of(e.mac()), port, previous));
        }
    }

    private void fire(List<MacEvent> events) {
        if (events == null) {
            return;
        }
        for (MacEvent event : events) {
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

    private static void checkVlan(int vlan) {
        if ((vlan & ~VLAN_MASK) != 0) {
            throw new IllegalArgumentException("VLAN id out of range 0..4095: " + vlan);
        }
    }

    private static void checkPort(PortId port) {
        Objects.requireNonNull(port, "port");
        if (port.isFlood()) {
            throw new IllegalArgumentException("a MAC entry needs a real port, not the flood pseudo-port");
        }
    }
}
