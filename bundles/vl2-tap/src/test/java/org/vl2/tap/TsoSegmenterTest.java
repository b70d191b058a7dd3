package org.vl2.tap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.vl2.tap.Packets.Tcp;
import org.vl2.tap.TsoSegmenter.Result;

class TsoSegmenterTest {

    private static final int MTU = 1500;
    private static final int OUT_OFFSET = 16;

    private final TsoSegmenter segmenter = new TsoSegmenter(MTU);
    private final ByteBuffer out = ByteBuffer.allocateDirect(OUT_OFFSET + segmenter.maxSegmentLength() + 16);

    /** Copies every segment; checks it lies where the contract says. */
    private static final class Collect implements TsoSegmenter.SegmentSink<RuntimeException> {
        final List<byte[]> segments = new ArrayList<>();
        /** For each segment, the buffer (among those given) whose content the view shares. */
        final List<ByteBuffer> buffers = new ArrayList<>();
        final List<Integer> offsets = new ArrayList<>();
        final ByteBuffer[] candidates;

        Collect(ByteBuffer... candidates) {
            this.candidates = candidates;
        }

        @Override
        public void segment(ByteBuffer buf, int offset, int length) {
            assertEquals(offset, buf.position());
            assertEquals(offset + length, buf.limit());
            assertEquals(ByteOrder.BIG_ENDIAN, buf.order());
            segments.add(Packets.remaining(buf));
            offsets.add(offset);
            ByteBuffer source = null;
            byte old = buf.get(offset);
            buf.put(offset, (byte) ~old);
            for (ByteBuffer c : candidates) {
                if (c.get(offset) == (byte) ~old) {
                    source = c;
                }
            }
            buf.put(offset, old);
            buffers.add(source);
            // scribble over the segment and around it, as an in-place encryption would: the next segment's
            // headers must not depend on what the sink did to this one, nor on the view's position and limit
            buf.limit(buf.capacity());
            for (int i = Math.max(0, offset - 16); i < Math.min(buf.capacity(), offset + length + 16); i++) {
                buf.put(i, (byte) 0xA5);
            }
            buf.position(0);
        }
    }

    private Collect segment(byte[] read) {
        return segment(Packets.direct(read, 6), 6, read.length, Result.SEGMENTED);
    }

    private Collect segment(ByteBuffer in, int offset, int length, Result expected) {
        Collect c = new Collect(in, out);
        Result r = segmenter.segment(in, offset, length, out, OUT_OFFSET, c);
        assertEquals(expected, r);
        assertEquals(c.segments.size(), segmenter.lastSegmentCount());
        return c;
    }

    private static Tcp bulkV4(int payload, long seed) {
        Tcp t = Tcp.v4();
        t.options = Packets.timestamps(0x01020304, 0x0a0b0c0d);
        t.payload = Packets.random(new Random(seed), payload);
        t.flags = Packets.TCP_ACK | Packets.TCP_PSH;
        return t;
    }

    private static Tcp bulkV6(int payload, long seed) {
        Tcp t = Tcp.v6();
        t.options = Packets.timestamps(0x01020304, 0x0a0b0c0d);
        t.payload = Packets.random(new Random(seed), payload);
        t.flags = Packets.TCP_ACK | Packets.TCP_PSH;
        return t;
    }

    private void assertSegments(Tcp t, int gsoSize, Collect c) {
        byte[][] expected = t.expectedSegments(gsoSize);
        assertEquals(expected.length, c.segments.size(), "segment count");
        for (int i = 0; i < expected.length; i++) {
            int index = i;
            assertArrayEquals(expected[i], c.segments.get(i), () -> "segment " + index + " of " + expected.length);
            assertTrue(c.segments.get(i).length <= 14 + MTU);
            assertSame(out, c.buffers.get(i));
            assertEquals(OUT_OFFSET, c.offsets.get(i));
            if (t.vlanTypes.length == 0 && t.hopByHop == null) {
                assertTrue(Packets.tcpChecksumOk(c.segments.get(i)), "checksum of segment " + i);
            }
        }
    }

    @Test
    void ipv4SuperframeWithTimestamps() {
        Tcp t = bulkV4(64_000, 1);
        t.flags |= Packets.TCP_FIN;
        int gso = MTU - 20 - 32;
        Collect c = segment(t.superframe(gso, 0, t.headersLength()));
        assertSegments(t, gso, c);
        assertEquals(45, c.segments.size());
        byte[] first = c.segments.get(0);
        byte[] last = c.segments.get(44);
        assertEquals(Packets.TCP_ACK, first[14 + 20 + 13]);
        assertEquals(Packets.TCP_ACK | Packets.TCP_PSH | Packets.TCP_FIN, last[14 + 20 + 13]);
        assertEquals(0x1234 + 44, Packets.u16(last, 18));
        assertEquals(1_000_000 + 44 * gso, Packets.u32(last, 14 + 20 + 4));
        assertEquals(14 + 20 + 32 + (64_000 - 44 * gso), last.length);
    }

    @Test
    void ipv6SuperframeWithTimestamps() {
        Tcp t = bulkV6(30_001, 2);
        int gso = MTU - 40 - 32;
        Collect c = segment(t.superframe(gso, 0, t.headersLength()));
        assertSegments(t, gso, c);
        assertEquals(22, c.segments.size());
        assertEquals(MTU - 40, Packets.u16(c.segments.get(0), 18)); // payload length
    }

    @Test
    void cwrOnlyOnTheFirstSegmentWithGsoEcn() {
        Tcp t = bulkV4(5000, 3);
        t.flags = Packets.TCP_ACK | Packets.TCP_CWR | Packets.TCP_ECE | Packets.TCP_PSH;
        Collect c = segment(t.superframe(1000, VirtioNetHeader.GSO_ECN, t.headersLength()));
        assertSegments(t, 1000, c);
        assertEquals(Packets.TCP_ACK | Packets.TCP_CWR | Packets.TCP_ECE, c.segments.get(0)[47] & 0xFF);
        assertEquals(Packets.TCP_ACK | Packets.TCP_ECE, c.segments.get(1)[47] & 0xFF);
        assertEquals(Packets.TCP_ACK | Packets.TCP_ECE | Packets.TCP_PSH, c.segments.get(4)[47] & 0xFF);
    }

    @Test
    void sequenceNumbersAndIdsWrapAround() {
        Tcp t = bulkV4(10_000, 4);
        t.seq = -3000; // 2^32 - 3000
        t.id = 0xFFFE;
        t.df = false;
        Collect c = segment(t.superframe(1448, 0, t.headersLength()));
        assertSegments(t, 1448, c);
        assertEquals(0, Packets.u16(c.segments.get(2), 18));
        assertEquals((1448L * 3 - 3000) & 0xFFFF_FFFFL, Packets.u32(c.segments.get(3), 38));
    }

    @Test
    void ipOptionsAndTcpOptionsAreCopied() {
        Tcp t = bulkV4(4000, 5);
        t.ipOptions = new byte[] {(byte) 0x94, 4, 0, 0, 1, 1, 1, 0}; // router alert, NOPs, EOL
        t.options = new byte[] {2, 4, 5, (byte) 0xb4, 1, 3, 3, 7}; // MSS, NOP, window scale
        Collect c = segment(t.superframe(1000, 0, t.headersLength()));
        assertSegments(t, 1000, c);
        assertEquals(0x47, c.segments.get(0)[14]);
    }

    @Test
    void ipv6HopByHopHeaderIsCopied() {
        Tcp t = bulkV6(4000, 6);
        t.hopByHop = new byte[] {1, 4, 0, 0, 0, 0}; // PadN
        Collect c = segment(t.superframe(1000, 0, t.headersLength()));
        assertSegments(t, 1000, c);
    }

    @Test
    void vlanTaggedSuperframesKeepTheirTags() {
        Tcp t = bulkV4(4000, 7);
        t.vlanTypes = new int[] {0x8100};
        t.vlanIds = new int[] {42};
        assertSegments(t, 1000, segment(t.superframe(1000, 0, t.headersLength())));
        Tcp q = bulkV6(4000, 8);
        q.vlanTypes = new int[] {0x88A8, 0x8100};
        q.vlanIds = new int[] {7, 42};
        assertSegments(q, 1000, segment(q.superframe(1000, 0, q.headersLength())));
        Tcp three = bulkV4(4000, 9);
        three.vlanTypes = new int[] {0x88A8, 0x8100, 0x8100};
        three.vlanIds = new int[] {1, 2, 3};
        byte[] read = three.superframe(1000, 0, three.headersLength());
        segment(Packets.direct(read, 0), 0, read.length, Result.UNSUPPORTED_HEADERS);
    }

    @Test
    void theKernelsHdrLenIsOnlyAHint() {
        Tcp t = bulkV4(4000, 10);
        // the tun driver reports skb_headlen() there: anything from 0 to more than the headers
        for (int hdrLen : new int[] {0, 1, 54, 66, 128, 4000, 65_535}) {
            assertSegments(t, 1000, segment(t.superframe(1000, 0, hdrLen)));
        }
    }

    @Test
    void withoutNeedsCsumTheChecksumsAreComputedAnyway() {
        Tcp t = bulkV4(3000, 11);
        byte[] read = t.superframe(1000, 0, 0);
        read[0] = 0; // flags: no NEEDS_CSUM, csum_start/offset ignored
        assertSegments(t, 1000, segment(read));
    }

    @Test
    void smallSuperframesAndEmptyPayload() {
        Tcp one = bulkV4(1000, 12);
        assertSegments(one, 1448, segment(one.superframe(1448, 0, 0))); // payload <= gso_size: one segment
        Tcp exact = bulkV4(2896, 13);
        assertSegments(exact, 1448, segment(exact.superframe(1448, 0, 0)));
        Tcp empty = bulkV4(0, 14);
        assertSegments(empty, 1448, segment(empty.superframe(1448, 0, 0)));
        Tcp tiny = bulkV6(100, 15);
        assertSegments(tiny, 1, segment(tiny.superframe(1, 0, 0))); // 100 segments of one byte
    }

    @Test
    void plainFramesArePassedInPlace() {
        Tcp t = bulkV4(1000, 16);
        byte[] frame = t.build();
        for (int flags : new int[] {0, VirtioNetHeader.F_DATA_VALID}) {
            byte[] read = new byte[10 + frame.length];
            read[0] = (byte) flags;
            System.arraycopy(frame, 0, read, 10, frame.length);
            ByteBuffer in = Packets.direct(read, 6);
            Collect c = segment(in, 6, read.length, Result.PASSED);
            assertEquals(1, c.segments.size());
            assertSame(in, c.buffers.get(0));
            assertEquals(16, c.offsets.get(0));
            assertArrayEquals(frame, c.segments.get(0));
        }
        // a runt frame (anything from 14 bytes, e.g. an unknown EtherType) is passed as it is
        byte[] runt = new byte[10 + 14];
        segment(Packets.direct(runt, 0), 0, runt.length, Result.PASSED);
    }

    @Test
    void partialTcpChecksumIsCompleted() {
        for (Tcp t : new Tcp[] {bulkV4(1000, 17), bulkV6(999, 18)}) {
            byte[] read = t.superframe(0, 0, 0);
            ByteBuffer header = ByteBuffer.wrap(read);
            VirtioNetHeader.put(header, 0, VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_NONE, 0, 0,
                    t.l2Length() + t.ipHeaderLength(), 16);
            ByteBuffer in = Packets.direct(read, 0);
            Collect c = segment(in, 0, read.length, Result.PASSED);
            assertArrayEquals(t.build(), c.segments.get(0));
            assertSame(in, c.buffers.get(0));
        }
    }

    /** A UDP datagram whose checksum comes out as 0 gets 0xFFFF, as the kernel writes it (0 means none). */
    @Test
    void partialUdpChecksumOfZeroBecomesAllOnes() {
        byte[] f = new byte[14 + 20 + 8 + 10];
        Packets.put16(f, 12, 0x0800);
        f[14] = 0x45;
        Packets.put16(f, 16, 20 + 8 + 10);
        f[22] = 64;
        f[23] = 17;
        byte[] addresses = {10, 0, 0, 1, 10, 0, 0, 2};
        System.arraycopy(addresses, 0, f, 26, 8);
        Packets.put16(f, 34, 1234);
        Packets.put16(f, 36, 53);
        Packets.put16(f, 38, 18);
        int pseudo = Packets.referenceSum(addresses, 0, 8, 17 + 18);
        Packets.put16(f, 40, pseudo);
        // choose the last payload word so that the whole sum is 0xFFFF, i.e. the checksum 0
        int partial = Packets.referenceSum(f, 34, f.length, 0);
        Packets.put16(f, f.length - 2, ~partial & 0xFFFF);
        assertEquals(0xFFFF, Packets.referenceSum(f, 34, f.length, 0));
        byte[] read = new byte[10 + f.length];
        VirtioNetHeader.put(ByteBuffer.wrap(read), 0, VirtioNetHeader.F_NEEDS_CSUM, 0, 0, 0, 34, 6);
        System.arraycopy(f, 0, read, 10, f.length);
        Collect c = segment(Packets.direct(read, 0), 0, read.length, Result.PASSED);
        byte[] done = c.segments.get(0);
        assertEquals(0xFFFF, Packets.u16(done, 40));
        assertEquals(0xFFFF, Packets.referenceSum(done, 34, done.length, pseudo), "still a valid checksum");
    }

    @Test
    void badChecksumOffsets() {
        Tcp t = bulkV4(3000, 19);
        byte[] read = t.superframe(1000, 0, 0);
        ByteBuffer h = ByteBuffer.wrap(read);
        VirtioNetHeader.put(h, 0, VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4, 0, 1000, 33, 16);
        segment(Packets.direct(read, 0), 0, read.length, Result.BAD_CHECKSUM_OFFSETS);
        VirtioNetHeader.put(h, 0, VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4, 0, 1000, 34, 6);
        segment(Packets.direct(read, 0), 0, read.length, Result.BAD_CHECKSUM_OFFSETS);
        // GSO_NONE: csum_start + csum_offset + 2 beyond the frame
        int frameLength = read.length - 10;
        VirtioNetHeader.put(h, 0, VirtioNetHeader.F_NEEDS_CSUM, 0, 0, 0, frameLength - 1, 0);
        segment(Packets.direct(read, 0), 0, read.length, Result.BAD_CHECKSUM_OFFSETS);
        VirtioNetHeader.put(h, 0, VirtioNetHeader.F_NEEDS_CSUM, 0, 0, 0, 65_535, 65_535);
        segment(Packets.direct(read, 0), 0, read.length, Result.BAD_CHECKSUM_OFFSETS);
        VirtioNetHeader.put(h, 0, VirtioNetHeader.F_NEEDS_CSUM, 0, 0, 0, frameLength - 2, 0);
        segment(Packets.direct(read, 0), 0, read.length, Result.PASSED); // the last two bytes: fine
    }

    @Test
    void unsupportedGsoTypes() {
        Tcp t = bulkV4(3000, 20);
        byte[] read = t.superframe(1000, 0, 0);
        for (int type : new int[] {2, 3, 5, 6, 0x7F, 0x83, 0xFF}) {
            read[1] = (byte) type;
            segment(Packets.direct(read, 0), 0, read.length, Result.UNSUPPORTED_GSO);
        }
        read[1] = VirtioNetHeader.GSO_TCPV4;
        VirtioNetHeader.put(ByteBuffer.wrap(read), 0, 1, 1, 0, 0, 34, 16); // gso_size 0
        segment(Packets.direct(read, 0), 0, read.length, Result.UNSUPPORTED_GSO);
    }

    @Test
    void notTcpOverTheRightIpVersion() {
        Tcp v6 = bulkV6(3000, 21);
        byte[] read = v6.superframe(1000, 0, 0);
        read[1] = VirtioNetHeader.GSO_TCPV4;
        segment(Packets.direct(read, 0), 0, read.length, Result.NOT_TCP);
        Tcp v4 = bulkV4(3000, 22);
        read = v4.superframe(1000, 0, 0);
        read[1] = VirtioNetHeader.GSO_TCPV6;
        segment(Packets.direct(read, 0), 0, read.length, Result.NOT_TCP);
        read = v4.superframe(1000, 0, 0);
        read[10 + 23] = 17; // UDP
        segment(Packets.direct(read, 0), 0, read.length, Result.NOT_TCP);
        read = v4.superframe(1000, 0, 0);
        read[10 + 20] |= 0x20; // more fragments
        segment(Packets.direct(read, 0), 0, read.length, Result.NOT_TCP);
        read = v4.superframe(1000, 0, 0);
        read[10 + 14] = 0x65; // version 6 in an IPv4 EtherType
        segment(Packets.direct(read, 0), 0, read.length, Result.NOT_TCP);
        read = v4.superframe(1000, 0, 0);
        Packets.put16(read, 10 + 12, 0x0806); // ARP
        segment(Packets.direct(read, 0), 0, read.length, Result.NOT_TCP);
    }

    @Test
    void ipv6ExtensionHeadersThatChangeThePseudoHeaderAreRefused() {
        Tcp t = bulkV6(3000, 23);
        t.hopByHop = new byte[] {1, 4, 0, 0, 0, 0};
        byte[] read = t.superframe(1000, 0, 0);
        read[10 + 14 + 6] = 43; // routing header instead of hop-by-hop
        segment(Packets.direct(read, 0), 0, read.length, Result.UNSUPPORTED_HEADERS);
        read[10 + 14 + 6] = 44; // fragment
        segment(Packets.direct(read, 0), 0, read.length, Result.UNSUPPORTED_HEADERS);
    }

    @Test
    void segmentsLongerThanTheMaximumAreRefused() {
        Tcp t = bulkV4(20_000, 24);
        byte[] read = t.superframe(MTU - 20 - 32 + 1, 0, 0);
        segment(Packets.direct(read, 0), 0, read.length, Result.TOO_LONG);
        read = t.superframe(MTU - 20 - 32, 0, 0);
        segment(Packets.direct(read, 0), 0, read.length, Result.SEGMENTED);
        // a superframe smaller than one segment may still be too long if its one segment is
        Tcp small = bulkV4(MTU, 25);
        read = small.superframe(9000, 0, 0);
        segment(Packets.direct(read, 0), 0, read.length, Result.TOO_LONG);
    }

    @Test
    void truncationAtEveryLengthIsReportedWithoutReadingOutside() {
        for (Tcp t : new Tcp[] {bulkV4(3000, 26), bulkV6(3000, 27)}) {
            t.vlanTypes = new int[] {0x8100};
            t.vlanIds = new int[] {5};
            byte[] read = t.superframe(1000, 0, 0);
            for (int n = 0; n < read.length; n++) {
                ByteBuffer in = ByteBuffer.allocateDirect(n); // capacity n: reading beyond would throw
                in.put(0, read, 0, n);
                Collect c = new Collect(out);
                Result r = segmenter.segment(in, 0, n, out, OUT_OFFSET, c);
                assertEquals(Result.TRUNCATED, r, "length " + n);
                assertTrue(c.segments.isEmpty());
            }
        }
    }

    @Test
    void inputAtAnOffsetInALargerBufferIsNotReadBeyondItsLength() {
        Tcp t = bulkV4(3000, 28);
        byte[] read = t.superframe(1000, 0, 0);
        byte[] big = new byte[read.length + 100];
        Arrays.fill(big, (byte) 0x45);
        System.arraycopy(read, 0, big, 50, read.length);
        // claim 60 bytes less: the IP total length now points beyond the given range
        segment(ByteBuffer.wrap(big), 50, read.length - 60, Result.TRUNCATED);
        assertSegments(t, 1000, segment(ByteBuffer.wrap(big), 50, read.length, Result.SEGMENTED));
    }

    @Test
    void anyByteOrderAndHeapBuffersWork() {
        Tcp t = bulkV6(5000, 29);
        byte[] read = t.superframe(1200, 0, 0);
        ByteBuffer in = ByteBuffer.wrap(read).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer heapOut = ByteBuffer.allocate(segmenter.maxSegmentLength()).order(ByteOrder.LITTLE_ENDIAN);
        Collect c = new Collect(out);
        assertEquals(Result.SEGMENTED, segmenter.segment(in, 0, read.length, heapOut, 0, c));
        byte[][] expected = t.expectedSegments(1200);
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], c.segments.get(i));
        }
        assertEquals(ByteOrder.LITTLE_ENDIAN, in.order());
        assertEquals(0, in.position());
        assertEquals(read.length, in.limit());
    }

    @Test
    void aFailingSinkStopsTheSegmentation() {
        Tcp t = bulkV4(5000, 30);
        byte[] read = t.superframe(1000, 0, 0);
        int[] calls = {0};
        TsoSegmenter.SegmentSink<IOException> failing = (buf, offset, length) -> {
            if (++calls[0] == 2) {
                throw new IOException("send failed");
            }
        };
        IOException e = assertThrows(IOException.class,
                () -> segmenter.segment(Packets.direct(read, 0), 0, read.length, out, 0, failing));
        assertEquals("send failed", e.getMessage());
        assertEquals(2, calls[0]);
    }

    @Test
    void callerMistakesAreIllegalArguments() {
        byte[] read = bulkV4(100, 31).superframe(1000, 0, 0);
        ByteBuffer in = Packets.direct(read, 0);
        Collect c = new Collect(out);
        assertThrows(IllegalArgumentException.class, () -> segmenter.segment(in, 0, read.length,
                ByteBuffer.allocate(segmenter.maxSegmentLength() - 1), 0, c));
        assertThrows(IllegalArgumentException.class, () -> segmenter.segment(in, 0, read.length, out, 40, c));
        assertThrows(IllegalArgumentException.class, () -> segmenter.segment(in, 0, read.length,
                out.asReadOnlyBuffer(), 0, c));
        assertThrows(IllegalArgumentException.class, () -> segmenter.segment(in, 1, read.length, out, 0, c));
        assertThrows(IllegalArgumentException.class, () -> segmenter.segment(in, -1, 5, out, 0, c));
        assertThrows(IllegalArgumentException.class, () -> new TsoSegmenter(67));
        assertThrows(IllegalArgumentException.class, () -> new TsoSegmenter(65_536));
        assertEquals(22 + 9000, new TsoSegmenter(9000).maxSegmentLength());
        assertTrue(c.segments.isEmpty());
    }

    /** Random superframes (IPv4/IPv6, options, sizes, flags): every segment as an independent construction says. */
    @Test
    void randomSuperframes() {
        Random r = new Random(32);
        for (int i = 0; i < 500; i++) {
            Tcp t = randomTemplate(r);
            int gso = 1 + r.nextInt(MTU - t.ipHeaderLength() - t.tcpHeaderLength());
            if (r.nextInt(4) > 0) {
                gso = Math.max(gso, 500);
            }
            t.payload = Packets.random(r, r.nextInt(65_535 - t.ipHeaderLength() - t.tcpHeaderLength()));
            assertSegments(t, gso, segment(t.superframe(gso, 0, r.nextInt(200))));
        }
    }

    static Tcp randomTemplate(Random r) {
        Tcp t = r.nextBoolean() ? Tcp.v4() : Tcp.v6();
        if (r.nextBoolean()) {
            t.options = Packets.timestamps(r.nextInt(), r.nextInt());
        } else if (r.nextBoolean()) {
            t.options = new byte[4 * r.nextInt(11)];
            Arrays.fill(t.options, (byte) 1); // NOPs
        }
        t.seq = r.nextInt();
        t.ack = r.nextInt();
        t.id = r.nextInt(65_536);
        t.df = r.nextBoolean();
        t.tos = r.nextInt(256);
        t.ttl = 1 + r.nextInt(255);
        t.window = r.nextInt(65_536);
        t.srcPort = r.nextInt(65_536);
        t.dstPort = r.nextInt(65_536);
        t.flags = Packets.TCP_ACK | (r.nextBoolean() ? Packets.TCP_PSH : 0) | (r.nextInt(8) == 0 ? Packets.TCP_FIN : 0);
        return t;
    }

    /** Random garbage and random corruptions of real superframes: never an exception, never outside the data. */
    @Test
    void garbageNeverThrows() {
        Random r = new Random(33);
        byte[] valid4 = bulkV4(5000, 34).superframe(1448, 0, 0);
        byte[] valid6 = bulkV6(5000, 35).superframe(1428, 0, 0);
        int delivered = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] read;
            switch (r.nextInt(3)) {
                case 0 -> read = Packets.random(r, r.nextInt(200));
                case 1 -> {
                    read = (r.nextBoolean() ? valid4 : valid6).clone();
                    for (int k = 1 + r.nextInt(4); k > 0; k--) {
                        read[r.nextInt(Math.min(read.length, 120))] = (byte) r.nextInt(256);
                    }
                    read = Arrays.copyOf(read, r.nextInt(8) == 0 ? r.nextInt(read.length) : read.length);
                }
                default -> {
                    read = Packets.random(r, 24 + r.nextInt(3000));
                    read[1] = (byte) (r.nextBoolean() ? 1 : 4);
                    read[10 + 12] = (byte) (r.nextBoolean() ? 0x08 : 0x86);
                    read[10 + 13] = (byte) (read[10 + 12] == 0x08 ? 0 : 0xDD);
                }
            }
            ByteBuffer in = ByteBuffer.allocateDirect(read.length);
            in.put(0, read);
            int[] total = {0};
            byte[] input = read;
            Result result = segmenter.segment(in, 0, read.length, out, 0, (buf, offset, length) -> {
                assertTrue(length >= 14 && length <= Math.max(input.length - 10, segmenter.maxSegmentLength()),
                        "segment length " + length);
                assertEquals(offset + length, buf.limit());
                total[0]++;
            });
            if (result.delivered()) {
                delivered++;
                assertEquals(segmenter.lastSegmentCount(), total[0]);
            } else {
                assertEquals(0, total[0]);
            }
        }
        assertTrue(delivered > 1000, "the corruptions should leave some frames intact: " + delivered);
        System.out.println("garbage: " + delivered + " of 100000 delivered");
    }

    @Test
    void noAllocationPerCall() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        if (!(mx instanceof com.sun.management.ThreadMXBean sun) || !sun.isThreadAllocatedMemorySupported()) {
            return;
        }
        Tcp t = bulkV4(64_000, 36);
        byte[] read = t.superframe(1448, 0, 0);
        ByteBuffer in = Packets.direct(read, 0);
        TsoSegmenter.SegmentSink<RuntimeException> sink = (buf, offset, length) -> { };
        for (int i = 0; i < 20_000; i++) { // warm up (JIT)
            segmenter.segment(in, 0, read.length, out, 0, sink);
        }
        long before = sun.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1000; i++) {
            segmenter.segment(in, 0, read.length, out, 0, sink);
        }
        long allocated = sun.getCurrentThreadAllocatedBytes() - before;
        if (allocated > 10_000) {
            fail("segment() allocated " + allocated + " bytes in 1000 calls");
        }
    }
}
