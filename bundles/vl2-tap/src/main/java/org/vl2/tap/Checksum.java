package org.vl2.tap;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071) on buffers: the one's-complement sum of 16-bit big-endian words.
 *
 * <p>{@link #sum} reads eight bytes at a time with {@link ByteBuffer#getLong(int)} in whatever order the buffer
 * has and byte-swaps the folded result if that order is little-endian (the one's-complement sum of byte-swapped
 * words is the byte-swapped sum, RFC 1071 section 2(B)); so it never changes the buffer's order, allocates
 * nothing and works on heap and direct buffers alike. Sums are returned folded to 16 bits, not complemented:
 * combine partial sums with {@link #add}, finish with {@code ~sum & 0xFFFF}.
 */
final class Checksum {

    static final int PROTO_TCP = 6;

    private Checksum() {
    }

    /**
     * The one's-complement sum of the bytes {@code [from, to)} taken as 16-bit big-endian words (a last odd byte
     * is the high half of a word), folded to 16 bits; 0 for an empty range.
     */
    static int sum(ByteBuffer b, int from, int to) {
        long s = 0;
        int i = from;
        int last8 = to - 8;
        // two independent accumulators: the adds of consecutive words do not wait for each other
        long s2 = 0;
        while (i <= last8 - 8) {
            long x = b.getLong(i);
            long y = b.getLong(i + 8);
            s += (x >>> 32) + (x & 0xFFFF_FFFFL);
            s2 += (y >>> 32) + (y & 0xFFFF_FFFFL);
            i += 16;
        }
        if (i <= last8) {
            long x = b.getLong(i);
            s += (x >>> 32) + (x & 0xFFFF_FFFFL);
            i += 8;
        }
        if (i + 4 <= to) {
            s += b.getInt(i) & 0xFFFF_FFFFL;
            i += 4;
        }
        if (i + 2 <= to) {
            s += b.getShort(i) & 0xFFFF;
            i += 2;
        }
        int f = fold(s + s2);
        if (b.order() == ByteOrder.LITTLE_ENDIAN) {
            f = (f >>> 8) | (f & 0xFF) << 8;
        }
        if (i < to) {
            f = fold(f + ((b.get(i) & 0xFF) << 8));
        }
        return f;
    }

    /** One's-complement addition of two folded sums. */
    static int add(int a, int b) {
        return fold((long) a + b);
    }

    static int fold(long s) {
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    /**
     * The folded sum of the TCP/UDP pseudo header: source and destination address ({@code addressLength} bytes
     * each, consecutive from {@code srcAt}, as in both IPv4 and IPv6 headers), the protocol and the upper-layer
     * length.
     */
    static int pseudoHeader(ByteBuffer b, int srcAt, int addressLength, int protocol, int l4Length) {
        return fold((long) sum(b, srcAt, srcAt + 2 * addressLength) + protocol + (l4Length >>> 16)
                + (l4Length & 0xFFFF));
    }

    static int u16(ByteBuffer b, int at) {
        return (b.get(at) & 0xFF) << 8 | b.get(at + 1) & 0xFF;
    }

    static void putU16(ByteBuffer b, int at, int v) {
        b.put(at, (byte) (v >>> 8));
        b.put(at + 1, (byte) v);
    }

    static int u32(ByteBuffer b, int at) {
        return u16(b, at) << 16 | u16(b, at + 2);
    }

    static void putU32(ByteBuffer b, int at, int v) {
        putU16(b, at, v >>> 16);
        putU16(b, at + 2, v);
    }
}
