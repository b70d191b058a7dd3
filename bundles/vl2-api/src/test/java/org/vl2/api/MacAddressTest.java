package org.vl2.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MacAddressTest {

    @Test
    void parsesTheCommonNotationsToTheSameAddress() {
        MacAddress colon = MacAddress.valueOf("02:00:5E:10:00:0a");
        assertEquals(colon, MacAddress.valueOf("02-00-5e-10-00-0A"));
        assertEquals(colon, MacAddress.valueOf("0200.5e10.000a"));
        assertEquals(colon, MacAddress.valueOf("  02:00:5e:10:00:0a "));
        assertEquals(0x02005E10000AL, colon.toLong());
        assertEquals("02:00:5e:10:00:0a", colon.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "02:00:5e:10:00", "02:00:5e:10:00:0g", "02:00-5e:10:00:0a", "0200.5e10.000", "hello",
            "02:00:5e:10:00:0a:ff", "020.05e10.000a", "+2:00:5e:10:00:0a"})
    void rejectsWhatIsNotAMacAddressNamingTheInput(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MacAddress.valueOf(text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
    }

    @Test
    void rejectsNullAndOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> MacAddress.valueOf(null));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.of(1L << 48));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.of(new byte[5]));
    }

    @Test
    void classifiesAddresses() {
        assertTrue(MacAddress.BROADCAST.isBroadcast());
        assertTrue(MacAddress.BROADCAST.isMulticast());
        assertTrue(MacAddress.valueOf("01:00:5e:00:00:fb").isMulticast());
        assertTrue(MacAddress.valueOf("33:33:00:00:00:01").isMulticast());
        assertFalse(MacAddress.valueOf("00:16:3e:00:00:01").isMulticast());
        assertFalse(MacAddress.valueOf("00:16:3e:00:00:01").isLocallyAdministered());
        assertTrue(MacAddress.valueOf("02:16:3e:00:00:01").isLocallyAdministered());
        assertFalse(MacAddress.valueOf("02:16:3e:00:00:01").isBroadcast());
        assertTrue(MacAddress.ZERO.isZero());
    }

    @Test
    void roundTripsThroughBytesAndLong() {
        MacAddress m = MacAddress.valueOf("fe:dc:ba:98:76:54");
        assertArrayEquals(new byte[] {(byte) 0xfe, (byte) 0xdc, (byte) 0xba, (byte) 0x98, 0x76, 0x54}, m.toBytes());
        assertEquals(m, MacAddress.of(m.toBytes()));
        assertEquals(m, MacAddress.of(m.toLong()));
        assertEquals(m.hashCode(), MacAddress.of(m.toLong()).hashCode());
        assertNotEquals(m, MacAddress.BROADCAST);
        assertTrue(MacAddress.ZERO.compareTo(m) < 0);
        assertEquals("fe:dc:ba:98:76:54", MacAddress.toString(m.toLong()));
    }
}
