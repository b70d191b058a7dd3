package org.vl2.tap;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 10-byte {@code struct virtio_net_hdr} ({@code <linux/virtio_net.h>}) that an offload TAP device
 * ({@link TapDevice#offload()}) puts in front of every frame it hands out and expects in front of every frame
 * written to it. Static accessors at an absolute index of a buffer; nothing allocates, and the buffer's
 * position, limit and {@link ByteBuffer#order() order} are never touched.
 *
 * <pre>
 * 0  u8   flags        {@link #F_NEEDS_CSUM}, {@link #F_DATA_VALID}
 * 1  u8   gso_type     {@link #GSO_NONE}, {@link #GSO_TCPV4}, {@link #GSO_TCPV6}, optionally | {@link #GSO_ECN}
 * 2  u16  hdr_len      length of the headers (Ethernet + IP + TCP) of a GSO frame
 * 4  u16  gso_size     payload bytes per segment of a GSO frame (the MSS)
 * 6  u16  csum_start   where the partial checksum starts, from the start of the Ethernet frame
 * 8  u16  csum_offset  where, from csum_start, the checksum is stored (16 for TCP, 6 for UDP)
 * </pre>
 *
 * <p><b>Byte order.</b> The 16-bit fields are in the host's native order ({@link #ORDER}), little-endian on
 * x86-64, aarch64 and riscv64: the tun driver uses the legacy virtio byte order unless someone sets
 * TUNSETVNETLE/TUNSETVNETBE, and legacy virtio is native-endian ({@code virtio_legacy_is_little_endian()}).
 * vl2 never sets either, so native order is what the kernel reads and writes.
 *
 * <p><b>Meaning on read</b> (what the kernel hands out): {@code gso_type} NONE with flags 0 or
 * {@code DATA_VALID} is a complete frame; NONE with {@code NEEDS_CSUM} is a complete frame whose TCP/UDP
 * checksum field holds only the pseudo-header sum and must be completed over {@code [csum_start, end)};
 * TCPV4/TCPV6 is a superframe of up to 64 KiB to be cut into {@code gso_size} segments
 * ({@link TsoSegmenter} does both). The kernel's {@code hdr_len} on read is a hint (the tun driver reports
 * the length of the skb's linear part, often more than the headers): do not trust it.
 *
 * <p><b>Meaning on write</b>: all zero (or {@code DATA_VALID}) for a plain, fully checksummed frame;
 * {@code NEEDS_CSUM} + TCPV4/TCPV6 + {@code gso_size} for a coalesced superframe that the kernel takes in
 * as if it had been received and merged by GRO ({@link TcpCoalescer} builds them).
 */
public final class VirtioNetHeader {

    /** {@code sizeof(struct virtio_net_hdr)}: the header vl2 configures with TUNSETVNETHDRSZ. */
    public static final int LENGTH = 10;

    /** flags: the checksum from csum_start to the end is partial (pseudo-header only) and must be completed. */
    public static final int F_NEEDS_CSUM = 1;
    /** flags: the checksum has been verified (the kernel need not check it again). */
    public static final int F_DATA_VALID = 2;

    /** gso_type: not a GSO frame. */
    public static final int GSO_NONE = 0;
    /** gso_type: TCP over IPv4 superframe (TSO). */
    public static final int GSO_TCPV4 = 1;
    /** gso_type: UDP fragmentation offload (never handed out: vl2 does not offer TUN_F_UFO). */
    public static final int GSO_UDP = 3;
    /** gso_type: TCP over IPv6 superframe (TSO). */
    public static final int GSO_TCPV6 = 4;
    /** gso_type: UDP segmentation offload (never handed out: vl2 does not offer TUN_F_USO4/6). */
    public static final int GSO_UDP_L4 = 5;
    /** gso_type flag: the first segment carries CWR (ECN); CWR must not be repeated on the others. */
    public static final int GSO_ECN = 0x80;

    /** Byte order of the 16-bit fields: the host's, see the class comment. */
    public static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private static final boolean LITTLE = ORDER == ByteOrder.LITTLE_ENDIAN;

    private static final int FLAGS = 0;
    private static final int GSO_TYPE = 1;
    private static final int HDR_LEN = 2;
    private static final int GSO_SIZE = 4;
    private static final int CSUM_START = 6;
    private static final int CSUM_OFFSET = 8;

    private VirtioNetHeader() {
    }

    public static int flags(ByteBuffer b, int at) {
        return b.get(at + FLAGS) & 0xFF;
    }

    public static int gsoType(ByteBuffer b, int at) {
        return b.get(at + GSO_TYPE) & 0xFF;
    }

    public static int hdrLen(ByteBuffer b, int at) {
        return u16(b, at + HDR_LEN);
    }

    public static int gsoSize(ByteBuffer b, int at) {
        return u16(b, at + GSO_SIZE);
    }

    public static int csumStart(ByteBuffer b, int at) {
        return u16(b, at + CSUM_START);
    }

    public static int csumOffset(ByteBuffer b, int at) {
        return u16(b, at + CSUM_OFFSET);
    }

    /** Writes a whole header at {@code at}; 16-bit values are truncated to 16 bits. */
    public static void put(ByteBuffer b, int at, int flags, int gsoType, int hdrLen, int gsoSize, int csumStart,
            int csumOffset) {
        b.put(at + FLAGS, (byte) flags);
        b.put(at + GSO_TYPE, (byte) gsoType);
        putU16(b, at + HDR_LEN, hdrLen);
        putU16(b, at + GSO_SIZE, gsoSize);
        putU16(b, at + CSUM_START, csumStart);
        putU16(b, at + CSUM_OFFSET, csumOffset);
    }

    /** Writes the all-zero header of a plain, fully checksummed frame (what a write without offload means). */
    public static void putPlain(ByteBuffer b, int at) {
        b.putLong(at, 0L);
        b.putShort(at + 8, (short) 0);
    }

    /** The header at {@code at} in words, for logs and test messages. */
    public static String toString(ByteBuffer b, int at) {
        return "virtio_net_hdr[flags=" + flags(b, at) + ", gso_type=" + gsoType(b, at) + ", hdr_len=" + hdrLen(b, at)
                + ", gso_size=" + gsoSize(b, at) + ", csum_start=" + csumStart(b, at) + ", csum_offset="
                + csumOffset(b, at) + "]";
    }

    private static int u16(ByteBuffer b, int at) {
        int b0 = b.get(at) & 0xFF;
        int b1 = b.get(at + 1) & 0xFF;
        return LITTLE ? b0 | b1 << 8 : b0 << 8 | b1;
    }

    private static void putU16(ByteBuffer b, int at, int v) {
        b.put(at, (byte) (LITTLE ? v : v >>> 8));
        b.put(at + 1, (byte) (LITTLE ? v >>> 8 : v));
    }
}
