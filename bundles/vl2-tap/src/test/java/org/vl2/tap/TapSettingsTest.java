package org.vl2.tap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;

class TapSettingsTest {

    private static IllegalArgumentException bad(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run);
    }

    @Test
    void defaults() {
        TapSettings s = TapSettings.defaults();
        assertNull(s.name());
        assertEquals(1500, s.mtu());
        assertNull(s.mac());
        assertNull(s.ipv4());
        assertNull(s.ipv6());
        assertNull(s.bridge());
        assertTrue(s.up());
        assertEquals(s, TapSettings.builder().name("  ").mac("").ipv4("").ipv6((String) null).bridge("").build());
    }

    @Test
    void fullSettingsAndToBuilder() {
        TapSettings s = TapSettings.builder().name("vl2p1").mtu(9000).mac("02:00:5e:10:00:01")
                .ipv4("10.1.1.101/24").ipv6("fd00::1/64").bridge("br0").up(false).build();
        assertEquals("vl2p1", s.name());
        assertEquals(9000, s.mtu());
        assertEquals(MacAddress.valueOf("02:00:5e:10:00:01"), s.mac());
        assertEquals("10.1.1.101/24", s.ipv4().toString());
        assertEquals("fd00::1/64", s.ipv6().toString());
        assertEquals("br0", s.bridge());
        assertFalse(s.up());
        assertEquals(s, s.toBuilder().build());
        assertEquals(s.hashCode(), s.toBuilder().build().hashCode());
        assertTrue(s.toString().contains("ipv4=10.1.1.101/24"), s.toString());
    }

    @Test
    void offloadIsOffByDefaultAndPartOfEquality() {
        TapSettings off = TapSettings.builder().name("vl2p1").build();
        assertFalse(off.offload());
        TapSettings on = off.toBuilder().offload(true).build();
        assertTrue(on.offload());
        assertTrue(on.toBuilder().build().offload());
        assertFalse(on.equals(off));
        assertEquals(on, TapSettings.builder().name("vl2p1").offload(true).build());
        assertEquals(on.hashCode(), TapSettings.builder().name("vl2p1").offload(true).build().hashCode());
        assertFalse(on.hashCode() == off.hashCode());
        assertEquals("TapSettings[name=vl2p1, mtu=1500, up=true, offload]", on.toString());
        assertEquals("TapSettings[name=vl2p1, mtu=1500, up=true]", off.toString());
        assertEquals(off, on.toBuilder().offload(false).build());
    }

    @Test
    void namesFollowTheKernelRules() {
        assertEquals("a", TapSettings.builder().name("a").build().name());
        assertEquals("abcdefghijklmno", TapSettings.builder().name("abcdefghijklmno").build().name());
        assertEquals("vl2p%d", TapSettings.builder().name("vl2p%d").build().name());
        assertEquals("tap-1_x.y@z", TapSettings.builder().name("tap-1_x.y@z").build().name());

        IllegalArgumentException e = bad(() -> TapSettings.builder().name("abcdefghijklmnop"));
        assertTrue(e.getMessage().startsWith("name: 'abcdefghijklmnop' is too long (16 characters"), e.getMessage());
        assertTrue(e.getMessage().contains("1 to 15"), e.getMessage());
        for (String n : new String[] {"a/b", "a b", "a\tb", "eth0:1", ".", "..", "tap%s", "t%d%d", "t%", "tä"}) {
            e = bad(() -> TapSettings.builder().name(n));
            assertTrue(e.getMessage().startsWith("name: '" + n + "'"), e.getMessage());
            assertTrue(e.getMessage().contains("allowed: 1 to 15 printable ASCII characters"), e.getMessage());
        }
        e = bad(() -> TapSettings.builder().bridge("br%d"));
        assertTrue(e.getMessage().startsWith("bridge: 'br%d' contains '%'"), e.getMessage());
        bad(() -> TapSettings.builder().bridge("0123456789abcdef"));
    }

    @Test
    void mtuRange() {
        assertEquals(68, TapSettings.builder().mtu(68).build().mtu());
        assertEquals(65521, TapSettings.builder().mtu(65521).build().mtu());
        IllegalArgumentException e = bad(() -> TapSettings.builder().mtu(67));
        assertEquals("mtu: 67 is out of range (allowed: 68..65521, the limits of a Linux TAP device)", e.getMessage());
        bad(() -> TapSettings.builder().mtu(65522));
        bad(() -> TapSettings.builder().mtu(-1));
    }

    @Test
    void macMustBeUnicast() {
        assertTrue(bad(() -> TapSettings.builder().mac("01:00:5e:00:00:01")).getMessage().startsWith("mac: "));
        assertTrue(bad(() -> TapSettings.builder().mac("ff:ff:ff:ff:ff:ff")).getMessage().contains("unicast"));
        assertTrue(bad(() -> TapSettings.builder().mac("00:00:00:00:00:00")).getMessage().startsWith("mac: "));
        assertTrue(bad(() -> TapSettings.builder().mac("02:00:5e")).getMessage().startsWith("mac: not a MAC"));
        assertNull(TapSettings.builder().mac((MacAddress) null).build().mac());
    }

    @Test
    void ipv4InCidrForm() {
        Cidr c = TapSettings.builder().ipv4(" 10.1.1.101/24 ").build().ipv4();
        assertEquals(24, c.prefixLength());
        assertEquals(0xFFFFFF00, c.ipv4Netmask());
        assertEquals(0xFFFFFFFF, Cidr.parseIpv4("10.0.0.1/32").ipv4Netmask());
        assertEquals(0x80000000, Cidr.parseIpv4("10.0.0.1/1").ipv4Netmask());
        assertFalse(c.isIpv6());
        for (String s : new String[] {"10.1.1.101", "10.1.1/24", "10.1.1.256/24", "10.1.1.1/33", "10.1.1.1/0",
                "10.1.1.1/", "a.b.c.d/8", "10.1.1.1/-1", "0.0.0.0/8", "224.0.0.1/4", "127.0.0.1/8",
                "255.255.255.255/32", "10.01.1.1/24", "fd00::1/64", "10.1.1.1.1/8", " /24", "1e1.0.0.1/8"}) {
            IllegalArgumentException e = bad(() -> TapSettings.builder().ipv4(s));
            assertTrue(e.getMessage().startsWith("ipv4: "), e.getMessage());
            assertTrue(e.getMessage().contains("such as 10.1.1.101/24"), e.getMessage());
        }
        bad(() -> TapSettings.builder().ipv4(Cidr.parse("fd00::1/64")));
    }

    @Test
    void ipv6InCidrForm() {
        Cidr c = TapSettings.builder().ipv6("FD00:0:0:0::1/64").build().ipv6();
        assertTrue(c.isIpv6());
        assertEquals("fd00::1/64", c.toString());
        assertEquals("2001:db8:0:1::/48", Cidr.parse("2001:db8:0:1:0:0:0:0/48").toString());
        assertEquals("fd00:1::1:0:0:1/64", Cidr.parse("fd00:1:0:0:1:0:0:1/64").toString());
        assertEquals("fd00:0:1:1:1:1:1:1/128", Cidr.parse("fd00:0:1:1:1:1:1:1/128").toString());
        for (String s : new String[] {"fd00::1", "fd00::1/129", "fd00::1/0", "::/64", "ff02::1/64", "::1/128",
                "fd00::1%eth0/64", "fd00:::1/64", "example.com/64", "10.1.1.1/24", "::ffff:10.1.1.1/96",
                "fd00::g/64"}) {
            IllegalArgumentException e = bad(() -> TapSettings.builder().ipv6(s));
            assertTrue(e.getMessage().startsWith("ipv6: "), e.getMessage());
            assertTrue(e.getMessage().contains("such as fd00::1/64"), e.getMessage());
        }
        IllegalArgumentException e = bad(() -> TapSettings.builder().mtu(1000).ipv6("fd00::1/64").build());
        assertTrue(e.getMessage().startsWith("ipv6: an IPv6 address needs mtu >= 1280"), e.getMessage());
        bad(() -> TapSettings.builder().ipv6(Cidr.parse("10.0.0.1/8")));
    }
}
