package org.vl2.mactable.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

import org.vl2.api.PortId;

/**
 * The entries of one network: an open-addressing (linear probing) hash table keyed by {@code vlan << 48 | mac}
 * whose hot data is inline, in primitive arrays beside each other ({@link Slots}):
 * <ul>
 *   <li>{@code data[2i]}: the tagged key ({@link #LIVE} | {@link #STATIC} if static | key), 0 for a free slot,
 *       {@link #TOMBSTONE} for a freed one; {@code data[2i + 1]}: the last-seen clock reading (nanoseconds).
 *       Four slots per cache line: probing compares keys without touching any object.</li>
 *   <li>{@code ports[i]}: the port. Its address is known from {@code i} as soon as the key's is, so the CPU
 *       fetches both lines at once: a lookup costs about one memory latency, not a chain of dependent misses.</li>
 *   <li>{@code entries[i]}: the {@link Entry} (per-port bookkeeping of the writers); lookups and refreshes never
 *       read it.</li>
 * </ul>
 *
 * <h2>Memory model</h2>
 * Readers never lock and never allocate. Writers hold the MAC table's writer lock.
 * <ul>
 *   <li><b>Publication.</b> A writer fills {@code ports[i]}, {@code entries[i]} and the last-seen time with plain
 *       stores and then writes the key with a volatile (release) store; a reader loads the key with acquire
 *       semantics before it reads the rest, so a reader that sees the key sees its port and time.</li>
 *   <li><b>No slot reuse.</b> A freed slot keeps its {@link #TOMBSTONE} until the next rebuild: within one
 *       {@code Slots} a slot holds one key for its whole life (or, for {@link #replace}, a static entry with the
 *       same key). So a reader that matched the key cannot read another station's port, only this station's
 *       current or previous one (a move racing the lookup), or null (a removal racing it: a miss).</li>
 *   <li><b>Rebuilds</b> (grow, shrink, purge tombstones) fill a new {@code Slots} and publish it with a volatile
 *       write; a {@code Slots} is never changed after it is replaced, except by a racing refresh, which notices.</li>
 *   <li><b>Refresh vs. removal / rebuild</b> (a Dekker pair of volatile accesses): a lock-free refresh writes the
 *       time (volatile) and then re-reads the key and {@link Slots#retired} (volatile). A removal writes the
 *       tombstone (volatile) and a rebuild sets {@code retired} (volatile) before they read the times. One side
 *       sees the other: either the remover / rebuilder sees the new time, or the refresh sees the change and is
 *       redone under the lock. So a station that keeps talking is never aged out or forgotten by a race.</li>
 * </ul>
 * At most three quarters of the slots are ever used (live or tombstone), so every probe ends at a free slot.
 */
final class NetworkTable {

    /** Set in the key word of every live slot (real keys use 60 bits). */
    static final long LIVE = 1L << 62;
    /** Set in the key word of a static entry. */
    static final long STATIC = 1L << 61;
    /** The key word of a freed slot: matches no tagged key and is not 0 (probes go on past it). */
    static final long TOMBSTONE = 1L << 63;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    static final int MIN_LENGTH = 16;

    /** One generation of the table's arrays; replaced as a whole by a rebuild. */
    static final class Slots {
        final long[] data;
        final PortId[] ports;
        final Entry[] entries;
        final int mask;
        /** Set (volatile) by a rebuild before it copies the times: a refresh that sees it redoes its work. */
        volatile boolean retired;

        Slots(int length) {
            data = new long[2 * length];
            ports = new PortId[length];
            entries = new Entry[length];
            mask = length - 1;
        }

        int length() {
            return mask + 1;
        }

        /** The key word of slot {@code i}, with acquire semantics. */
        long keyWord(int i) {
            return (long) LONGS.getAcquire(data, i << 1);
        }

        long keyWordVolatile(int i) {
            return (long) LONGS.getVolatile(data, i << 1);
        }

        long seen(int i) {
            return (long) LONGS.getOpaque(data, (i << 1) + 1);
        }

        long seenVolatile(int i) {
            return (long) LONGS.getVolatile(data, (i << 1) + 1);
        }

        void setSeenVolatile(int i, long now) {
            LONGS.setVolatile(data, (i << 1) + 1, now);
        }

        /** The live entry in slot {@code i}, or null (lock-free iteration). */
        Entry live(int i) {
            return keyWord(i) > 0 ? entries[i] : null;   // LIVE is the sign-adjacent bit: live words are > 0
        }
    }

    final long network;
    /** Random per table, so that nobody can pick MAC addresses that all land in one probe chain. */
    private final long seed = ThreadLocalRandom.current().nextLong();
    private volatile Slots slots = new Slots(MIN_LENGTH);
    // Guarded by the writer lock.
    private int size;
    private int used;

    NetworkTable(long network) {
        this.network = network;
    }

    static long tagged(long key, boolean isStatic) {
        return key | LIVE | (isStatic ? STATIC : 0);
    }

    /** The current arrays (volatile read): read once per operation. */
    Slots slots() {
        return slots;
    }

    /** The slot of a key in {@code s}, or -1. Lock-free, allocation-free; only the key words are read. */
    int find(Slots s, long key) {
        long want = key | LIVE;
        int mask = s.mask;
        for (int i = index(key, mask); ; i = (i + 1) & mask) {
            long k = s.keyWord(i);
            if ((k & ~STATIC) == want) {
                return i;
            }
            if (k == 0) {
                return -1;
            }
        }
    }

    /**
     * The port of a key, or null if it is unknown or (dynamic and) not seen for {@code ageingNanos} (0 = never
     * age). Lock-free, allocation-free; reads the key words, then the port and the time of the matching slot, and
     * the clock only for a dynamic entry when ageing is on.
     */
    PortId lookup(long key, long ageingNanos, LongSupplier clock) {
        Slots s = slots;
        long want = key | LIVE;
        int mask = s.mask;
        for (int i = index(key, mask); ; i = (i + 1) & mask) {
            long k = s.keyWord(i);
            if ((k & ~STATIC) == want) {
                PortId p = s.ports[i];
                if (k == want && ageingNanos != 0 && clock.getAsLong() - s.seen(i) >= ageingNanos) {
                    return null;    // aged out; the sweep removes it
                }
                return p;
            }
            if (k == 0) {
                return null;
            }
        }
    }

    /** The entry for a key, or null. Lock-free. */
    Entry get(long key) {
        Slots s = slots;
        int i = find(s, key);
        return i < 0 ? null : s.entries[i];
    }

    /** Entries in the table. Writer lock. */
    int size() {
        return size;
    }

    /** The slot of an entry that is in the table. Writer lock. */
    private int slotOf(Slots s, Entry e) {
        int i = find(s, e.key);
        if (i < 0 || s.entries[i] != e) {
            throw new IllegalStateException("not in the table: " + e);
        }
        return i;
    }

    /** When a frame from the entry's station was last seen. Writer lock (or a stale but harmless read). */
    long lastSeen(Entry e) {
        Slots s = slots;
        return s.seenVolatile(slotOf(s, e));
    }

    /** Sets the entry's last-seen time. Writer lock. */
    void setLastSeen(Entry e, long now) {
        Slots s = slots;
        s.setSeenVolatile(slotOf(s, e), now);
    }

    /** Moves the entry to another port (also updates {@link Entry#port}). Writer lock. */
    void setPort(Entry e, PortId port, long now) {
        Slots s = slots;
        int i = slotOf(s, e);
        e.port = port;
        s.ports[i] = port;
        s.setSeenVolatile(i, now);
    }

    /** Adds an entry whose key is not in the table, last seen at {@code now}. Writer lock. */
    void insert(Entry e, long now) {
        if (used + 1 > threshold(slots.length())) {
            rebuild(lengthFor(size + 1));
        }
        Slots s = slots;
        int mask = s.mask;
        int i = index(e.key, mask);
        while (s.data[i << 1] != 0) {       // tombstones are not reused: see "No slot reuse"
            i = (i + 1) & mask;
        }
        used++;
        fill(s, i, e, now);
        size++;
    }

    private static void fill(Slots s, int i, Entry e, long now) {
        s.ports[i] = e.port;
        s.entries[i] = e;
        s.data[(i << 1) + 1] = now;
        LONGS.setVolatile(s.data, i << 1, tagged(e.key, e.isStatic));     // publishes the stores above
    }

    /** Puts {@code replacement} (same key) where {@code old} is, last seen at {@code now}. Writer lock. */
    void replace(Entry old, Entry replacement, long now) {
        Slots s = slots;
        fill(s, slotOf(s, old), replacement, now);
    }

    /**
     * First half of the ageing protocol: hides a dynamic entry from lock-free refreshes (tombstone) and returns
     * its last-seen time, read afterwards. The caller then either {@link #remove}s it or, if it was refreshed
     * meanwhile, {@link #unhide}s it. Writer lock.
     */
    long hide(Entry e) {
        Slots s = slots;
        int i = slotOf(s, e);
        LONGS.setVolatile(s.data, i << 1, TOMBSTONE);
        return s.seenVolatile(i);
    }

    /** Undoes {@link #hide}. Writer lock. */
    void unhide(Entry e) {
        Slots s = slots;
        int mask = s.mask;
        for (int i = index(e.key, mask); ; i = (i + 1) & mask) {
            if (s.entries[i] == e) {
                LONGS.setVolatile(s.data, i << 1, tagged(e.key, e.isStatic));
                return;
            }
            if (s.data[i << 1] == 0) {
                throw new IllegalStateException("not in the table: " + e);
            }
        }
    }

    /** Removes an entry that is in the table (or hidden by {@link #hide}). Writer lock. */
    void remove(Entry e) {
        Slots s = slots;
        int mask = s.mask;
        int i = index(e.key, mask);
        while (s.entries[i] != e) {
            if (s.data[i << 1] == 0) {
                throw new IllegalStateException("not in the table: " + e);
            }
            i = (i + 1) & mask;
        }
        LONGS.setVolatile(s.data, i << 1, TOMBSTONE);
        s.ports[i] = null;
        s.entries[i] = null;
        size--;
        if (s.length() > MIN_LENGTH && size < s.length() / 8) {
            rebuild(lengthFor(size));
        }
    }

    private void rebuild(int length) {
        Slots old = slots;
        old.retired = true;     // before reading the times: see "Refresh vs. removal / rebuild"
        Slots s = new Slots(length);
        int mask = length - 1;
        for (int j = 0; j <= old.mask; j++) {
            long k = old.data[j << 1];
            if (k > 0) {
                int i = index(old.entries[j].key, mask);
                while (s.data[i << 1] != 0) {
                    i = (i + 1) & mask;
                }
                s.ports[i] = old.ports[j];
                s.entries[i] = old.entries[j];
                s.data[(i << 1) + 1] = old.seenVolatile(j);
                s.data[i << 1] = k;
            }
        }
        used = size;
        slots = s;  // volatile write publishes the filled arrays
    }

    int index(long key, int mask) {
        return (int) mix(key ^ seed) & mask;
    }

    /** Power of two with room for {@code n} entries at a load of at most one half. */
    static int lengthFor(int n) {
        int length = MIN_LENGTH;
        while (length < 2L * n) {
            length <<= 1;
        }
        return length;
    }

    private static int threshold(int length) {
        return length - (length >>> 2);
    }

    /** MurmurHash3's 64-bit finalizer: every key bit affects the low bits used as the index. */
    static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
