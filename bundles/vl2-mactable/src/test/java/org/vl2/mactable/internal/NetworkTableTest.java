package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.vl2.api.PortId;

class NetworkTableTest {

    private static final PortId P = PortId.of(1);

    private static int live(NetworkTable t) {
        NetworkTable.Slots s = t.slots();
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.live(i) != null) {
                n++;
            }
        }
        return n;
    }

    @Test
    void growsShrinksAndSurvivesChurn() {
        NetworkTable t = new NetworkTable(7);
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            Entry e = new Entry(Entry.key(i % 4096, 0x0200_0000_0000L + i), t, P, false);
            t.insert(e, i);
            entries.add(e);
        }
        assertEquals(10_000, t.size());
        assertEquals(10_000, live(t));
        assertTrue(t.slots().length() >= 10_000 * 4 / 3, "load stays at most 3/4");
        for (Entry e : entries) {
            assertSame(e, t.get(e.key));
            assertSame(P, t.lookup(e.key, 0, () -> 0));
        }
        // churn: remove and insert over and over; tombstones must not fill the table (a miss must end)
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < 10_000; i += 2) {
                Entry old = entries.get(i);
                t.remove(old);
                Entry e = new Entry(old.key ^ (1L << 40), t, P, false);
                t.insert(e, round);
                entries.set(i, e);
            }
        }
        for (Entry e : entries) {
            assertSame(e, t.get(e.key));
        }
        assertNull(t.get(Entry.key(5, 0x0400_0000_0000L)));
        assertNull(t.lookup(Entry.key(5, 0x0400_0000_0000L), 0, () -> 0));
        for (Entry e : entries) {
            t.remove(e);
        }
        assertEquals(0, t.size());
        assertEquals(NetworkTable.MIN_LENGTH, t.slots().length(), "an emptied table shrinks back");
    }

    @Test
    void replaceKeepsTheSlot() {
        NetworkTable t = new NetworkTable(0);
        Entry a = new Entry(Entry.key(1, 2), t, P, false);
        t.insert(a, 5);
        assertEquals(5, t.lastSeen(a));
        Entry b = new Entry(a.key, t, PortId.of(2), true);
        t.replace(a, b, 7);
        assertSame(b, t.get(a.key));
        assertEquals(1, t.size());
        assertEquals(PortId.of(2), t.lookup(a.key, 1, () -> 1_000_000), "static: never aged");
    }

    @Test
    void lookupAgesDynamicEntriesAndReadsTheInlinePort() {
        NetworkTable t = new NetworkTable(0);
        Entry a = new Entry(Entry.key(0, 0x0200_0000_0001L), t, P, false);
        t.insert(a, 100);
        assertSame(P, t.lookup(a.key, 50, () -> 149));
        assertNull(t.lookup(a.key, 50, () -> 150));
        assertSame(P, t.lookup(a.key, 0, () -> Long.MAX_VALUE), "ageing 0: never aged");
        t.setPort(a, PortId.of(3), 200);
        assertEquals(PortId.of(3), t.lookup(a.key, 50, () -> 249));
        assertEquals(PortId.of(3), a.port);
        assertEquals(200, t.hide(a));
        assertNull(t.lookup(a.key, 0, () -> 0), "hidden: a miss");
        t.unhide(a);
        assertEquals(PortId.of(3), t.lookup(a.key, 0, () -> 0));
        t.remove(a);
        assertNull(t.lookup(a.key, 0, () -> 0));
        assertNull(t.get(a.key));
    }

    @Test
    void tombstonesAreNotReusedUntilARebuild() {
        NetworkTable t = new NetworkTable(0);
        Entry a = new Entry(Entry.key(0, 1), t, P, false);
        t.insert(a, 0);
        NetworkTable.Slots before = t.slots();
        int slot = t.find(before, a.key);
        t.remove(a);
        assertEquals(NetworkTable.TOMBSTONE, before.keyWord(slot));
        Entry b = new Entry(Entry.key(0, 1), t, PortId.of(2), false);   // same key, same home slot
        t.insert(b, 0);
        assertSame(before, t.slots());
        assertEquals(NetworkTable.TOMBSTONE, before.keyWord(slot), "a freed slot keeps its tombstone");
        assertSame(b, t.get(b.key));
    }

    @Test
    void networkIndexAddsAndRemoves() {
        NetworkIndex index = NetworkIndex.EMPTY;
        List<NetworkTable> tables = new ArrayList<>();
        for (long n = 0; n < 100; n++) {
            NetworkTable t = new NetworkTable(n * 0x1_0000_0001L);
            tables.add(t);
            index = index.with(t);
        }
        assertEquals(100, index.count());
        for (NetworkTable t : tables) {
            assertSame(t, index.get(t.network));
        }
        assertNull(index.get(-1));
        for (int i = 0; i < 100; i += 2) {
            index = index.without(tables.get(i).network);
        }
        assertEquals(50, index.count());
        for (int i = 0; i < 100; i++) {
            assertEquals(i % 2 == 0 ? null : tables.get(i), index.get(tables.get(i).network));
        }
    }
}
