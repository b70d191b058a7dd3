package org.vl2.netio.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

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

    /**
     * The native memory of one batch: in {@code ctl} (native order) the message headers, then as many iovecs,
     * addresses and cmsgs, then {@code extraBytes} for the owner; and one data slot per message. Allocated once and
     * kept reachable for the socket's life (never freed explicitly, so a late call cannot touch freed memory);
     * untouched pages cost no RSS, so 64 KiB slots are cheap when datagrams are small.
     */
    public static final class Batch {
        public final Memory ctlMemory;
        public final Memory dataMemory;
        public final ByteBuffer ctl;
        /** Offsets in {@code ctl}: the iovecs, the addresses, the cmsgs, the owner's extra bytes. */
        public final long iovs;
        public final long names;
        public final long cmsgs;
        public final long extra;
        /** Native addresses of {@code ctl} and of the first data slot. */
        public final long base;
        public final long dataBase;

        public Batch(int batch, int extraBytes) {
            iovs = (long) batch * SIZE;
            names = iovs + (long) batch * IOVEC;
            cmsgs = names + (long) batch * SockAddr.SIZE;
            extra = cmsgs + (long) batch * CMSG;
            long ctlBytes = extra + extraBytes;
            ctlMemory = new Memory(ctlBytes);
            ctlMemory.clear();
            ctl = ctlMemory.getByteBuffer(0, ctlBytes).order(ByteOrder.nativeOrder());
            dataMemory = new Memory((long) batch * SLOT);
            base = Pointer.nativeValue(ctlMemory);
            dataBase = Pointer.nativeValue(dataMemory);
        }

        /** Message {@code i}'s header over its own address and data slot; address and data lengths as given. */
        public void header(int i, int nameLength, int dataLength) {
            write(ctl, base, (long) i * SIZE, base + names + (long) i * SockAddr.SIZE, nameLength,
                    iovs + (long) i * IOVEC, dataBase + (long) i * SLOT, dataLength);
        }
    }
}
