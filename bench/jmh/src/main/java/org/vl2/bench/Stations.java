package org.vl2.bench;

import java.nio.ByteBuffer;
import java.util.Random;

/** Test stations and frames for the benchmarks. */
public final class Stations {

    private static final long LOW_40 = (1L << 40) - 1;
    /** Odd, so multiplying by it permutes the 40-bit numbers: distinct indexes give distinct MACs. */
    private static final long SCATTER = 0x9E37_79B9_7FL;

    private Stations() {
    }

    /**
     * The MAC of station {@code i} (0 <= i < 2^40): locally administered unicast {@code 02:xx:xx:xx:xx:xx}, the
     * low 40 bits scattered so that neighbouring stations do not share high bytes.
     */
    public static long mac(long i) {
        return 0x0200_0000_0000L | ((i * SCATTER) & LOW_40);
    }

    /** Fisher-Yates. */
    public static void shuffle(long[] a, Random rnd) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            long x = a[i];
            a[i] = a[j];
            a[j] = x;
        }
    }

    /**
     * An Ethernet frame of {@code length} bytes (without FCS) in a direct buffer, as a transport receives it:
     * {@code vlan < 0} means untagged, else an 802.1Q tag with that VLAN id; EtherType 0x88b5 (local
     * experimental), payload bytes 0x5a.
     */
    public static ByteBuffer frame(long dst, long src, int vlan, int length) {
        ByteBuffer b = ByteBuffer.allocateDirect(length);
        b.putShort((short) (dst >>> 32)).putInt((int) dst);
        b.putShort((short) (src >>> 32)).putInt((int) src);
        if (vlan >= 0) {
            b.putShort((short) 0x8100).putShort((short) vlan);
        }
        b.putShort((short) 0x88b5);
        while (b.hasRemaining()) {
            b.put((byte) 0x5a);
        }
        return b.flip();
    }
}
