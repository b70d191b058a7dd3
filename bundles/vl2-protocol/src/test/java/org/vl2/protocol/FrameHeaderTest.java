package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.vl2.protocol.Buffers.hex;
import static org.vl2.protocol.Buffers.layouts;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class FrameHeaderTest {

    private static final String HEADER = "56 01 03 00  00 00 00 07  a1 b2 c3 d4 e5 f6 07 18";
    private static final String ETHERNET = "ff ff ff ff ff ff  02 00 00 00 00 01  08 06";

    @Test
    void writesTheLayoutOfTheSpecAtAnIndexWithoutMovingThePosition() {
        for (ByteBuffer b : new ByteBuffer[] {ByteBuffer.allocate(64), ByteBuffer.allocate(64).order(
                ByteOrder.LITTLE_ENDIAN), ByteBuffer.allocateDirect(64), ByteBuffer.allocateDirect(64).order(
                ByteOrder.LITTLE_ENDIAN)}) {
            b.put(20, (byte) 0x33);
            b.position(3).limit(40);
            FrameHeader.write(b, 4, 7, 0xa1b2c3d4e5f60718L);
            assertEquals(3, b.position());
            assertEquals(40, b.limit());
            byte[] out = new byte[17];
            b.get(4, out);
            assertEquals(hex(hex(HEADER + " 33")), hex(out));   // 16 bytes, the 17th untouched
            assertEquals(0, b.get(3));
        }
    }

    @Test
    void refusesToWriteOutsideTheLimit() {
        ByteBuffer b = ByteBuffer.allocate(64).limit(20);
        assertThrows(IndexOutOfBoundsException.class, () -> FrameHeader.write(b, 5, 1, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> FrameHeader.write(b, -1, 1, 1));
        assertEquals(0, b.get(5));
        FrameHeader.write(b, 4, 1, 1);
    }

    @Test
    void readsPortAndTokenOfAFrameAtThePosition() {
        for (ByteBuffer b : layouts(hex(HEADER + ETHERNET))) {
            assertEquals(Wire.FRAME, Wire.type(b));
            assertEquals(7, FrameHeader.port(b));
            assertEquals(0xa1b2c3d4e5f60718L, FrameHeader.token(b));
        }
        for (ByteBuffer b : layouts(hex("56 01 03 00  ff ff ff fe  ff ff ff ff ff ff ff fd"))) {
            assertEquals(0xfffffffe, FrameHeader.port(b));
            assertEquals(-3L, FrameHeader.token(b));
        }
    }

    @Test
    void writtenHeaderReadsBack() {
        ByteBuffer b = ByteBuffer.allocateDirect(100).order(ByteOrder.LITTLE_ENDIAN);
        FrameHeader.write(b, 30, -2, Long.MIN_VALUE + 5);
        b.position(30).limit(46);
        assertEquals(Wire.FRAME, Wire.type(b));
        assertEquals(0, Wire.flags(b));
        assertEquals(-2, FrameHeader.port(b));
        assertEquals(Long.MIN_VALUE + 5, FrameHeader.token(b));
    }

    @Test
    void aShortDatagramGivesPortZeroInsteadOfThrowing() {
        byte[] header = hex(HEADER);
        for (int n = 0; n < 16; n++) {
            for (ByteBuffer b : layouts(header, n)) {   // the rest of the header lies beyond the limit
                assertEquals(0, FrameHeader.port(b));
                assertEquals(0L, FrameHeader.token(b));
            }
        }
    }
}
