package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The bitmap window against the obvious model: a set of every counter seen and the highest one. */
class ReplayWindowTest {

    @Test
    void matchesASetBasedModelOnRandomWalks() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        for (int walk = 0; walk < 20; walk++) {
            ReplayWindow w = new ReplayWindow();
            Set<Long> seen = new HashSet<>();
            long highest = -1;
            long base = walk % 2 == 0 ? 0 : rnd.nextLong() >>> 5; // near 0 and somewhere up to 2^59
            for (int step = 0; step < 20000; step++) {
                long c;
                switch (rnd.nextInt(6)) {
                    case 0: c = highest + 1 + rnd.nextInt(3); break;                       // in order
                    case 1: c = highest - rnd.nextInt(ReplayWindow.WINDOW + 200); break;   // around the bottom
                    case 2: c = highest + rnd.nextInt(5000); break;                        // jumps near the ring size
                    case 3: c = highest - ReplayWindow.WINDOW + rnd.nextInt(3) - 1; break; // the edge exactly
                    case 4: c = highest + (rnd.nextInt(50) == 0 ? rnd.nextInt(1 << 20) : 1); break;
                    default: c = highest - rnd.nextInt(64); break;                         // duplicates
                }
                c = Math.max(c, 0) + (highest < 0 ? base : 0);
                int expected = c >= Session.REJECT_AFTER_MESSAGES ? ReplayWindow.TOO_LARGE
                        : c > highest ? ReplayWindow.OK
                        : highest - c >= ReplayWindow.WINDOW ? ReplayWindow.TOO_OLD
                        : seen.contains(c) ? ReplayWindow.SEEN : ReplayWindow.OK;
                assertEquals(expected, w.check(c), "seed " + seed + ", counter " + c + ", highest " + highest);
                // accept only some of what passes, as if the others failed authentication
                if (expected == ReplayWindow.OK && rnd.nextInt(10) != 0) {
                    w.accept(c);
                    seen.add(c);
                    highest = Math.max(highest, c);
                }
                assertEquals(highest, w.highest());
            }
        }
    }

    @Test
    void edges() {
        ReplayWindow w = new ReplayWindow();
        assertEquals(ReplayWindow.OK, w.check(0));
        w.accept(0);
        assertEquals(ReplayWindow.SEEN, w.check(0));
        long top = 10_000;
        w.accept(top);
        assertEquals(ReplayWindow.OK, w.check(top - 2048));
        assertEquals(ReplayWindow.OK, w.check(top - ReplayWindow.WINDOW + 1));
        assertEquals(ReplayWindow.TOO_OLD, w.check(top - ReplayWindow.WINDOW));
        assertEquals(ReplayWindow.TOO_OLD, w.check(0));
        assertEquals(ReplayWindow.TOO_LARGE, w.check(-1));
        assertEquals(ReplayWindow.TOO_LARGE, w.check(Session.REJECT_AFTER_MESSAGES));
        assertEquals(ReplayWindow.OK, w.check(Session.REJECT_AFTER_MESSAGES - 1));
    }
}
