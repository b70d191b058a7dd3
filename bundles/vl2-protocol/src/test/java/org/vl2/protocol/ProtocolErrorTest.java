package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.protocol.Buffers.assertEncodes;
import static org.vl2.protocol.Buffers.decode;
import static org.vl2.protocol.Buffers.encode;
import static org.vl2.protocol.Buffers.rejected;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ProtocolErrorTest {

    private static final int UNLIMITED = 1500;
    private static final ProtocolError FULL = new ProtocolError(ErrorCode.PORT_LIMIT, 0, 9, "full");

    @Test
    void encodesTheLayoutOfTheSpec() throws Exception {
        ProtocolError error = new ProtocolError(ErrorCode.UNKNOWN_PORT, 7, 0, "unknown port");
        byte[] bytes = assertEncodes("""
                56 01 07 00
                00 05
                0c
                00
                00 00 00 07
                00 00 00 00 00 00 00 00
                75 6e 6b 6e 6f 77 6e 20 70 6f 72 74
                """, out -> error.encode(out, UNLIMITED));
        assertEquals(error, decode(bytes, ProtocolError::decode));

        ProtocolError join = new ProtocolError(ErrorCode.UNKNOWN_NETWORK, 0, 0x1122334455667788L, "");
        assertEncodes("56 01 07 00  00 01  00  00  00 00 00 00  11 22 33 44 55 66 77 88",
                out -> join.encode(out, UNLIMITED));
    }

    @Test
    void roundTripsEveryCodeAndEdgeValues() throws Exception {
        for (ErrorCode code : ErrorCode.values()) {
            ProtocolError e = new ProtocolError(code, -1, -1L, code.label() + ": détail");
            assertEquals(e, decode(encode(out -> e.encode(out, UNLIMITED)), ProtocolError::decode));
        }
        ProtocolError longest = new ProtocolError(ErrorCode.BAD_REQUEST, 1, 2, "m".repeat(255));
        assertEquals(longest, decode(encode(out -> longest.encode(out, UNLIMITED)), ProtocolError::decode));
    }

    @Test
    void answersA24ByteKeepaliveWithA24ByteError() throws Exception {
        ProtocolError e = new ProtocolError(ErrorCode.UNKNOWN_PORT, 7, 0, "no such port: 7");
        byte[] bytes = encode(out -> e.encode(out, Wire.KEEPALIVE_LENGTH));
        assertEquals(24, bytes.length);
        assertEquals(4, bytes[6]);
        assertEquals("no s", decode(bytes, ProtocolError::decode).message());
    }

    @Test
    void neverSplitsACharacterWhenCutting() throws Exception {
        assertMessage("€", 23, new ProtocolError(ErrorCode.UNKNOWN_PORT, 1, 0, "€€€"), 24);      // 4 bytes: one €
        assertMessage("éé", 24, new ProtocolError(ErrorCode.UNKNOWN_PORT, 1, 0, "ééé"), 25);    // 5 bytes: two é
        assertMessage("a", 21, new ProtocolError(ErrorCode.UNKNOWN_PORT, 1, 0, "a😀"), 24);     // 3 of 4 bytes
        assertMessage("a😀", 25, new ProtocolError(ErrorCode.UNKNOWN_PORT, 1, 0, "a😀b"), 25);
        assertMessage("", 20, new ProtocolError(ErrorCode.UNKNOWN_PORT, 1, 0, "€"), 22);
        assertMessage("", 20, new ProtocolError(ErrorCode.UNKNOWN_PORT, 1, 0, "anything"), 20);
        // 85 euros are 255 bytes; 86 would be 258: the one-byte length caps the message whatever maxLength says.
        assertMessage("€".repeat(85), 275, new ProtocolError(ErrorCode.UNKNOWN_PORT, 1, 0, "€".repeat(100)),
                UNLIMITED);
        assertMessage("x".repeat(255), 275, new ProtocolError(ErrorCode.UNKNOWN_PORT, 1, 0, "x".repeat(300)),
                UNLIMITED);
        assertMessage("y".repeat(40), 60, new ProtocolError(ErrorCode.UNKNOWN_PORT, 1, 0, "y".repeat(300)), 60);
    }

    private static void assertMessage(String expected, int expectedLength, ProtocolError e, int maxLength)
            throws ProtocolException {
        byte[] bytes = encode(out -> e.encode(out, maxLength));
        assertEquals(expectedLength, bytes.length);
        assertEquals(expectedLength - 20, bytes[6] & 0xFF);
        assertEquals(expected, decode(bytes, ProtocolError::decode).message());
        assertEquals(expected, new String(bytes, 20, bytes.length - 20, StandardCharsets.UTF_8));
    }

    @Test
    void refusesALimitBelowTheFixedPartAndARecordWithoutCode() {
        ProtocolError e = new ProtocolError(ErrorCode.BAD_REQUEST, 0, 0, "x");
        assertThrows(IllegalArgumentException.class, () -> e.encode(ByteBuffer.allocate(64), 19));
        assertThrows(NullPointerException.class, () -> new ProtocolError(null, 0, 0, ""));
        assertEquals("", new ProtocolError(ErrorCode.BAD_REQUEST, 0, 0, null).message());
    }

    @Test
    void rejectsUnknownCodesAndMessagesLongerThanTheDatagram() throws Exception {
        byte[] bytes = encode(out -> FULL.encode(out, UNLIMITED));
        for (int code : new int[] {0, 9, 255, 256, 65535}) {
            byte[] b = bytes.clone();
            b[4] = (byte) (code >>> 8);
            b[5] = (byte) code;
            assertTrue(rejected(b, b.length, ProtocolError::decode).contains("unknown error code " + code));
        }
        byte[] overlong = bytes.clone();
        overlong[6] = 5;
        assertTrue(rejected(overlong, overlong.length, ProtocolError::decode).contains("5-byte message"));
    }

    @Test
    void ignoresReservedAndTrailingBytesAndReplacesMalformedUtf8() throws Exception {
        byte[] bytes = Arrays.copyOf(encode(out -> FULL.encode(out, UNLIMITED)), 30);
        bytes[7] = 0x55;      // reserved
        bytes[25] = 'Z';      // after the message
        assertEquals(FULL, decode(bytes, ProtocolError::decode));
        bytes[21] = (byte) 0xFF;
        assertEquals("f\uFFFDll", decode(bytes, ProtocolError::decode).message());
    }

    @Test
    void controlCharactersInAMessageArriveAsQuestionMarks() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(64);
        new ProtocolError(ErrorCode.NOT_AUTHORIZED, 0, 1, "no\r\nFATAL forged line").encode(b, 64);
        assertEquals("no??FATAL forged line", ProtocolError.decode(b.flip()).message());
    }
}
