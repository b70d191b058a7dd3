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
import static org.vl2.protocol.JoinTest.v4;

import java.net.Inet6Address;
import org.junit.jupiter.api.Test;

class WelcomeTest {

    static Inet6Address v6(String hex) throws Exception {
        return Inet6Address.getByAddress(null, Buffers.hex(hex), -1);
    }

    static Welcome roundTrip(Welcome welcome) throws ProtocolException {
        byte[] bytes = encode(welcome::encode);
        assertEquals(Wire.WELCOME_LENGTH, bytes.length);
        return decode(bytes, Welcome::decode);
    }

    @Test
    void encodesTheLayoutOfTheSpec() throws Exception {
        Welcome welcome = new Welcome(0x0123456789abcdefL, 0x1122334455667788L, 7, 0xa1b2c3d4e5f60718L, 1454, 25,
                v4("10.1.1.101"), 24, v6("fd000000000000 01 fedcba9876543210"), 64);
        byte[] bytes = assertEncodes("""
                56 01 02 00
                01 23 45 67 89 ab cd ef
                11 22 33 44 55 66 77 88
                00 00 00 07
                a1 b2 c3 d4 e5 f6 07 18
                05 ae
                00 19
                0a 01 01 65
                18
                40
                00 00
                fd 00 00 00 00 00 00 01 fe dc ba 98 76 54 32 10
                00 00 00 00
                """, welcome::encode);
        assertEquals(welcome, decode(bytes, Welcome::decode));
    }

    @Test
    void roundTripsEdgeValues() throws Exception {
        Welcome max = new Welcome(-1L, -1L, -1, -1L, 65535, 65535, v4("255.255.255.255"), 32,
                v6("ffffffffffffffffffffffffffffffff"), 128);
        assertEquals(max, roundTrip(max));
        assertEquals(-1, roundTrip(max).port());   // port ids are unsigned 32-bit, carried in an int
        Welcome none = new Welcome(0, 0, 0, 0, 0, 0, null, 0, null, 0);
        assertEquals(none, roundTrip(none));
        assertEquals(hex(hex("56010200" + "00".repeat(60))), hex(encode(none::encode)));
        Welcome v6only = new Welcome(1, 2, 3, 4, 1280, 10, null, 0, v6("20010db8000000000000000000000001"), 64);
        assertEquals(v6only, roundTrip(v6only));
    }

    @Test
    void keepsAnIpv4MappedAddressAnIpv6Address() throws Exception {
        Inet6Address mapped = v6("00000000000000000000ffff0a000001");
        Welcome welcome = new Welcome(1, 2, 3, 4, 1454, 25, null, 0, mapped, 96);
        Welcome back = roundTrip(welcome);
        assertEquals(welcome, back);
        assertEquals(Inet6Address.class, back.ipv6().getClass());
    }

    @Test
    void readsNoneFromAnyAddressOrPrefixZero() throws Exception {
        byte[] bytes = encode(new Welcome(1, 2, 3, 4, 1454, 25, v4("10.0.0.1"), 8, v6("fd" + "00".repeat(14) + "01"),
                64)::encode);
        bytes[36] = bytes[37] = bytes[38] = bytes[39] = 0;   // 0.0.0.0 with prefix 8: no IPv4
        bytes[41] = 0;                                       // prefix 0 with an address: no IPv6
        bytes[42] = bytes[43] = bytes[60] = bytes[63] = 0x7f;   // reserved
        Welcome w = decode(bytes, Welcome::decode);
        assertNull(w.ipv4());
        assertEquals(0, w.ipv4Prefix());
        assertNull(w.ipv6());
        assertEquals(0, w.ipv6Prefix());
        assertEquals(1454, w.mtu());
    }

    @Test
    void rejectsImpossiblePrefixes() throws Exception {
        byte[] bytes = encode(new Welcome(1, 2, 3, 4, 1454, 25, v4("10.0.0.1"), 8, v6("fd" + "00".repeat(15)), 64)
                ::encode);
        byte[] v4prefix = bytes.clone();
        v4prefix[40] = 33;
        assertTrue(rejected(v4prefix, 64, Welcome::decode).contains("IPv4 prefix 33"));
        byte[] v6prefix = bytes.clone();
        v6prefix[41] = (byte) 129;
        assertTrue(rejected(v6prefix, 64, Welcome::decode).contains("IPv6 prefix 129"));
    }

    @Test
    void rejectsInconsistentValuesWhenBuilt() throws Exception {
        Inet6Address a6 = v6("fd" + "00".repeat(15));
        assertThrows(IllegalArgumentException.class, () -> new Welcome(0, 0, 0, 0, 65536, 0, null, 0, null, 0));
        assertThrows(IllegalArgumentException.class, () -> new Welcome(0, 0, 0, 0, 0, -1, null, 0, null, 0));
        assertThrows(IllegalArgumentException.class, () -> new Welcome(0, 0, 0, 0, 0, 0, v4("10.0.0.1"), 33, null,
                0));
        assertThrows(IllegalArgumentException.class, () -> new Welcome(0, 0, 0, 0, 0, 0, null, 24, null, 0));
        assertThrows(IllegalArgumentException.class, () -> new Welcome(0, 0, 0, 0, 0, 0, null, 0, a6, 0));
        assertThrows(IllegalArgumentException.class, () -> new Welcome(0, 0, 0, 0, 0, 0, null, 0, null, 64));
        assertThrows(IllegalArgumentException.class, () -> new Welcome(0, 0, 0, 0, 0, 0, null, 0, a6, 129));
        assertNull(new Welcome(0, 0, 0, 0, 0, 0, v4("0.0.0.0"), 0, null, 0).ipv4());
    }
}
