package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

/** The RFC 7348 header, byte for byte, and the checks of a received datagram. */
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

    @Test
    void encodesTheIFlagAndTheVniWithReservedBitsZero() {
        ByteBuffer b = ByteBuffer.allocate(12);
        b.position(3);
        VxlanHeader.write(b, 2, 0x12_3456);
        byte[] bytes = new byte[8];
        b.get(2, bytes);
        assertArrayEquals(new byte[] {0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0}, bytes);
        assertEquals(3, b.position()); // absolute
        assertEquals(0x12_3456, VxlanHeader.vni(b, 2));
    }

    @Test
    void decodesTheLargestVni() {
        ByteBuffer b = ByteBuffer.allocate(8);
        VxlanHeader.write(b, 0, 0xFF_FFFF);
        assertArrayEquals(new byte[] {0x08, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0}, b.array());
        assertEquals(0xFF_FFFF, VxlanHeader.vni(b, 0));
        b.put(7, (byte) 0xFF); // reserved byte after the VNI is not part of it
        assertEquals(0xFF_FFFF, VxlanHeader.vni(b, 0));
    }

    private static ByteBuffer datagram(int length, int flags) {
        ByteBuffer b = ByteBuffer.allocate(length + 5);
        b.position(5); // a datagram further into a buffer: checks read from the position
        if (length > 0) {
            b.put(5, (byte) flags);
        }
        return b;
    }

    @Test
    void aDatagramNeedsAHeaderAndAnEthernetHeader() {
        assertEquals(VxlanHeader.MALFORMED, VxlanHeader.check(datagram(0, 0x08)));
        assertEquals(VxlanHeader.MALFORMED, VxlanHeader.check(datagram(8, 0x08)));
        assertEquals(VxlanHeader.MALFORMED, VxlanHeader.check(datagram(21, 0x08)));
        assertEquals(VxlanHeader.OK, VxlanHeader.check(datagram(22, 0x08)));
        assertEquals(VxlanHeader.OK, VxlanHeader.check(datagram(1514 + 8, 0x08)));
    }

    @Test
    void theIFlagMustBeSetAndReservedBitsAreIgnored() {
        assertEquals(VxlanHeader.BAD_FLAGS, VxlanHeader.check(datagram(60, 0x00)));
        assertEquals(VxlanHeader.BAD_FLAGS, VxlanHeader.check(datagram(60, 0xF7))); // every bit but I
        assertEquals(VxlanHeader.OK, VxlanHeader.check(datagram(60, 0xFF)));
        assertEquals(VxlanHeader.OK, VxlanHeader.check(datagram(60, 0x88))); // e.g. the GBP extension's G bit
        ByteBuffer b = datagram(60, 0x08);
        b.put(6, (byte) 0xFF).put(7, (byte) 0xFF).put(8, (byte) 0xFF).put(12, (byte) 0xFF);
        assertEquals(VxlanHeader.OK, VxlanHeader.check(b));
    }
}
