package org.vl2.switching.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.IntPredicate;
import java.util.random.RandomGenerator;

/**
 * vl2-protocol ports by a 32-bit key (the registry keeps two: plaintext sessions by port number, sealed sessions by
 * the switch's random session index): the FRAME and KEEPALIVE path finds its port with a few array reads, without a
 * lock and without boxing. The table is an open-addressing hash (linear probing) of the live keys, so its size follows
 * the live sessions (bounded by max.ports), not how many keys were ever handed out: a member joining and leaving in a
 * loop cannot grow it.
 *
 * <p>Writers (join, handshake, confirmation, removal) are serialised here and change the published arrays in place:
 * a new key goes into an empty slot (its key written before its port, the port with release semantics, so a reader
 * that sees the port sees its key), a removed key's slot keeps the key and gets {@link #GONE} (probes go on past
 * it). A slot's key is written once per table, so a reader never pairs a port with another key. Only when live keys
 * and tombstones fill half of the table (or live keys fall below an eighth) is a new table built and published: an
 * insert is O(1) amortised, not a copy of the table. With 10,000 members rekeying every two minutes, copying the
 * table on each handshake cost a 32k-slot copy 80 times a second.
 */
final class SessionTable {

    /** Keys and ports by slot, published as a whole; a null port is an empty slot (any key may be live, 0 too). */
    private record Slots(int[] keys, Object[] ports) {
    }

    /** A removed entry: its key stays, so that probes for keys inserted after it still go on past its slot. */
    private static final Object GONE = new Object();
    private static final VarHandle PORTS = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final int MIN_CAPACITY = 16;

    private volatile Slots table = new Slots(new int[MIN_CAPACITY], new Object[MIN_CAPACITY]);
    /** Live keys. */
    private int size;
    /** Slots in use: live keys and {@link #GONE} ones. */
    private int used;
    /** Tables built (tests: inserts do not rebuild). */
    private int rebuilds;
    /** The keys each port holds (writers only): {@link #retain} visits a port's few keys, not the whole table. */
    private final Map<SwitchPort, int[]> held = new IdentityHashMap<>();

    /** The port under {@code key}, or null. Lock-free. */
    SwitchPort get(int key) {
        Slots t = table;
        int[] keys = t.keys;
        Object[] ports = t.ports;
        int mask = keys.length - 1;
        for (int i = mix(key) & mask; ; i = (i + 1) & mask) {
            Object p = PORTS.getAcquire(ports, i);
            if (p == null) {
                return null;
            }
            if (keys[i] == key && p != GONE) {
                return (SwitchPort) p;
            }
        }
    }

    /** Puts {@code port} under {@code key}, replacing what was there. */
    synchronized void put(int key, SwitchPort port) {
        int at = find(table, key);
        if (at >= 0) {
            disown((SwitchPort) table.ports[at], key);
            own(port, key);
            PORTS.setRelease(table.ports, at, port);
        } else {
            insert(key, port);
        }
    }

    /**
     * A key no live entry has, drawn from {@code random} (never 0: a zeroed header names no session), now held by
     * {@code port}: unguessable, and never two sessions under one key however many were handed out.
     */
    synchronized int allocate(SwitchPort port, RandomGenerator random) {
        return allocate(port, random, -1);
    }

    /**
     * {@link #allocate(SwitchPort, RandomGenerator)}, with the lowest byte {@code lowByte} unless it is -1: the byte
     * the vl2 transport picks a receive thread by (a member's new handshake keeps its thread, so its flows are not
     * reordered across a rekey). The other 24 bits are fresh; the byte is the previous index's, as unknown off the
     * path as that one was.
     */
    synchronized int allocate(SwitchPort port, RandomGenerator random, int lowByte) {
        int key;
        do {
            key = lowByte < 0 ? random.nextInt() : random.nextInt() & ~0xff | lowByte & 0xff;
        } while (key == 0 || get(key) != null);
        insert(key, port);
        return key;
    }

    /** Removes {@code key} if {@code port} holds it. */
    synchronized void remove(int key, SwitchPort port) {
        int at = find(table, key);
        if (at >= 0 && table.ports[at] == port) {
            removeAt(at);
        }
    }

    /** Removes the keys of {@code port} that {@code keep} does not accept (all of them: {@code k -> false}). */
    synchronized void retain(SwitchPort port, IntPredicate keep) {
        int[] keys = held.get(port);
        if (keys == null) {
            return;
        }
        for (int key : keys.clone()) {
            if (!keep.test(key)) {
                removeAt(find(table, key));
            }
        }
    }

    private void own(SwitchPort port, int key) {
        int[] keys = held.get(port);
        if (keys == null) {
            held.put(port, new int[] {key});
        } else {
            int[] more = Arrays.copyOf(keys, keys.length + 1);
            more[keys.length] = key;
            held.put(port, more);
        }
    }

    /** {@code port} no longer holds {@code key} (it held it: a live key has one holder). */
    private void disown(SwitchPort port, int key) {
        int[] keys = held.get(port);
        if (keys.length == 1) {
            held.remove(port);
            return;
        }
        int[] fewer = new int[keys.length - 1];
        int j = 0;
        for (int k : keys) {
            if (k != key && j < fewer.length) {
                fewer[j++] = k;
            }
        }
        held.put(port, fewer);
    }

    /** The slot of the live {@code key}, or -1. With the lock held. */
    private static int find(Slots t, int key) {
        int mask = t.keys.length - 1;
        for (int i = mix(key) & mask; ; i = (i + 1) & mask) {
            Object p = t.ports[i];
            if (p == null) {
                return -1;
            }
            if (t.keys[i] == key && p != GONE) {
                return i;
            }
        }
    }

    /** Adds a key no live entry has. With the lock held. */
    private void insert(int key, SwitchPort port) {
        if ((used + 1) * 2 > table.keys.length) {
            rebuild(size + 1);
        }
        Slots t = table;
        int mask = t.keys.length - 1;
        int i = mix(key) & mask;
        while (t.ports[i] != null) { // GONE slots are not reused: a slot's key never changes within a table
            i = (i + 1) & mask;
        }
        t.keys[i] = key;
        PORTS.setRelease(t.ports, i, port);
        own(port, key);
        size++;
        used++;
    }

    private void removeAt(int at) {
        disown((SwitchPort) table.ports[at], table.keys[at]);
        PORTS.setRelease(table.ports, at, GONE);
        size--;
        if (size * 8 < table.keys.length && table.keys.length > MIN_CAPACITY) {
            rebuild(size);
        }
    }

    /** Publishes a new table of the live entries, a quarter full at most with {@code live} keys. */
    private void rebuild(int live) {
        Slots t = table;
        int capacity = MIN_CAPACITY;
        while (capacity < live * 4) {
            capacity <<= 1;
        }
        Slots n = new Slots(new int[capacity], new Object[capacity]);
        int mask = capacity - 1;
        for (int i = 0; i < t.keys.length; i++) {
            Object p = t.ports[i];
            if (p != null && p != GONE) {
                int j = mix(t.keys[i]) & mask;
                while (n.ports[j] != null) {
                    j = (j + 1) & mask;
                }
                n.keys[j] = t.keys[i];
                n.ports[j] = p;
            }
        }
        used = size;
        rebuilds++;
        table = n; // volatile: publishes the filled arrays
    }

    private static int mix(int n) {
        int h = n * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** Slots in the table now (for tests: it follows the live keys). */
    int capacity() {
        return table.keys.length;
    }

    /** Tables built so far (tests). */
    synchronized int rebuilds() {
        return rebuilds;
    }

    /** Live keys. */
    synchronized int size() {
        return size;
    }
}
