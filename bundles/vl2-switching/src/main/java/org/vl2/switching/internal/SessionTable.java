package org.vl2.switching.internal;

/**
 * vl2-protocol ports by port number: the FRAME and KEEPALIVE path finds its port with a couple of array reads,
 * without a lock and without boxing. The table is an open-addressing hash of the live ports only, so its size
 * follows the number of ports (bounded by max.ports), not how many port numbers were ever handed out: a member
 * joining and leaving in a loop cannot grow it. Writers (join, removal) rebuild it; they are rare next to frames
 * and serialised here.
 */
final class SessionTable {

    private static final SwitchPort[] EMPTY = new SwitchPort[16];

    private volatile SwitchPort[] table = EMPTY;
    private int size;

    SwitchPort get(int number) {
        SwitchPort[] t = table;
        int mask = t.length - 1;
        for (int i = mix(number) & mask; ; i = (i + 1) & mask) {
            SwitchPort p = t[i];
            if (p == null) {
                return null;
            }
            if (p.id.number() == number) {
                return p;
            }
        }
    }

    synchronized void put(SwitchPort port) {
        SwitchPort[] t = rebuild(size + 1, port.id.number());
        insert(t, port);
        size++;
        table = t;
    }

    synchronized void remove(SwitchPort port) {
        if (get(port.id.number()) != port) {
            return;
        }
        table = rebuild(size - 1, port.id.number());
        size--;
    }

    /** A new table for {@code live} ports holding every current port but {@code skip} (load factor at most 1/2). */
    private SwitchPort[] rebuild(int live, int skip) {
        int capacity = 16;
        while (capacity < live * 2) {
            capacity <<= 1;
        }
        SwitchPort[] t = new SwitchPort[capacity];
        for (SwitchPort p : table) {
            if (p != null && p.id.number() != skip) {
                insert(t, p);
            }
        }
        return t;
    }

    private static void insert(SwitchPort[] t, SwitchPort port) {
        int mask = t.length - 1;
        int i = mix(port.id.number()) & mask;
        while (t[i] != null) {
            i = (i + 1) & mask;
        }
        t[i] = port;
    }

    private static int mix(int n) {
        return n * 0x9E3779B9 ^ (n >>> 16);
    }

    /** Slots in the table now (for tests: it follows the live ports). */
    int capacity() {
        return table.length;
    }
}
