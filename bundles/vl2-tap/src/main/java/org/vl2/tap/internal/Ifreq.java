package org.vl2.tap.internal;

import java.nio.charset.StandardCharsets;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import org.vl2.api.MacAddress;

/**
 * {@code struct ifreq} and {@code struct in6_ifreq} in native memory, plus the ioctl request numbers that
 * use them. Used only while creating a device (not on the frame path).
 *
 * <p>Layout, identical on x86-64, aarch64 and riscv64 (LP64): {@code struct ifreq} is 40 bytes,
 * {@code char ifr_name[16]} followed by a 24-byte union (the largest member being {@code struct ifmap});
 * the members used here all start at offset 16:
 * <pre>
 *  0  ifr_name[16]            NUL-terminated interface name
 * 16  ifr_flags    short      TUNSETIFF, SIOCGIFFLAGS/SIOCSIFFLAGS
 * 16  ifr_ifindex  int        SIOCGIFINDEX, SIOCBRADDIF (index of the port to add)
 * 16  ifr_mtu      int        SIOCGIFMTU/SIOCSIFMTU
 * 16  ifr_addr     sockaddr   SIOCSIFADDR/SIOCSIFNETMASK: sockaddr_in {u16 family, u16 port, u8 addr[4]}
 * 16  ifr_hwaddr   sockaddr   SIOCGIFHWADDR/SIOCSIFHWADDR: {u16 ARPHRD_ETHER, u8 data[14]} (MAC first)
 * </pre>
 * {@code struct in6_ifreq} (SIOCSIFADDR on an AF_INET6 socket) is 24 bytes: {@code in6_addr} (16), then
 * {@code u32 ifr6_prefixlen} at 16 and {@code int ifr6_ifindex} at 20. Integers are in host order, addresses
 * in network order.
 */
final class Ifreq {

    static final int SIZE = 40;
    static final int IFNAMSIZ = 16;
    static final int UNION = 16;
    static final int IN6_IFREQ_SIZE = 24;

    // <linux/if_tun.h>: _IOW('T', 202, int) etc., asm-generic ioctl numbering
    static final long TUNSETIFF = 0x400454caL;
    /** _IOW('T', 208, unsigned int): takes TUN_F_* flags as a value (after TUNSETIFF with IFF_VNET_HDR). */
    static final long TUNSETOFFLOAD = 0x400454d0L;
    /** _IOW('T', 216, int): takes a pointer to the virtio_net_hdr size (10, or 12 with mergeable buffers). */
    static final long TUNSETVNETHDRSZ = 0x400454d8L;
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    /** Frames carry a virtio_net_hdr; then TUNSETVNETHDRSZ and TUNSETOFFLOAD. */
    static final short IFF_VNET_HDR = 0x4000;
    /** Fail with EBUSY if the name exists instead of attaching to an existing (persistent) TAP. */
    static final short IFF_TUN_EXCL = (short) 0x8000;

    // <linux/if_tun.h> TUNSETOFFLOAD flags: what user space can handle in what it reads
    /** Frames with a partial checksum (virtio NEEDS_CSUM); required by the TSO flags. */
    static final int TUN_F_CSUM = 0x01;
    /** TCP over IPv4 superframes (virtio GSO_TCPV4). */
    static final int TUN_F_TSO4 = 0x02;
    /** TCP over IPv6 superframes (virtio GSO_TCPV6). */
    static final int TUN_F_TSO6 = 0x04;
    /** TSO superframes with CWR set (virtio GSO_ECN); not requested: the kernel segments those itself. */
    static final int TUN_F_TSO_ECN = 0x08;
    /** UDP fragmentation offload; not requested. */
    static final int TUN_F_UFO = 0x10;
    /** UDP segmentation offload for IPv4 / IPv6 (Linux 6.2+); not requested. */
    static final int TUN_F_USO4 = 0x20;
    static final int TUN_F_USO6 = 0x40;

    // <linux/sockios.h>
    static final long SIOCGIFFLAGS = 0x8913;
    static final long SIOCSIFFLAGS = 0x8914;
    static final long SIOCSIFADDR = 0x8916;
    static final long SIOCSIFNETMASK = 0x891c;
    static final long SIOCGIFMTU = 0x8921;
    static final long SIOCSIFMTU = 0x8922;
    static final long SIOCSIFHWADDR = 0x8924;
    static final long SIOCGIFHWADDR = 0x8927;
    static final long SIOCGIFINDEX = 0x8933;
    static final long SIOCBRADDIF = 0x89a2;

    static final short IFF_UP = 0x1;
    static final short ARPHRD_ETHER = 1;

    private final Memory memory = new Memory(SIZE);

    Pointer pointer() {
        return memory;
    }

    /** Zeroes the struct and sets ifr_name. The name must be ASCII and at most 15 bytes (checked by TapSettings). */
    Ifreq reset(String name) {
        memory.clear();
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        if (b.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name too long: " + name);
        }
        memory.write(0, b, 0, b.length);
        return this;
    }

    String name() {
        byte[] b = memory.getByteArray(0, IFNAMSIZ);
        int n = 0;
        while (n < IFNAMSIZ && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.US_ASCII);
    }

    short flags() {
        return memory.getShort(UNION);
    }

    Ifreq flags(short flags) {
        memory.setShort(UNION, flags);
        return this;
    }

    int intValue() {
        return memory.getInt(UNION);
    }

    Ifreq intValue(int value) {
        memory.setInt(UNION, value);
        return this;
    }

    /** ifr_addr as sockaddr_in; {@code address} holds the 4 octets in network order. */
    Ifreq inet4(byte[] address) {
        memory.setShort(UNION, (short) LibC.AF_INET);
        memory.setShort(UNION + 2, (short) 0);
        memory.write(UNION + 4, address, 0, 4);
        return this;
    }

    Ifreq hwaddr(MacAddress mac) {
        memory.setShort(UNION, ARPHRD_ETHER);
        memory.write(UNION + 2, mac.toBytes(), 0, 6);
        return this;
    }

    MacAddress hwaddr() {
        return MacAddress.of(memory.getByteArray(UNION + 2, 6));
    }

    /** A struct in6_ifreq in its own memory. */
    static Memory in6Ifreq(byte[] address, int prefixLength, int ifIndex) {
        Memory m = new Memory(IN6_IFREQ_SIZE);
        m.clear();
        m.write(0, address, 0, 16);
        m.setInt(16, prefixLength);
        m.setInt(20, ifIndex);
        return m;
    }
}
