package org.vl2.transport.vxlan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.transport.vxlan.internal.Frames.DST;
import static org.vl2.transport.vxlan.internal.Frames.SRC;
import static org.vl2.transport.vxlan.internal.Frames.hash;
import static org.vl2.transport.vxlan.internal.Frames.ipv4;
import static org.vl2.transport.vxlan.internal.Frames.ipv6;
import static org.vl2.transport.vxlan.internal.Frames.tcp4;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.function.IntFunction;

import org.junit.jupiter.api.Test;

class FlowHashTest {

    private static final int A = 0x0A01_0165;
    private static final int B = 0x0A01_0166;

    @Test
    void oneFlowAlwaysHashesAlike() {
        int h = hash(ipv4(DST, SRC, -1, A, B, 6, 40000, 80, 1, 64, 0, 40));
        // IP id, TTL, length and payload change from packet to packet of a flow: none of them may matter
        assertEquals(h, hash(ipv4(DST, SRC, -1, A, B, 6, 40000, 80, 2, 63, 0, 1400)));
        assertEquals(h, hash(ipv4(DST, SRC, -1, A, B, 6, 40000, 80, 999, 1, 0, 0)));
        // the DF flag is not a fragment
        assertEquals(h, hash(ipv4(DST, SRC, -1, A, B, 6, 40000, 80, 3, 64, 0x4000, 10)));
    }

    @Test
    void everyFlowFieldCounts() {
        int h = hash(tcp4(A, B, 40000, 80));
        assertNotEquals(h, hash(tcp4(B, A, 40000, 80)));
        assertNotEquals(h, hash(tcp4(A, B + 1, 40000, 80)));
        assertNotEquals(h, hash(tcp4(A, B, 40001, 80)));
        assertNotEquals(h, hash(tcp4(A, B, 40000, 81)));
        assertNotEquals(h, hash(ipv4(DST, SRC, -1, A, B, 17, 40000, 80, 1, 64, 0, 40))); // UDP, same ports
        assertNotEquals(h, hash(ipv4(DST + 1, SRC, -1, A, B, 6, 40000, 80, 1, 64, 0, 40)));
        assertNotEquals(h, hash(ipv4(DST, SRC + 1, -1, A, B, 6, 40000, 80, 1, 64, 0, 40)));
    }

    @Test
    void oneVlanTagIsSkippedSoTheFlowBehindItCounts() {
        int h = hash(ipv4(DST, SRC, 42, A, B, 6, 40000, 80, 1, 64, 0, 40));
        assertEquals(h, hash(ipv4(DST, SRC, 42, A, B, 6, 40000, 80, 7, 12, 0, 900)));
        assertNotEquals(h, hash(ipv4(DST, SRC, 42, A, B, 6, 40001, 80, 1, 64, 0, 40)));
        assertNotEquals(h, hash(ipv4(DST, SRC, 43, A, B, 6, 40000, 80, 1, 64, 0, 40)));
        assertNotEquals(h, hash(ipv4(DST, SRC, -1, A, B, 6, 40000, 80, 1, 64, 0, 40)));
    }

    @Test
    void allFragmentsOfAPacketHashAlike() {
        int first = hash(ipv4(DST, SRC, -1, A, B, 17, 5000, 6000, 9, 64, 0x2000, 1400)); // MF, offset 0
        int middle = hash(ipv4(DST, SRC, -1, A, B, 17, 0x4142, 0x4344, 9, 64, 0x2000 | 185, 1400)); // data, no ports
        int last = hash(ipv4(DST, SRC, -1, A, B, 17, 0x1111, 0x2222, 9, 64, 370, 200));
        assertEquals(first, middle);
        assertEquals(first, last);
    }

    @Test
    void ipv6FlowsHashByAddressesAndPorts() {
        int h = hash(ipv6(1, 2, 6, 40000, 443, 10));
        assertEquals(h, hash(ipv6(1, 2, 6, 40000, 443, 1000)));
        assertNotEquals(h, hash(ipv6(1, 2, 6, 40001, 443, 10)));
        assertNotEquals(h, hash(ipv6(1, 3, 6, 40000, 443, 10)));
        assertNotEquals(h, hash(ipv6(3, 2, 6, 40000, 443, 10)));
    }

    @Test
    void readsTheFrameWhereItIsAndMovesNothing() {
        ByteBuffer f = tcp4(A, B, 40000, 80);
        ByteBuffer big = ByteBuffer.allocateDirect(f.remaining() + 100);
        big.position(37);
        big.put(f.duplicate());
        big.position(37).limit(37 + f.remaining());
        assertEquals(hash(f), hash(big));
        assertEquals(37, big.position());
        assertEquals(37 + f.remaining(), big.limit());
    }

    @Test
    void shortOrOddFramesStillHash() {
        assertEquals(hash(ByteBuffer.allocate(5)), hash(ByteBuffer.allocate(5)));
        // ports cut off: not read, so what lies behind the limit does not matter
        assertEquals(hash(tcp4(A, B, 40000, 80).limit(14 + 20 + 2)), hash(tcp4(A, B, 1, 2).limit(14 + 20 + 2)));
        ByteBuffer arp = ByteBuffer.allocate(60).putLong(0, -1L).putShort(12, (short) 0x0806);
        assertEquals(hash(arp), hash(arp.duplicate()));
    }

    /** Every one of {@code buckets} gets between half and twice its share of {@code flows} flows. */
    private static void spreads(IntFunction<ByteBuffer> flow, int flows, int buckets) {
        int[] count = new int[buckets];
        Set<Integer> distinct = new HashSet<>();
        for (int i = 0; i < flows; i++) {
            int h = hash(flow.apply(i));
            distinct.add(h);
            count[FlowHash.index(h, buckets)]++;
        }
        assertTrue(distinct.size() > flows * 99 / 100, distinct.size() + " distinct hashes of " + flows);
        int share = flows / buckets;
        for (int c : count) {
            assertTrue(c > share / 2 && c < share * 2, Arrays.toString(count));
        }
    }

    @Test
    void differentFlowsSpreadOverTheSourcePorts() {
        spreads(i -> tcp4(A, B, 32768 + i, 80), 4096, 16); // one client, many connections
        spreads(i -> tcp4(0x0A00_0000 + i, B, 40000, 80), 4096, 16); // many clients
        spreads(i -> ipv6(i, 2, 17, 5353, 5353, 0), 4096, 16);
        spreads(i -> tcp4(A, B, 40000 + i, 443), 6400, 64);
    }

    @Test
    void indexStaysInRange() {
        for (int n : new int[] {1, 2, 16, 64}) {
            for (int h : new int[] {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0x1234_5678}) {
                int i = FlowHash.index(h, n);
                assertTrue(i >= 0 && i < n, h + " -> " + i + " of " + n);
            }
        }
    }
}
