package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.protocol.Buffers.assertEncodes;
import static org.vl2.protocol.Buffers.decode;
import static org.vl2.protocol.Buffers.encode;
import static org.vl2.protocol.Buffers.hex;
import static org.vl2.protocol.Buffers.rejected;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JoinTest {

    static Inet4Address v4(String text) throws Exception {
        return (Inet4Address) InetAddress.getByName(text);
    }

    static Join roundTrip(Join join) throws ProtocolException {
        byte[] bytes = encode(join::encode);
        assertEquals(Wire.JOIN_LENGTH, bytes.length);
        return decode(bytes, Join::decode);
    }

    @Test
    void encodesTheLayoutOfTheSpec() throws Exception {
        Join join = new Join(0x0123456789abcdefL, 0xfedcba9876543210L, 0x1122334455667788L, 1514, Join.CAP_IPV6,
                v4("10.1.1.101"), "host1");
        byte[] bytes = assertEncodes("""
                56 01 01 00
                01 23 45 67 89 ab cd ef
                fe dc ba 98 76 54 32 10
                11 22 33 44 55 66 77 88
                05 ea
                00 01
                0a 01 01 65
                05
                68 6f 73 74 31 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
                """, join::encode);
        assertEquals(join, decode(bytes, Join::decode));
    }

    @Test
    void roundTripsEdgeValues() throws Exception {
        Join ones = new Join(-1L, -1L, -1L, 65535, 65535, v4("255.255.255.255"), "x".repeat(27));
        assertEquals(ones, roundTrip(ones));
        Join zeros = new Join(0L, 0L, 0L, 0, 0, null, "");
        assertEquals(zeros, roundTrip(zeros));
        assertEquals(hex(hex("56010100" + "00".repeat(60))), hex(encode(zeros::encode)));
        Join unicode = new Join(7, 8, 9, 1514, 0, v4("192.168.0.1"), "hôte-π-😀");
        assertEquals(unicode, roundTrip(unicode));
    }

    @Test
    void aSmallMaxFrameSizeStillDecodesSoTheSwitchCanAnswerBadRequest() throws Exception {
        Join join = new Join(1, 2, 3, 63, 0, null, "tiny");
        assertEquals(63, roundTrip(join).maxFrameSize());
    }

    @Test
    void normalisesNameAndAnyAddress() throws Exception {
        Join join = new Join(1, 2, 3, 1514, 0, v4("0.0.0.0"), null);
        assertEquals("", join.name());
        assertNull(join.requestedIpv4());
        assertEquals(join, roundTrip(join));
    }

    @Test
    void cutsLongNamesAtACharacterBoundary() throws Exception {
        assertEquals("a".repeat(27), new Join(0, 0, 0, 0, 0, null, "a".repeat(28)).name());
        assertEquals("ä".repeat(13), new Join(0, 0, 0, 0, 0, null, "ä".repeat(14)).name());   // 26 of 28 bytes
        assertEquals("a" + "😀".repeat(6), new Join(0, 0, 0, 0, 0, null, "a" + "😀".repeat(7)).name());
        assertEquals("b".repeat(26), new Join(0, 0, 0, 0, 0, null, "b".repeat(26) + "€").name());
        assertEquals("c".repeat(24) + "€", new Join(0, 0, 0, 0, 0, null, "c".repeat(24) + "€€").name());

        Join cut = new Join(0, 0, 0, 0, 0, null, "ä".repeat(14));
        byte[] bytes = encode(cut::encode);
        assertEquals(26, bytes[36]);
        assertEquals(0, bytes[63]);   // padding, not half a character
        assertEquals(cut, decode(bytes, Join::decode));
    }

    @Test
    void rejectsOutOfRangeFieldsWhenBuilt() {
        assertThrows(IllegalArgumentException.class, () -> new Join(0, 0, 0, 65536, 0, null, ""));
        assertThrows(IllegalArgumentException.class, () -> new Join(0, 0, 0, -1, 0, null, ""));
        assertThrows(IllegalArgumentException.class, () -> new Join(0, 0, 0, 1514, 65536, null, ""));
        assertThrows(IllegalArgumentException.class, () -> new Join(0, 0, 0, 1514, -1, null, ""));
    }

    @Test
    void ignoresPaddingAndTrailingBytesButNotAnOverlongName() throws Exception {
        Join join = new Join(5, 6, 7, 1500, 0, null, "ab");
        byte[] bytes = encode(join::encode);
        byte[] longer = java.util.Arrays.copyOf(bytes, 80);
        longer[39] = 'X';   // padding after the 2-byte name
        longer[70] = 'Y';   // beyond the 64 bytes
        assertEquals(join, decode(longer, Join::decode));

        bytes[36] = 28;
        assertTrue(rejected(bytes, bytes.length, Join::decode).contains("name length 28"));
    }

    @Test
    void replacesMalformedUtf8InTheName() throws Exception {
        byte[] bytes = encode(new Join(0, 0, 0, 0, 0, null, "ok")::encode);
        bytes[36] = 3;
        bytes[39] = (byte) 0xC3;   // a lead byte with no continuation
        Join join = decode(bytes, Join::decode);
        assertEquals("ok\uFFFD", join.name());
        assertEquals(5, join.name().getBytes(StandardCharsets.UTF_8).length);
    }

    /**
     * A name is a peer's text that the switch logs and prints: control characters (line breaks that forge log lines,
     * terminal escapes), bidirectional overrides and zero-width characters arrive as '?'.
     */
    @Test
    void controlAndFormatCharactersInANameArriveAsQuestionMarks() throws Exception {
        Join j = roundTrip(new Join(0, 1, 2, 1518, 0, null, "a\nb\u001b[2Jc\u202ed\u200be\u0085f"));
        assertEquals("a?b?[2Jc?d?e?f", j.name());
        assertEquals("h\u00e4st-1 \ud83d\ude00", roundTrip(new Join(0, 1, 2, 1518, 0, null, "h\u00e4st-1 \ud83d\ude00")).name(),
                "printable text is left alone");
    }
}
