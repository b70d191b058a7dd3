package org.vl2.tap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

class VirtioNetHeaderTest {

    private static final boolean LE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    @Test
    void constantsAreThoseOfLinuxVirtioNetH() {
        assertEquals(10, VirtioNetHeader.LENGTH);
        assertEquals(1, VirtioNetHeader.F_NEEDS_CSUM);
        assertEquals(2, VirtioNetHeader.F_DATA_VALID);
        assertEquals(0, VirtioNetHeader.GSO_NONE);
        assertEquals(1, VirtioNetHeader.GSO_TCPV4);
        assertEquals(3, VirtioNetHeader.GSO_UDP);
        assertEquals(4, VirtioNetHeader.GSO_TCPV6);
        assertEquals(5, VirtioNetHeader.GSO_UDP_L4);
        assertEquals(0x80, VirtioNetHeader.GSO_ECN);
        assertEquals(ByteOrder.nativeOrder(), VirtioNetHeader.ORDER);
    }

    @Test
    void fieldsAreNativeEndianAtTheirOffsetsWhateverTheBufferOrder() {
        for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
            ByteBuffer b = ByteBuffer.allocate(13).order(order);
            b.position(1);
            VirtioNetHeader.put(b, 3, 0x81, 0x84, 0x0102, 0x0304, 0x0506, 0x0708);
            byte[] expected = LE ? new byte[] {0, 0, 0, (byte) 0x81, (byte) 0x84, 2, 1, 4, 3, 6, 5, 8, 7}
                    : new byte[] {0, 0, 0, (byte) 0x81, (byte) 0x84, 1, 2, 3, 4, 5, 6, 7, 8};
            assertArrayEquals(expected, b.array());
            assertEquals(0x81, VirtioNetHeader.flags(b, 3));
            assertEquals(0x84, VirtioNetHeader.gsoType(b, 3));
            assertEquals(0x0102, VirtioNetHeader.hdrLen(b, 3));
            assertEquals(0x0304, VirtioNetHeader.gsoSize(b, 3));
            assertEquals(0x0506, VirtioNetHeader.csumStart(b, 3));
            assertEquals(0x0708, VirtioNetHeader.csumOffset(b, 3));
            assertEquals(1, b.position());
            assertEquals(13, b.limit());
            assertEquals(order, b.order());
            assertEquals("virtio_net_hdr[flags=129, gso_type=132, hdr_len=258, gso_size=772, csum_start=1286,"
                    + " csum_offset=1800]", VirtioNetHeader.toString(b, 3));
        }
    }

    @Test
    void sixteenBitValuesUpTo65535() {
        ByteBuffer b = ByteBuffer.allocateDirect(10);
        VirtioNetHeader.put(b, 0, 0, 0, 65_535, 65_534, 0, 0);
        assertEquals(65_535, VirtioNetHeader.hdrLen(b, 0));
        assertEquals(65_534, VirtioNetHeader.gsoSize(b, 0));
    }

    @Test
    void plainHeaderIsAllZero() {
        ByteBuffer b = ByteBuffer.allocate(12);
        java.util.Arrays.fill(b.array(), (byte) 0x5a);
        VirtioNetHeader.putPlain(b, 1);
        assertArrayEquals(new byte[] {0x5a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x5a}, b.array());
    }
}
