package org.vl2.netio.internal;

import java.nio.ByteBuffer;

/**
 * The layout of {@code struct mmsghdr} (a {@code msghdr} plus the kernel's {@code msg_len}), {@code struct iovec}
 * and the one {@code cmsghdr} vl2-netio uses (UDP_SEGMENT on send, UDP_GRO on receive) on LP64 Linux, and the
 * 64 KiB data slot every message points at. The headers live in a native-order buffer over native memory.
 */
public final class MsgHdr {

    /** A data slot: the largest UDP payload (65,507) fits, rounded up to a page multiple. */
    public static final int SLOT = 65_536;
    /** {@code struct mmsghdr}: msghdr (56) + msg_len + padding. */
    public static final int SIZE = 64;
    public static final int IOVEC = 16;
    /** Room for one cmsg: CMSG_SPACE(int) = 24, rounded up. */
    public static final int CMSG = 32;
    public static final int NAME = 0;
    public static final int NAMELEN = 8;
    public static final int IOV = 16;
    public static final int IOVLEN = 24;
    public static final int CONTROL = 32;
    public static final int CONTROLLEN = 40;
    /** {@code msg_len}: bytes the kernel received or sent for this message. */
    public static final int LEN = 56;
    /** {@code CMSG_LEN(sizeof(uint16_t))} and {@code CMSG_SPACE(sizeof(uint16_t))}: the UDP_SEGMENT cmsg. */
    public static final int CMSG_LEN_U16 = 18;
    public static final int CMSG_SPACE_U16 = 24;
    /** Offsets in a cmsghdr: level, type, data. */
    public static final int CMSG_LEVEL = 8;
    public static final int CMSG_TYPE = 12;
    public static final int CMSG_DATA = 16;

    private MsgHdr() {
    }

    /**
     * Writes the message header at {@code at} (offset in {@code ctl}, whose native address is {@code base}): its
     * address field ({@code name}, an absolute address, of {@code nameLength} bytes), one iovec at offset
     * {@code iov} over {@code dataLength} bytes at the absolute address {@code data}.
     */
    public static void write(ByteBuffer ctl, long base, long at, long name, int nameLength, long iov, long data,
                             int dataLength) {
        int h = (int) at;
        ctl.putLong(h + NAME, name);
        ctl.putInt(h + NAMELEN, nameLength);
        ctl.putLong(h + IOV, base + iov);
        ctl.putLong(h + IOVLEN, 1);
        ctl.putLong((int) iov, data);
        ctl.putLong((int) iov + 8, dataLength);
    }
}
