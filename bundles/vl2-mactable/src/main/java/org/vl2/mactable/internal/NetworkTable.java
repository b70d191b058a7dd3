package org.vl2.mactable.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The entries of one network: an open-addressing (linear probing) hash table from the primitive key
 * {@code vlan << 48 | mac} to {@link Entry}.
 *
 * <p>Readers never lock and never allocate: they read the volatile {@link #slots} array once and its slots
 * with acquire semantics. Writers hold the MAC table's writer lock. They publish a new entry with a release
 * store into a free slot, free a slot by storing {@link Entry#TOMBSTONE}, and grow, shrink or purge
 * tombstones by building a new array and publishing it; an array is never changed after it is replaced, so a
 * reader still walking it sees a consistent (if slightly stale) table. At most three quarters of the slots
 * are ever used (live or tombstone), so every probe ends at an empty slot.
 */
final class NetworkTable {

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Entry[].class);
    static final int MIN_LENGTH = 16;

    final long network;
    /** Random per table, so that nobody can pick MAC addresses that all land in one probe chain. */
    private final long seed = ThreadLocalRandom.current().nextLong();
    private volatile Entry[] slots = new Entry[MIN_LENGTH];
    // Guarded by the writer lock.
    private int size;
    private int used;

    NetworkTable(long network) {
        this.network = network;
    }

    /** The entry for a key, or null. Lock-free, allocation-free. */
    Entry get(long key) {
        Entry[] s = slots;
        int mask = s.length - 1;
        for (int i = index(key, mask); ; i = (i + 1) & mask) {
            Entry e = (Entry) SLOT.getAcquire(s, i);
            if (e == null) {
                return null;
            }
            if (e.key == key) {
                return e;
            }
        }
    }

    /** The current slot array, for lock-free iteration with {@link #live(Entry[], int)}. */
    Entry[] slots() {
        return slots;
    }

    /** The live entry in slot {@code i} of an array from {@link #slots()}, or null. */
    static Entry live(Entry[] s, int i) {
        Entry e = (Entry) SLOT.getAcquire(s, i);
        return e == Entry.TOMBSTONE ? null : e;
    }

    /** Entries in the table. Writer lock. */
    int size() {
        return size;
    }

    /** Adds an entry whose key is not in the table. Writer lock. */
    void insert(Entry e) {
        if (used + 1 > threshold(slots.length)) {
            rebuild(lengthFor(size + 1));
        }
        Entry[] s = slots;
        int mask = s.length - 1;
        int i = index(e.key, mask);
        Entry x;
        while ((x = s[i]) != null && x != Entry.TOMBSTONE) {
            i = (i + 1) & mask;
        }
        if (x == null) {
            used++;
        }
        SLOT.setRelease(s, i, e);
        size++;
    }

    /** Puts {@code replacement} (same key) where {@code old} is. Writer lock. */
    void replace(Entry old, Entry replacement) {
        Entry[] s = slots;
        SLOT.setRelease(s, indexOf(s, old), replacement);
    }

    /** Removes an entry that is in the table. Writer lock. */
    void remove(Entry e) {
        Entry[] s = slots;
        SLOT.setRelease(s, indexOf(s, e), Entry.TOMBSTONE);
        size--;
        if (s.length > MIN_LENGTH && size < s.length / 8) {
            rebuild(lengthFor(size));
        }
    }

    private int indexOf(Entry[] s, Entry e) {
        int mask = s.length - 1;
        for (int i = index(e.key, mask); ; i = (i + 1) & mask) {
            Entry x = s[i];
            if (x == e) {
                return i;
            }
            if (x == null) {
                throw new IllegalStateException("not in the table: " + e);
            }
        }
    }

    private void rebuild(int length) {
        Entry[] old = slots;
        Entry[] s = new Entry[length];
        int mask = length - 1;
        for (Entry e : old) {
            if (e != null && e != Entry.TOMBSTONE) {
                int i = index(e.key, mask);
                while (s[i] != null) {
                    i = (i + 1) & mask;
                }
                s[i] = e;
            }
        }
        used = size;
        slots = s;  // volatile write publishes the filled array
    }

    private int index(long key, int mask) {
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
