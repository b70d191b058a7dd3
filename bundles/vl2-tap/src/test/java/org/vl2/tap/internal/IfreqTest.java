package org.vl2.tap.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteOrder;

import com.sun.jna.Memory;
import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;

/** Byte layout of struct ifreq / in6_ifreq as the kernel reads it (LP64, little- or big-endian host). */
class IfreqTest {

    private static final boolean LE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    @Test
    void nameIsNulTerminatedInTheFirst16Bytes() {
        Ifreq ifr = new Ifreq().reset("abcdefghijklmno");
        byte[] b = ifr.pointer().getByteArray(0, Ifreq.SIZE);
        assertEquals('a', b[0]);
        assertEquals('o', b[14]);
        assertEquals(0, b[15]);
        assertEquals("abcdefghijklmno", ifr.name());
        assertEquals("x", ifr.reset("x").name()); // reset zeroes what a longer name left behind
        assertThrows(IllegalArgumentException.class, () -> ifr.reset("abcdefghijklmnop"));
    }

    @Test
    void unionMembersStartAtOffset16() {
        Ifreq ifr = new Ifreq().reset("t").intValue(0x01020304);
        byte[] b = ifr.pointer().getByteArray(16, 4);
        assertArrayEquals(LE ? new byte[] {4, 3, 2, 1} : new byte[] {1, 2, 3, 4}, b);
        ifr.reset("t").flags((short) 0x1002);
        assertArrayEquals(LE ? new byte[] {2, 0x10} : new byte[] {0x10, 2}, ifr.pointer().getByteArray(16, 2));
    }

    @Test
    void sockaddrInHasFamilyPortThenAddressInNetworkOrder() {
        Ifreq ifr = new Ifreq().reset("t").inet4(new byte[] {10, 1, 1, 101});
        byte[] b = ifr.pointer().getByteArray(16, 8);
        assertArrayEquals(LE ? new byte[] {2, 0, 0, 0, 10, 1, 1, 101} : new byte[] {0, 2, 0, 0, 10, 1, 1, 101}, b);
    }

    @Test
    void hwaddrIsArphrdEtherThenTheMac() {
        MacAddress mac = MacAddress.valueOf("02:00:5e:10:00:01");
        Ifreq ifr = new Ifreq().reset("t").hwaddr(mac);
        byte[] b = ifr.pointer().getByteArray(16, 8);
        assertArrayEquals(LE ? new byte[] {1, 0, 2, 0, 0x5e, 0x10, 0, 1} : new byte[] {0, 1, 2, 0, 0x5e, 0x10, 0, 1}, b);
        assertEquals(mac, ifr.hwaddr());
    }

    @Test
    void in6IfreqIsAddressPrefixIfindex() {
        byte[] a = new byte[16];
        a[0] = (byte) 0xfd;
        a[15] = 1;
        try (Memory m = Ifreq.in6Ifreq(a, 64, 7)) {
            assertEquals(24, m.size());
            assertArrayEquals(a, m.getByteArray(0, 16));
            assertEquals(64, m.getInt(16));
            assertEquals(7, m.getInt(20));
        }
    }

    @Test
    void ioctlNumbers() {
        // _IOW('T', nr, int) = (1 << 30) | (sizeof(int) << 16) | ('T' << 8) | nr
        assertEquals((1L << 30) | (4 << 16) | ('T' << 8) | 202, Ifreq.TUNSETIFF);
        assertEquals((1L << 30) | (4 << 16) | ('T' << 8) | 208, Ifreq.TUNSETOFFLOAD);
        assertEquals((1L << 30) | (4 << 16) | ('T' << 8) | 216, Ifreq.TUNSETVNETHDRSZ);
        assertEquals(0x400454d0L, Ifreq.TUNSETOFFLOAD);
        assertEquals(0x400454d8L, Ifreq.TUNSETVNETHDRSZ);
    }

    @Test
    void offloadFlags() {
        // <linux/if_tun.h>
        assertEquals(0x4000, Ifreq.IFF_VNET_HDR);
        assertEquals(0x01, Ifreq.TUN_F_CSUM);
        assertEquals(0x02, Ifreq.TUN_F_TSO4);
        assertEquals(0x04, Ifreq.TUN_F_TSO6);
        assertEquals(0x08, Ifreq.TUN_F_TSO_ECN);
        assertEquals(0x10, Ifreq.TUN_F_UFO);
        assertEquals(0x20, Ifreq.TUN_F_USO4);
        assertEquals(0x40, Ifreq.TUN_F_USO6);
        assertEquals(0x07, LinuxTapDevice.OFFLOAD_FLAGS);
    }
}
