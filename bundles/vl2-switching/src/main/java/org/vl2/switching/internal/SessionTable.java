package org.vl2.switching.internal;

import java.util.function.IntPredicate;
import java.util.random.RandomGenerator;

/**
 * vl2-protocol ports by a 32-bit key (the registry keeps two: plaintext sessions by port number, sealed sessions by
 * the switch's random session index): the FRAME and KEEPALIVE path finds its port with a few array reads, without a
 * lock and without boxing. The table is an open-addressing hash of the live keys only, so its size follows the live
 * sessions (bounded by max.ports), not how many keys were ever handed out: a member joining and leaving in a loop
 * cannot grow it. Writers (join, handshake, confirmation, removal) publish a new table; they are rare next to
 * frames and serialised here.
 */
final class SessionTable {

    /** Keys and ports by slot, published as a whole; a null port is an empty slot (any key may be live, 0 too). */
    private record Slots(int[] keys, SwitchPort[] ports) {
    }

    private static final int MIN_CAPACITY = 16;

    private volatile Slots table = new Slots(new int[MIN_CAPACITY], new SwitchPort[MIN_CAPACITY]);
    private int size;

    /** The port under {@code key}, or null. Lock-free. */
    SwitchPort get(int key) {
        Slots t = table;
        int[] keys = t.keys;
        SwitchPort[] ports = t.ports;
        int mask = keys.length - 1;
        for (int i = mix(key) & mask; ; i = (i + 1) & mask) {
            SwitchPort p = ports[i];
            if (p == null) {
                return null;
            }
            if (keys[i] == key) {
                return p;
            }
        }
    }

    /** Puts {@code port} under {@code key}, replacing what was there. */
    synchronized void put(int key, SwitchPort port) {
        rebuild((k, p) -> k != key, key, port);
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
        rebuild((k, p) -> true, key, port);
        return key;
    }

    /** Removes {@code key} if {@code port} holds it. */
    synchronized void remove(int key, SwitchPort port) {
        if (get(key) == port) {
            rebuild((k, p) -> k != key, 0, null);
        }
    }

    /** Removes the keys of {@code port} that {@code keep} does not accept (all of them: {@code k -> false}). */
    synchronized void retain(SwitchPort port, IntPredicate keep) {
        Slots t = table;
        for (int i = 0; i < t.keys.length; i++) {
            if (t.ports[i] == port && !keep.test(t.keys[i])) {
                rebuild((k, p) -> p != port || keep.test(k), 0, null);
                return;
            }
        }
    }

    private interface Keep {
        boolean test(int key, SwitchPort port);
    }

    /** Publishes a table of the entries {@code keep} accepts, plus {@code key -> added} unless added is null. */
    private void rebuild(Keep keep, int key, SwitchPort added) {
        Slots t = table;
        int live = added == null ? 0 : 1;
        for (int i = 0; i < t.keys.length; i++) {
            if (t.ports[i] != null && keep.test(t.keys[i], t.ports[i])) {
                live++;
            }
        }
        int capacity = MIN_CAPACITY;
        while (capacity < live * 2) { // load factor at most 1/2
            capacity <<= 1;
        }
        Slots n = new Slots(new int[capacity], new SwitchPort[capacity]);
        for (int i = 0; i < t.keys.length; i++) {
            if (t.ports[i] != null && keep.test(t.keys[i], t.ports[i])) {
                insert(n, t.keys[i], t.ports[i]);
            }
        }
        if (added != null) {
            insert(n, key, added);
        }
        size = live;
        table = n;
    }

    private static void insert(Slots t, int key, SwitchPort port) {
        int mask = t.keys.length - 1;
        int i = mix(key) & mask;
        while (t.ports[i] != null) {
            i = (i + 1) & mask;
        }
        t.keys[i] = key;
        t.ports[i] = port;
    }

    private static int mix(int n) {
        int h = n * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** Slots in the table now (for tests: it follows the live keys). */
    int capacity() {
        return table.keys.length;
    }

    /** Live keys. */
    synchronized int size() {
        return size;
    }
}
