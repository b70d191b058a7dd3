package org.vl2.transport.vxlan.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

class VxlanHeaderTest {

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
