package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.vl2.protocol.Buffers.hex;
import static org.vl2.protocol.Buffers.layouts;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class WireTest {

    @Test
    void readsTypeVersionAndFlagsAtThePosition() {
        for (int type : new int[] {1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14}) {
            for (ByteBuffer b : layouts(hex(String.format("56 01 %02x 00", type)))) {
                assertEquals(type, Wire.type(b));
                assertEquals(1, Wire.version(b));
                assertEquals(0, Wire.flags(b));
            }
        }
        for (ByteBuffer b : layouts(hex("56 07 03 81 ff ff"))) {
            assertEquals(Wire.FRAME, Wire.type(b));   // type() leaves the version to the caller
            assertEquals(7, Wire.version(b));
            assertEquals(0x81, Wire.flags(b));
        }
    }

    @Test
    void typeIsMinusOneForWhatIsNotAVl2Message() {
        for (String s : new String[] {"", "56", "56 01", "56 01 01", "57 01 01 00", "00 01 01 00", "56 01 00 00",
                "56 01 08 00", "56 01 09 00", "56 01 0a 00", "56 01 0f 00", "56 01 ff 00"}) {
            byte[] bytes = hex(s);
            for (ByteBuffer b : layouts(bytes)) {
                assertEquals(-1, Wire.type(b), s);
            }
        }
        // What follows the limit does not count, even if it completes a header.
        for (ByteBuffer b : layouts(hex("56 01 03 00"), 3)) {
            assertEquals(-1, Wire.type(b));
            assertEquals(-1, Wire.flags(b));
            assertEquals(1, Wire.version(b));
        }
        for (ByteBuffer b : layouts(hex("56 01"), 1)) {
            assertEquals(-1, Wire.version(b));
        }
    }

    @Test
    void putHeaderWritesBigEndianAndAdvances() {
        for (ByteBuffer b : new ByteBuffer[] {ByteBuffer.allocate(8), ByteBuffer.allocateDirect(8).order(
                ByteOrder.LITTLE_ENDIAN)}) {
            b.position(2);
            Wire.putHeader(b, Wire.KEEPALIVE_ACK, Wire.FLAG_SEALED);
            assertEquals(6, b.position());
            byte[] out = new byte[4];
            b.get(2, out);
            assertEquals("56010501", hex(out));
            assertThrows(BufferOverflowException.class, () -> Wire.putHeader(b, Wire.JOIN, 0));
            assertEquals(6, b.position());
        }
        assertThrows(IllegalArgumentException.class, () -> Wire.putHeader(ByteBuffer.allocate(4), 256, 0));
        assertThrows(IllegalArgumentException.class, () -> Wire.putHeader(ByteBuffer.allocate(4), 1, -1));
    }

    @Test
    void namesTheTypes() {
        String[] names = {"join", "welcome", "frame", "keepalive", "keepalive-ack", "leave", "error"};
        for (int t = 1; t <= 7; t++) {
            assertEquals(names[t - 1], Wire.typeName(t));
        }
        assertEquals("key-request", Wire.typeName(11));
        assertEquals("key-reply", Wire.typeName(12));
        assertEquals("unknown(9)", Wire.typeName(9));
        assertEquals("routes", Wire.typeName(13));
        assertEquals("routes-ack", Wire.typeName(14));
        assertEquals("unknown(15)", Wire.typeName(15));
        assertEquals("unknown(255)", Wire.typeName(255));
        assertEquals("unknown(0)", Wire.typeName(0));
        assertEquals("unknown(-1)", Wire.typeName(-1));
    }

    @Test
    void constantsMatchTheSpec() {
        assertEquals(0x56, Wire.MAGIC);
        assertEquals('V', Wire.MAGIC);
        int[] lengths = {Wire.JOIN_LENGTH, Wire.WELCOME_LENGTH, Wire.FRAME_HEADER_LENGTH, Wire.KEEPALIVE_LENGTH,
                Wire.LEAVE_LENGTH, Wire.ERROR_HEADER_LENGTH, Wire.KEY_REQUEST_LENGTH, Wire.KEY_REPLY_LENGTH};
        assertEquals("64 64 16 24 16 20 64 40", java.util.Arrays.stream(lengths).mapToObj(Integer::toString)
                .reduce((a, b) -> a + " " + b).orElseThrow());
        assertEquals(FrameHeader.LENGTH, Wire.FRAME_HEADER_LENGTH);
        assertEquals(9991, Wire.DEFAULT_PORT);
    }
}
