package org.vl2.tap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.vl2.tap.Cidr;
import org.vl2.tap.TapException;

/** Every message names the cause and the fix, and carries the errno for support. */
class TapErrorsTest {

    private static void has(TapException e, int errno, String... parts) {
        assertEquals(errno, e.errno());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "'" + p + "' not in: " + e.getMessage());
        }
    }

    @Test
    void openTun() {
        has(TapErrors.openTun(2), 2, "/dev/net/tun does not exist", "modprobe tun", "[errno 2 ENOENT: ");
        has(TapErrors.openTun(19), 19, "modprobe tun", "ENODEV");
        has(TapErrors.openTun(13), 13, "needs CAP_NET_ADMIN: run as root or grant the capability", "EACCES");
        has(TapErrors.openTun(1), 1, "needs CAP_NET_ADMIN", "EPERM");
    }

    @Test
    void createTap() {
        has(TapErrors.createTap("vl2p1", 16), 16,
                "device vl2p1 exists and is not a TAP device: choose another --tap name", "EBUSY");
        has(TapErrors.createTap("vl2p1", 17), 17, "device vl2p1 exists", "EEXIST");
        has(TapErrors.createTap("vl2p1", 1), 1, "creating TAP device vl2p1 needs CAP_NET_ADMIN", "EPERM");
        has(TapErrors.createTap("vl2p1", 22), 22, "1 to 15 characters", "EINVAL");
    }

    @Test
    void bridgeAndAddresses() {
        has(TapErrors.bridgeNotFound("br0", 19), 19,
                "bridge br0 not found: create it with 'ip link add br0 type bridge'", "ENODEV");
        has(TapErrors.enslave("t", "lo", 95), 95, "lo is not a Linux bridge", "EOPNOTSUPP");
        has(TapErrors.address("t", Cidr.parse("fd00::1/64"), "SIOCSIFADDR", 13), 13, "IPv6 is disabled",
                "disable_ipv6=0");
        has(TapErrors.address("t", Cidr.parse("fd00::1/64"), "SIOCSIFADDR", 17), 17,
                "address fd00::1/64 already exists on t", "EEXIST");
        has(TapErrors.address("t", Cidr.parse("10.1.1.1/24"), "SIOCSIFADDR", 1), 1, "needs CAP_NET_ADMIN");
        has(TapErrors.socket("IPv6", 97), 97, "ipv6.disable=1", "EAFNOSUPPORT");
    }

    @Test
    void writesAndOffload() {
        has(TapErrors.write("t", 5, false, 22), 22, "TAP device t refused a frame of 5 bytes",
                "at least the 14-byte Ethernet header", "EINVAL");
        has(TapErrors.write("t", 70, true, 22), 22, "with offload a write needs the 10-byte virtio header",
                "EINVAL");
        has(TapErrors.write("t", 70, true, 5), 5, "writing a frame of 70 bytes to TAP device t failed", "EIO");
        has(TapErrors.offloadRefused("t", 22), 22, "TAP device t: the kernel refused TUNSETOFFLOAD",
                "working without offload", "EINVAL");
    }

    @Test
    void unknownErrnoStillReported() {
        has(TapErrors.read("t", 1234), 1234, "reading a frame from TAP device t failed [errno 1234]");
        assertEquals("errno 16 EBUSY: Device or resource busy", Errno.describe(16));
        assertEquals("EBADFD", Errno.name(77));
        assertEquals("errno -1", Errno.name(-1));
    }
}
