package org.vl2.mactable.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.MacEvent;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.PortId;

/**
 * The table operations of the MAC table (forwarding database): its state, the per-frame lookup and learn, the
 * read side, static entries, removals, flushes and reconfiguration. Ageing ({@link Ageing}), eviction at the
 * limits ({@link Eviction}) and listener events ({@link MacEvents}) are helpers that work on this state under
 * its writer lock. Keyed by (network, VLAN, MAC).
 *
 * <p>{@link MacTableImpl}, the DS component, extends this class instead of holding an instance, so that the
 * switch's per-frame calls read {@link #networks}, {@link #settings} and {@link #clock} from the service object
 * itself: no extra object hop and no extra call on a lookup.
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
 */
abstract sealed class ForwardingDatabase implements MacTableAdminService permits MacTableImpl {

    static final int VLAN_MASK = 0xFFF;
    /** A refresh rewrites the last-seen time only when it is older than this (1 ms). */
    static final long REFRESH_GRANULARITY_NANOS = 1_000_000L;

    final LongSupplier clock;
    final ReentrantLock lock = new ReentrantLock();
    final PortIndex ports = new PortIndex();   // guarded by lock
    final MacEvents events;
    final Ageing ageing;
    final Eviction eviction;

    volatile Settings settings;
    volatile NetworkIndex networks = NetworkIndex.EMPTY;  // replaced under lock
    volatile int size;          // written under lock
    volatile int staticSize;    // written under lock

    final LongAdder learned = new LongAdder();
    final LongAdder moved = new LongAdder();
    final LongAdder aged = new LongAdder();
    final LongAdder evicted = new LongAdder();
    final LongAdder refused = new LongAdder();

    /** Time from {@code nanoClock}: nanoseconds, monotonic; read on every learn and every lookup of a dynamic entry. */
    ForwardingDatabase(Settings settings, LongSupplier nanoClock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(nanoClock, "nanoClock");
        long now = nanoClock.getAsLong();
        this.events = new MacEvents(nanoClock, now);
        this.ageing = new Ageing(this, now);
        this.eviction = new Eviction(this);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Hot path

    @Override
    public final PortId lookup(long network, int vlan, long mac) {
        if (((mac & ~MacAddress.MASK) | (vlan & ~VLAN_MASK)) != 0) {
            return null;
        }
        NetworkTable t = networks.get(network);
        return t == null ? null : t.lookup(Entry.key(vlan, mac), settings.ageingNanos, clock);
    }

    @Override
    public final LearnResult learn(long network, int vlan, long mac, PortId port) {
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
        List<MacEvent> batch = events.newBatch();
        LearnResult result;
        lock.lock();
        try {
            result = learnLocked(network, key, port, now, batch);
        } finally {
            lock.unlock();
        }
        events.fire(batch);
        return result;
    }

    private LearnResult learnLocked(long network, long key, PortId port, long now, List<MacEvent> batch) {
        Settings s = settings;
        NetworkTable t = networks.get(network);
        Entry e = t == null ? null : t.get(key);
        if (e != null) {
            if (e.isStatic) {
                return LearnResult.STATIC;
            }
            if (s.expired(t.lastSeen(e), now)) {
                removeAged(e, batch);  // gone for good: the station is new again
            } else if (e.port.equals(port)) {
                t.setLastSeen(e, now);
                return LearnResult.REFRESHED;
            } else {
                if (eviction.atPortLimit(s, port)) {
                    refused.increment();
                    return LearnResult.REFUSED;     // the entry stays where it was, and ages out if stale
                }
                PortId previous = e.port;
                ports.remove(e);
                t.setPort(e, port, now);
                e.moves++;
                ports.add(e, port);
                moved.increment();
                MacEvents.add(batch, MacEvent.Type.MOVED, e, port, previous);
                return LearnResult.MOVED;
            }
        }
        if (eviction.atPortLimit(s, port)) {
            refused.increment();
            return LearnResult.REFUSED;
        }
        if (!eviction.makeRoom(s, now, batch, port)) {
            refused.increment();
            return LearnResult.REFUSED;
        }
        t = tableFor(network);     // after evictions: they may have dropped an emptied network
        Entry created = new Entry(key, t, port, false);
        t.insert(created, now);
        ports.add(created, port);
        size++;
        learned.increment();
        MacEvents.add(batch, MacEvent.Type.LEARNED, created, port, null);
        return LearnResult.LEARNED;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Read side

    @Override
    public final Optional<MacEntry> entry(long network, int vlan, MacAddress mac) {
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
    public final List<MacEntry> entries() {
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
    public final int size() {
        return size;
    }

    @Override
    public final MacTableStatistics statistics() {
        Settings s = settings;
        return new MacTableStatistics(size, staticSize, s.capacity, s.perPortLimit, s.ageingSeconds,
                learned.sum(), moved.sum(), aged.sum(), evicted.sum(), refused.sum());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Administration

    @Override
    public final void addStatic(long network, int vlan, MacAddress mac, PortId port) {
        checkVlan(vlan);
        Objects.requireNonNull(mac, "mac");
        checkPort(port);
        if (mac.isMulticast()) {
            throw new IllegalArgumentException("static MAC entries must be unicast: " + mac
                    + " is a group (multicast) address");
        }
        long key = Entry.key(vlan, mac.toLong());
        List<MacEvent> batch = events.newBatch();
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
            if (!eviction.makeRoom(s, now, batch, null)) {
                throw new IllegalStateException("MAC table is full (capacity " + s.capacity + ", " + staticSize
                        + " static entries): cannot add a static entry for " + mac);
            }
            t = tableFor(network);
            t.insert(new Entry(key, t, port, true), now);
            size++;
            staticSize++;
        } finally {
            lock.unlock();
            events.fire(batch);
        }
    }

    @Override
    public final boolean remove(long network, int vlan, MacAddress mac) {
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
    public final int flush() {
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
    public final int flushPort(PortId port) {
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
    public final int flushMac(MacAddress mac) {
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

    /** Applies a new (valid) configuration at once: ageing rescans, {@link Eviction#trim} fits the table to it. */
    void reconfigure(Settings next) {
        List<MacEvent> batch = events.newBatch();
        lock.lock();
        try {
            settings = next;
            ageing.rescan(clock.getAsLong());     // the ageing time may be shorter now
            long now = clock.getAsLong();
            eviction.trim(next, now, batch);
        } finally {
            lock.unlock();
        }
        events.fire(batch);
    }

    /** Consistency problems of the whole table (for tests and diagnostics); empty when it is sound. */
    List<String> check() {
        return ConsistencyCheck.problems(this);
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
    void unlink(Entry e) {
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

    /** Removes an entry that has aged out (by the sweep, a learn or an eviction), counted and reported as such. */
    void removeAged(Entry e, List<MacEvent> batch) {
        unlink(e);
        aged.increment();
        MacEvents.add(batch, MacEvent.Type.AGED, e, e.port, null);
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
