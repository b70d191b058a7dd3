package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacTableAdminService.LearnResult;
import org.vl2.api.PortId;

/** Configuration validation and the DS lifecycle (activate constructor, modified, deactivate). */
class MacTableLifecycleTest {

    private static IllegalArgumentException rejected(long ageing, int capacity, int perPortLimit) {
        return assertThrows(IllegalArgumentException.class,
                () -> new MacTableImpl(new TestConfig(ageing, capacity, perPortLimit)));
    }

    @Test
    void badCapacityIsRejectedNamingPropertyPidAndRange() {
        assertEquals("Invalid org.vl2.mactable configuration: capacity=5 (must be 16..16777216)",
                rejected(300, 5, 0).getMessage());
        assertEquals("Invalid org.vl2.mactable configuration: capacity=16777217 (must be 16..16777216)",
                rejected(300, 16_777_217, 0).getMessage());
    }

    @Test
    void badAgeingAndPerPortLimitAreRejected() {
        assertEquals("Invalid org.vl2.mactable configuration: ageing.seconds=-1 (must be 0..1000000, 0 = never age)",
                rejected(-1, 8192, 0).getMessage());
        assertEquals("Invalid org.vl2.mactable configuration: per.port.limit=-3 (must be >= 0, 0 = no limit)",
                rejected(300, 8192, -3).getMessage());
        String all = rejected(Long.MAX_VALUE, 0, -1).getMessage();
        assertTrue(all.contains("ageing.seconds=" + Long.MAX_VALUE) && all.contains("capacity=0")
                && all.contains("per.port.limit=-1"), all);
    }

    @Test
    void boundaryValuesAreAccepted() {
        Settings low = new Settings(0, 16, 0);
        assertEquals(0, low.ageingNanos);
        Settings high = new Settings(1_000_000, 16_777_216, Integer.MAX_VALUE);
        assertEquals(1_000_000_000_000_000L, high.ageingNanos);
        assertEquals("ageing.seconds=300, capacity=8192, per.port.limit=0", Settings.defaults().toString());
    }

    @Test
    void modifiedWithBadValuesKeepsThePreviousConfiguration() {
        MacTableImpl t = new MacTableImpl(new TestConfig(60, 1000, 10));
        try {
            t.modified(new TestConfig(60, 5, 10));
            assertEquals(1000, t.statistics().capacity());
            t.modified(new TestConfig(-5, 1000, 10));
            assertEquals(60, t.statistics().ageingSeconds());
            t.modified(new TestConfig(120, 2000, 0));
            assertEquals(120, t.statistics().ageingSeconds());
            assertEquals(2000, t.statistics().capacity());
            assertEquals(0, t.statistics().perPortLimit());
        } finally {
            t.deactivate();
        }
    }

    @Test
    void activateStartsTheAgeingThreadAndDeactivateStopsIt() {
        assertFalse(ageingThreadRunning(), "no ageing thread left over by another test");
        MacTableImpl t = new MacTableImpl(new TestConfig(300, 8192, 0));
        try {
            assertTrue(ageingThreadRunning());
            assertEquals(LearnResult.LEARNED, t.learn(0, 0, 0x0200_0000_0001L, PortId.of(1)));
            t.modified(new TestConfig(0, 8192, 0));   // never age: the task is cancelled, the table stays
            assertEquals(PortId.of(1), t.lookup(0, 0, 0x0200_0000_0001L));
            t.modified(new TestConfig(10, 8192, 0));
        } finally {
            t.deactivate();
        }
        assertFalse(ageingThreadRunning(), "deactivate waits for the ageing thread to end");
    }

    private static boolean ageingThreadRunning() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(th -> th.isAlive() && th.getName().equals(MacTableImpl.AGEING_THREAD));
    }
}
