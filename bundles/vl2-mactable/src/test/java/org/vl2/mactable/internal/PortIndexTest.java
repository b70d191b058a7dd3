package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.vl2.api.PortId;

class PortIndexTest {

    private final NetworkTable table = new NetworkTable(0);

    private Entry entry(int n, PortId port) {
        return new Entry(Entry.key(0, 0x0200_0000_0000L + n), table, port, false);
    }

    @Test
    void largestPortFollowsAddsAndRemoves() {
        PortIndex index = new PortIndex();
        assertNull(index.largest());
        PortId a = PortId.of(1);
        PortId b = PortId.of(2);
        List<Entry> onA = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Entry e = entry(i, a);
            index.add(e, a);
            onA.add(e);
        }
        for (int i = 0; i < 3; i++) {
            index.add(entry(10 + i, b), b);
        }
        assertSame(a, index.largest().port);
        assertSame(onA.get(0), index.largest().oldest, "insertion order, oldest first");
        index.remove(onA.get(0));
        index.remove(onA.get(2));
        assertEquals(3, index.count(a));
        assertEquals(3, index.largest().count);
        index.remove(onA.get(1));
        assertSame(b, index.largest().port);
        assertSame(onA.get(3), index.get(a).oldest);
        assertTrue(index.check().isEmpty(), () -> index.check().toString());
    }

    @Test
    void randomOperationsStayConsistent() {
        PortIndex index = new PortIndex();
        SplittableRandom random = new SplittableRandom(1);
        List<Entry> present = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            if (present.isEmpty() || random.nextInt(3) != 0) {
                PortId port = PortId.of(1 + random.nextInt(12));
                Entry e = entry(i, port);
                index.add(e, port);
                present.add(e);
            } else {
                index.remove(present.remove(random.nextInt(present.size())));
            }
            if (i % 1000 == 0) {
                assertTrue(index.check().isEmpty(), () -> index.check().toString());
            }
        }
        int max = 0;
        for (int p = 1; p <= 12; p++) {
            max = Math.max(max, index.count(PortId.of(p)));
        }
        assertEquals(max, index.largest().count);
        assertTrue(index.check().isEmpty(), () -> index.check().toString());
    }
}
