package org.vl2.tap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import org.junit.jupiter.api.Test;

class ChecksumTest {

    @Test
    void rfc1071Example() {
        byte[] b = {0x00, 0x01, (byte) 0xf2, 0x03, (byte) 0xf4, (byte) 0xf5, (byte) 0xf6, (byte) 0xf7};
        assertEquals(0xddf2, Checksum.sum(ByteBuffer.wrap(b), 0, 8));
        assertEquals(0xddf2, Packets.referenceSum(b, 0, 8, 0));
        assertEquals(0, Checksum.sum(ByteBuffer.wrap(b), 3, 3));
    }

    /** Every length 0..2000 at every alignment 0..7, heap and direct, both byte orders, against the reference. */
    @Test
    void matchesTheReferenceOnRandomData() {
        Random r = new Random(42);
        byte[] data = Packets.random(r, 2100);
        ByteBuffer[] buffers = {ByteBuffer.wrap(data), ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN),
            Packets.direct(data, 0), Packets.direct(data, 0).order(ByteOrder.LITTLE_ENDIAN)};
        for (int length = 0; length <= 2000; length++) {
            for (int align = 0; align < 8; align++) {
                int expected = Packets.referenceSum(data, align, align + length, 0);
                for (ByteBuffer b : buffers) {
                    assertEquals(expected, Checksum.sum(b, align, align + length),
                            () -> "sum differs for " + b + " order " + b.order());
                }
            }
        }
    }

    @Test
    void allOnesAndAllZeros() {
        byte[] ones = new byte[65_536];
        java.util.Arrays.fill(ones, (byte) 0xFF);
        assertEquals(0xFFFF, Checksum.sum(ByteBuffer.wrap(ones), 0, ones.length));
        assertEquals(0xFF00, Checksum.sum(ByteBuffer.wrap(ones), 1, 2));
        assertEquals(0xFFFF, Checksum.sum(ByteBuffer.wrap(ones), 1, 3));
        assertEquals(0, Checksum.sum(ByteBuffer.allocateDirect(100), 0, 100));
        assertEquals(0xFF00, Checksum.sum(ByteBuffer.wrap(ones), 0, 1)); // an odd last byte is the high half
    }

    @Test
    void pseudoHeaderAndAdd() {
        byte[] ip = {(byte) 192, (byte) 168, 0, 1, (byte) 192, (byte) 168, 0, (byte) 199};
        long expected = Packets.referenceSum(ip, 0, 8, 6 + 1500);
        assertEquals(expected, Checksum.pseudoHeader(ByteBuffer.wrap(ip), 0, 4, 6, 1500));
        assertEquals(Checksum.fold(0xFFFFL + 0xFFFF), Checksum.add(0xFFFF, 0xFFFF));
        assertEquals(2, Checksum.add(0xFFFF, 2)); // 0xFFFF is (negative) zero
        assertEquals(0xFFFF, Checksum.add(0xFFFE, 1));
    }

    @Test
    void doesNotTouchPositionLimitOrOrder() {
        ByteBuffer b = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
        b.position(3).limit(9);
        Checksum.sum(b, 3, 9);
        assertEquals(3, b.position());
        assertEquals(9, b.limit());
        assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
    }
}
