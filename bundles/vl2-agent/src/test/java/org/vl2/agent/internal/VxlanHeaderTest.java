package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

/** The RFC 7348 header, byte for byte. */
class VxlanHeaderTest {

    @Test
    void writesTheIFlagAndTheVniWithReservedBitsZero() {
        ByteBuffer b = ByteBuffer.allocate(12);
        b.put(0, new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}); // garbage to overwrite
        b.position(5).limit(11);

        VxlanHeader.write(b, 2, 0x12_3456);

        assertEquals("ffff" + "08000000" + "12345600" + "ffff", HexFormat.of().formatHex(b.array()));
        assertEquals(5, b.position(), "absolute: position and limit stay");
        assertEquals(11, b.limit());
    }

    @Test
    void vniExtremes() {
        ByteBuffer b = ByteBuffer.allocate(8);
        VxlanHeader.write(b, 0, 1);
        assertArrayEquals(new byte[] {8, 0, 0, 0, 0, 0, 1, 0}, b.array());
        VxlanHeader.write(b, 0, 0xFF_FFFF);
        assertArrayEquals(new byte[] {8, 0, 0, 0, -1, -1, -1, 0}, b.array());
        assertEquals(0xFF_FFFF, VxlanHeader.vni(b, 0));
    }

    @Test
    void readsTheVniAndTheFlagIgnoringReservedBits() {
        // I flag plus reserved bits some extensions set (GBP: G bit, group policy id); reserved low byte set
        ByteBuffer b = ByteBuffer.wrap(HexFormat.of().parseHex("aa" + "88" + "401234" + "00002a" + "ff"));
        assertTrue(VxlanHeader.hasVni(b, 1));
        assertEquals(42, VxlanHeader.vni(b, 1));
        assertEquals(0, b.position());

        assertFalse(VxlanHeader.hasVni(ByteBuffer.wrap(HexFormat.of().parseHex("0000000000002a00")), 0));
        assertFalse(VxlanHeader.hasVni(ByteBuffer.wrap(HexFormat.of().parseHex("f7ffffff00002a00")), 0),
                "every bit but I");
    }

    @Test
    void roundTrip() {
        ByteBuffer b = ByteBuffer.allocateDirect(16);
        for (int vni : new int[] {1, 42, 4789, 0x80_0000, 0xFF_FFFF}) {
            VxlanHeader.write(b, 4, vni);
            assertTrue(VxlanHeader.hasVni(b, 4));
            assertEquals(vni, VxlanHeader.vni(b, 4));
        }
    }
}
