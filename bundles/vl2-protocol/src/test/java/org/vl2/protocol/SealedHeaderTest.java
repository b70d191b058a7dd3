package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.protocol.Buffers.hex;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class SealedHeaderTest {

    /** A sealed KEEPALIVE to session index 0x0a0b0c0d, counter 0x0102030405060708 (docs/crypto.md's layout). */
    private static final String HEADER = "56 01 04 01  0a 0b 0c 0d  01 02 03 04 05 06 07 08";

    @Test
    void writesTheLayoutOfTheSpecAtAnIndexWithoutMovingThePositionOrTheCounter() {
        for (ByteBuffer b : new ByteBuffer[] {ByteBuffer.allocate(64), ByteBuffer.allocate(64).order(
                ByteOrder.LITTLE_ENDIAN), ByteBuffer.allocateDirect(64), ByteBuffer.allocateDirect(64).order(
                ByteOrder.LITTLE_ENDIAN)}) {
            for (int i = 0; i < 8; i++) {
                b.put(12 + i, (byte) (i + 1)); // the counter the seal wrote stays as it is
            }
            b.put(20, (byte) 0x33);
            b.position(3).limit(40);
            SealedHeader.write(b, 4, Wire.KEEPALIVE, 0x0a0b0c0d);
            assertEquals(3, b.position());
            assertEquals(40, b.limit());
            byte[] out = new byte[17];
            b.get(4, out);
            assertEquals(hex(hex(HEADER + " 33")), hex(out));
            assertEquals(0, b.get(3));
        }
    }

    @Test
    void readsFlagReceiverIndexAndCounterAtAnIndex() {
        for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
            ByteBuffer b = ByteBuffer.allocate(40).order(order);
            b.put(2, hex(HEADER));
            assertTrue(SealedHeader.isSealed(b, 2));
            assertEquals(0x0a0b0c0d, SealedHeader.receiverIndex(b, 2));
            assertEquals(0x0102030405060708L, SealedHeader.counter(b, 2));
            assertEquals(Wire.KEEPALIVE, Wire.type(b.position(2)));
            FrameHeader.write(b, 2, 7, 9);
            assertFalse(SealedHeader.isSealed(b, 2), "a plaintext FRAME header");
        }
    }

    @Test
    void refusesToWriteOutsideTheLimit() {
        ByteBuffer b = ByteBuffer.allocate(64).limit(20);
        assertThrows(IndexOutOfBoundsException.class, () -> SealedHeader.write(b, 5, Wire.FRAME, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> SealedHeader.write(b, -1, Wire.FRAME, 1));
        assertEquals(0, b.get(5));
        SealedHeader.write(b, 4, Wire.FRAME, 1);
        assertEquals(Wire.FLAG_SEALED, b.get(7));
    }
}
