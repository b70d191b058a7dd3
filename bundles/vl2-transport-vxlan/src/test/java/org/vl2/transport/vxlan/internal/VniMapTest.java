package org.vl2.transport.vxlan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class VniMapTest {

    @Test
    void withoutAListNoVniIsANetwork() {
        VniMap m = VniMap.none();
        assertTrue(m.isEmpty());
        for (int vni : new int[] {0, 1, 42, 4096, 0xFF_FFFF}) {
            assertFalse(m.mapsVni(vni), "no implicit VNI n = network n");
            assertEquals(-1, m.vni(vni));
        }
        assertEquals(-1, m.vni(0L));
        assertEquals(-1, m.vni(-1L));
        assertEquals(m, VniMap.of(new int[0], new long[0]));
    }

    @Test
    void explicitMappingWorksBothWaysAndAcceptsOnlyItsVnis() {
        VniMap m = VniMap.of(new int[] {42, 7, 0xFF_FFFF, 100}, new long[] {0x2a, 0, -1L, 0x1234_5678_9abc_def0L});
        assertFalse(m.isEmpty());
        assertEquals(0x2a, m.network(42));
        assertEquals(0, m.network(7));
        assertEquals(-1L, m.network(0xFF_FFFF));
        assertEquals(0x1234_5678_9abc_def0L, m.network(100));
        assertEquals(42, m.vni(0x2a));
        assertEquals(7, m.vni(0));
        assertEquals(0xFF_FFFF, m.vni(-1L));
        assertEquals(100, m.vni(0x1234_5678_9abc_def0L));
        assertFalse(m.mapsVni(43));
        assertFalse(m.mapsVni(1)); // no implicit fallback
        assertEquals(-1, m.vni(43));
        assertEquals(-1, m.vni(1));
        assertThrows(IllegalArgumentException.class, () -> m.network(43));
    }

    @Test
    void anExplicitMappingMustBeOneToOne() {
        assertThrows(IllegalArgumentException.class, () -> VniMap.of(new int[] {1, 1}, new long[] {1, 2}));
        assertThrows(IllegalArgumentException.class, () -> VniMap.of(new int[] {1, 2}, new long[] {5, 5}));
    }

    @Test
    void describesItselfForTheLog() {
        assertEquals("none", VniMap.none().toString());
        assertEquals("7=0000000000000000, 42=000000000000002a",
                VniMap.of(new int[] {42, 7}, new long[] {0x2a, 0}).toString());
    }
}
