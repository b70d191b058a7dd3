package org.vl2.mactable.internal;

/**
 * Immutable map from network id to its {@link NetworkTable}, replaced as a whole (copy on write, under the
 * writer lock) when a network gets its first entry or loses its last one. Lookups are a hash and usually one
 * array read: no locking, no boxing, no allocation.
 */
final class NetworkIndex {

    static final NetworkIndex EMPTY = new NetworkIndex(new NetworkTable[2], 0);

    /** Open addressing, linear probing, at most half full. */
    private final NetworkTable[] tables;
    private final int count;

    private NetworkIndex(NetworkTable[] tables, int count) {
        this.tables = tables;
        this.count = count;
    }

    NetworkTable get(long network) {
        NetworkTable[] t = tables;
        int mask = t.length - 1;
        for (int i = (int) NetworkTable.mix(network) & mask; ; i = (i + 1) & mask) {
            NetworkTable x = t[i];
            if (x == null || x.network == network) {
                return x;
            }
        }
    }

    int count() {
        return count;
    }

    /** The tables, with nulls between them: skip the nulls. Do not modify. */
    NetworkTable[] tables() {
        return tables;
    }

    /** A copy with {@code table} added (its network must not be present). */
    NetworkIndex with(NetworkTable table) {
        return copy(table, Long.MIN_VALUE, false, count + 1);
    }

    /** A copy without {@code network} (which must be present). */
    NetworkIndex without(long network) {
        return copy(null, network, true, count - 1);
    }

    private NetworkIndex copy(NetworkTable added, long removed, boolean remove, int newCount) {
        int length = 2;
        while (length < 2 * newCount) {
            length <<= 1;
        }
        NetworkTable[] t = new NetworkTable[length];
        for (NetworkTable x : tables) {
            if (x != null && !(remove && x.network == removed)) {
                put(t, x);
            }
        }
        if (added != null) {
            put(t, added);
        }
        return new NetworkIndex(t, newCount);
    }

    private static void put(NetworkTable[] t, NetworkTable x) {
        int mask = t.length - 1;
        int i = (int) NetworkTable.mix(x.network) & mask;
        while (t[i] != null) {
            i = (i + 1) & mask;
        }
        t[i] = x;
    }
}
