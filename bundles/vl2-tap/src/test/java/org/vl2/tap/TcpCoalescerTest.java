package org.vl2.tap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.vl2.tap.Packets.Tcp;
import org.vl2.tap.TcpCoalescer.Result;

class TcpCoalescerTest {

    private final TcpCoalescer coalescer = new TcpCoalescer();

    private static ByteBuffer buffer(byte[] frame) {
        return Packets.frameBuffer(frame, true, ByteOrder.BIG_ENDIAN, 3);
    }

    private Result offer(byte[] frame) {
        ByteBuffer b = buffer(frame);
        Result r = coalescer.offer(b);
        assertEquals(3, b.position());
        assertEquals(3 + frame.length, b.limit());
        assertArrayEquals(frame, Packets.remaining(b), "offer changed the frame");
        return r;
    }

    /** What the agent writes to the TAP for these frames, following the documented loop. */
    private static List<byte[]> run(TcpCoalescer c, List<byte[]> frames) {
        List<byte[]> written = new ArrayList<>();
        for (byte[] f : frames) {
            ByteBuffer b = buffer(f);
            switch (c.offer(b)) {
                case STARTED, MERGED -> {
                    if (c.isComplete()) {
                        flush(c, written);
                    }
                }
                case FLUSH_FIRST -> {
                    flush(c, written);
                    Result again = c.offer(b);
                    if (again == Result.NOT_ELIGIBLE) {
                        written.add(plain(f));
                    } else {
                        assertEquals(Result.STARTED, again);
                        if (c.isComplete()) {
                            flush(c, written);
                        }
                    }
                }
                case NOT_ELIGIBLE -> {
                    flush(c, written);
                    written.add(plain(f));
                }
            }
        }
        flush(c, written);
        return written;
    }

    private static void flush(TcpCoalescer c, List<byte[]> written) {
        if (c.hasPending()) {
            written.add(Packets.remaining(c.pending()));
            c.reset();
        }
    }

    private static byte[] plain(byte[] frame) {
        byte[] w = new byte[10 + frame.length];
        System.arraycopy(frame, 0, w, 10, frame.length);
        return w;
    }

    private static byte[] single(byte[] frame) {
        byte[] w = plain(frame);
        w[0] = VirtioNetHeader.F_DATA_VALID;
        return w;
    }

    private static Tcp bulk(boolean v6, int payload, long seed) {
        Tcp t = v6 ? Tcp.v6() : Tcp.v4();
        t.options = Packets.timestamps(0x11223344, 0x55667788);
        t.payload = Packets.random(new Random(seed), payload);
        t.flags = Packets.TCP_ACK | Packets.TCP_PSH;
        return t;
    }

    private static List<byte[]> segments(Tcp t, int gso) {
        return new ArrayList<>(Arrays.asList(t.expectedSegments(gso)));
    }

    @Test
    void segmentsCoalesceBackIntoTheSuperframe() {
        for (boolean v6 : new boolean[] {false, true}) {
            Tcp t = bulk(v6, 64_000, v6 ? 1 : 2);
            int gso = 1448 - (v6 ? 20 : 0);
            List<byte[]> written = run(coalescer, segments(t, gso));
            assertEquals(1, written.size());
            byte[] expected = t.superframe(gso, 0, t.headersLength());
            assertArrayEquals(expected, written.get(0));
            ByteBuffer w = ByteBuffer.wrap(written.get(0));
            assertEquals(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.flags(w, 0));
            assertEquals(v6 ? VirtioNetHeader.GSO_TCPV6 : VirtioNetHeader.GSO_TCPV4, VirtioNetHeader.gsoType(w, 0));
            assertEquals(t.headersLength(), VirtioNetHeader.hdrLen(w, 0));
            assertEquals(gso, VirtioNetHeader.gsoSize(w, 0));
            assertEquals(v6 ? 54 : 34, VirtioNetHeader.csumStart(w, 0));
            assertEquals(16, VirtioNetHeader.csumOffset(w, 0));
        }
    }

    @Test
    void offerResultsAlongTheWay() {
        Tcp t = bulk(false, 5000, 3);
        List<byte[]> s = segments(t, 1448); // 1448, 1448, 1448, 656 (+PSH)
        assertFalse(coalescer.hasPending());
        assertEquals(Result.STARTED, offer(s.get(0)));
        assertTrue(coalescer.hasPending());
        assertFalse(coalescer.isComplete());
        assertEquals(1, coalescer.pendingSegments());
        assertEquals(Result.MERGED, offer(s.get(1)));
        assertEquals(Result.MERGED, offer(s.get(2)));
        assertFalse(coalescer.isComplete());
        assertEquals(Result.MERGED, offer(s.get(3)));
        assertTrue(coalescer.isComplete());
        assertEquals(4, coalescer.pendingSegments());
        ByteBuffer p = coalescer.pending();
        assertSame(p, coalescer.pending());
        assertArrayEquals(Packets.remaining(p), Packets.remaining(coalescer.pending()), "pending() is idempotent");
        assertEquals(0, p.position());
        assertEquals(10 + t.build().length, p.limit());
        assertEquals(Result.FLUSH_FIRST, offer(t.expectedSegments(1448)[0])); // complete: nothing more joins
        coalescer.reset();
        assertFalse(coalescer.hasPending());
        assertThrows(IllegalStateException.class, coalescer::pending);
        assertEquals(Result.STARTED, offer(s.get(0)));
    }

    @Test
    void aSingleSegmentIsWrittenAsItCameWithDataValid() {
        Tcp t = bulk(false, 100, 4);
        t.padding = 0;
        byte[] f = t.build();
        List<byte[]> written = run(coalescer, List.of(f));
        assertEquals(1, written.size());
        assertArrayEquals(single(f), written.get(0));
        // Ethernet padding after the IP datagram is not kept
        Tcp padded = bulk(true, 1, 5);
        padded.flags = Packets.TCP_ACK;
        padded.padding = 9;
        byte[] pf = padded.build();
        written = run(coalescer, List.of(pf));
        assertArrayEquals(single(Arrays.copyOf(pf, pf.length - 9)), written.get(0));
        // a padded segment merges too
        Tcp a = bulk(false, 2, 6);
        a.flags = Packets.TCP_ACK;
        a.padding = 4;
        Tcp b = a.copy();
        b.seq += 2;
        b.id++;
        b.padding = 0;
        assertEquals(Result.STARTED, offer(a.build()));
        assertEquals(Result.MERGED, offer(b.build()));
        coalescer.reset();
    }

    @Test
    void pshEndsTheSuperframe() {
        Tcp t = bulk(false, 3000, 7);
        t.flags = Packets.TCP_ACK;
        List<byte[]> s = segments(t, 1000);
        Tcp psh = t.copy();
        psh.flags = Packets.TCP_ACK | Packets.TCP_PSH;
        psh.payload = Arrays.copyOfRange(t.payload, 1000, 2000);
        psh.seq = t.seq + 1000;
        psh.id = t.id + 1;
        byte[][] p = {null, psh.build(), psh.build()};
        assertEquals(Result.STARTED, offer(s.get(0)));
        assertEquals(Result.MERGED, offer(p[1])); // PSH on the second one: merged, then complete
        assertTrue(coalescer.isComplete());
        assertEquals(Result.FLUSH_FIRST, offer(s.get(2)));
        ByteBuffer w = coalescer.pending();
        assertEquals(Packets.TCP_ACK | Packets.TCP_PSH, w.get(10 + 14 + 20 + 13));
        coalescer.reset();
        // a first segment with PSH is complete at once
        assertEquals(Result.STARTED, offer(p[2]));
        assertTrue(coalescer.isComplete());
    }

    @Test
    void aShortSegmentEndsTheSuperframeAndALongerOneCannotFollow() {
        Tcp t = bulk(true, 2500, 8);
        t.flags = Packets.TCP_ACK;
        List<byte[]> s = segments(t, 1000); // 1000, 1000, 500
        assertEquals(Result.STARTED, offer(s.get(0)));
        assertEquals(Result.MERGED, offer(s.get(1)));
        assertEquals(Result.MERGED, offer(s.get(2)));
        assertTrue(coalescer.isComplete());
        coalescer.reset();
        // 500 first, then 1000: the first segment sets gso_size
        Tcp u = t.copy();
        u.payload = Arrays.copyOf(t.payload, 500);
        Tcp v = t.copy();
        v.seq = t.seq + 500;
        v.payload = Arrays.copyOf(t.payload, 1000);
        assertEquals(Result.STARTED, offer(u.build()));
        assertEquals(Result.FLUSH_FIRST, offer(v.build()));
        coalescer.reset();
    }

    /** Each change of a field that must match gives FLUSH_FIRST, then STARTED on the re-offer. */
    @Test
    void differencesInTheFlowOrHeadersFlushFirst() {
        List<Consumer<Tcp>> changes = List.of(
                t -> t.seq += 1, t -> t.seq -= 1000, t -> t.ack += 1, t -> t.srcPort++, t -> t.dstPort++,
                t -> t.window++, t -> t.options = Packets.timestamps(0x11223345, 0x55667788),
                t -> t.options = new byte[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, t -> t.options = new byte[0],
                t -> t.src[t.src.length - 1]++, t -> t.dst[0]++, t -> t.ttl--, t -> t.tos = 4,
                t -> t.srcMac = new byte[] {2, 0, 0, 0, 0, 9}, t -> t.dstMac = new byte[] {2, 0, 0, 0, 0, 8},
                t -> t.flowLabel++);
        for (boolean v6 : new boolean[] {false, true}) {
            for (int i = 0; i < changes.size(); i++) {
                Tcp t = bulk(v6, 2000, 9);
                t.flags = Packets.TCP_ACK;
                byte[][] s = t.expectedSegments(1000);
                Tcp changed = t.copy();
                changed.src = t.src.clone();
                changed.dst = t.dst.clone();
                changed.payload = Arrays.copyOfRange(t.payload, 1000, 2000);
                changed.seq = t.seq + 1000;
                changed.id = t.id + 1;
                changes.get(i).accept(changed);
                byte[] second = changed.build();
                if (Arrays.equals(second, s[1])) {
                    continue; // e.g. the flow label of an IPv4 packet
                }
                assertEquals(Result.STARTED, offer(s[0]));
                assertEquals(Result.FLUSH_FIRST, offer(second), "change " + i + (v6 ? " (IPv6)" : " (IPv4)"));
                assertEquals(1, coalescer.pendingSegments());
                coalescer.reset();
                assertEquals(Result.STARTED, offer(second));
                coalescer.reset();
            }
        }
    }

    @Test
    void ipv4IdsCountUpWithoutDfAndAreIgnoredWithDf() {
        Tcp t = bulk(false, 3000, 10);
        t.flags = Packets.TCP_ACK;
        t.df = false;
        byte[][] s = t.expectedSegments(1000);
        assertEquals(Result.STARTED, offer(s[0]));
        assertEquals(Result.MERGED, offer(s[1]));
        byte[] third = s[2].clone();
        Packets.put16(third, 18, t.id + 7);
        fixIpv4Checksum(third);
        assertEquals(Result.FLUSH_FIRST, offer(third));
        coalescer.reset();

        Tcp d = t.copy();
        d.df = true;
        byte[][] ds = d.expectedSegments(1000);
        Random r = new Random(11);
        assertEquals(Result.STARTED, offer(ds[0]));
        for (int i = 1; i < 3; i++) {
            byte[] f = ds[i].clone();
            Packets.put16(f, 18, r.nextInt(65_536)); // any ID: atomic datagrams (RFC 6864)
            fixIpv4Checksum(f);
            assertEquals(Result.MERGED, offer(f));
        }
        assertEquals(d.id, Packets.u16(Packets.remaining(coalescer.pending()), 10 + 18), "the first ID stays");
        coalescer.reset();
        // DF on one and not on the other: no
        assertEquals(Result.STARTED, offer(s[0]));
        assertEquals(Result.FLUSH_FIRST, offer(ds[1]));
        coalescer.reset();
    }

    private static void fixIpv4Checksum(byte[] f) {
        Packets.put16(f, 24, 0);
        Packets.put16(f, 24, ~Packets.referenceSum(f, 14, 34, 0) & 0xFFFF);
    }

    @Test
    void framesThatCannotBeCoalesced() {
        List<byte[]> frames = new ArrayList<>();
        Tcp base = bulk(false, 1000, 12);
        base.flags = Packets.TCP_ACK;
        for (int flags : new int[] {Packets.TCP_SYN, Packets.TCP_SYN | Packets.TCP_ACK, Packets.TCP_FIN | Packets.TCP_ACK,
            Packets.TCP_RST | Packets.TCP_ACK, Packets.TCP_URG | Packets.TCP_ACK, Packets.TCP_ECE | Packets.TCP_ACK,
            Packets.TCP_CWR | Packets.TCP_ACK, Packets.TCP_PSH, 0}) {
            Tcp t = base.copy();
            t.flags = flags;
            frames.add(t.build());
        }
        Tcp pureAck = base.copy();
        pureAck.payload = new byte[0];
        frames.add(pureAck.build());
        Tcp ipOptions = base.copy();
        ipOptions.ipOptions = new byte[] {1, 1, 1, 0};
        frames.add(ipOptions.build());
        Tcp hopByHop = bulk(true, 1000, 13);
        hopByHop.flags = Packets.TCP_ACK;
        hopByHop.hopByHop = new byte[] {1, 4, 0, 0, 0, 0};
        frames.add(hopByHop.build());
        Tcp vlan = base.copy();
        vlan.vlanTypes = new int[] {0x8100};
        vlan.vlanIds = new int[] {3};
        frames.add(vlan.build());
        byte[] mf = base.build();
        mf[20] |= 0x20;
        fixIpv4Checksum(mf);
        frames.add(mf);
        byte[] fragmentOffset = base.build();
        fragmentOffset[21] = 1;
        fixIpv4Checksum(fragmentOffset);
        frames.add(fragmentOffset);
        byte[] udp = base.build();
        udp[23] = 17;
        fixIpv4Checksum(udp);
        frames.add(udp);
        byte[] badTcpChecksum = base.build();
        badTcpChecksum[100] ^= 1;
        frames.add(badTcpChecksum);
        byte[] badIpChecksum = base.build();
        badIpChecksum[24] ^= 1;
        frames.add(badIpChecksum);
        byte[] badV6Checksum = bulk(true, 700, 14).build();
        badV6Checksum[200] ^= (byte) 0x80;
        frames.add(badV6Checksum);
        byte[] arp = new byte[60];
        Packets.put16(arp, 12, 0x0806);
        frames.add(arp);
        byte[] shortLength = base.build();
        Packets.put16(shortLength, 16, 39); // total length shorter than IP + TCP headers
        fixIpv4Checksum(shortLength);
        frames.add(shortLength);
        byte[] longLength = base.build();
        Packets.put16(longLength, 16, longLength.length - 14 + 1); // longer than the frame
        fixIpv4Checksum(longLength);
        frames.add(longLength);
        byte[] badDataOffset = base.build();
        badDataOffset[14 + 20 + 12] = 0x40; // 16 bytes
        frames.add(badDataOffset);
        byte[] v6Long = bulk(true, 100, 15).build();
        Packets.put16(v6Long, 18, v6Long.length - 54 + 1);
        frames.add(v6Long);
        frames.add(Arrays.copyOf(base.build(), 53));
        frames.add(new byte[0]);

        for (int i = 0; i < frames.size(); i++) {
            assertEquals(Result.NOT_ELIGIBLE, offer(frames.get(i)), "frame " + i);
            assertFalse(coalescer.hasPending());
        }
        // the same with a pending superframe: NOT_ELIGIBLE, or FLUSH_FIRST (if it differs in a header field) and
        // then NOT_ELIGIBLE; the pending one stays for the caller to flush
        Tcp before = base.copy();
        before.seq -= before.payload.length;
        before.id--;
        byte[] first = before.build();
        for (int i = 0; i < frames.size(); i++) {
            assertEquals(Result.STARTED, offer(first));
            Result r = offer(frames.get(i));
            assertTrue(r == Result.NOT_ELIGIBLE || r == Result.FLUSH_FIRST, "frame " + i + " with one pending: " + r);
            assertEquals(1, coalescer.pendingSegments());
            assertArrayEquals(single(first), Packets.remaining(coalescer.pending()));
            coalescer.reset();
            assertEquals(Result.NOT_ELIGIBLE, offer(frames.get(i)));
        }
        // a continuation whose only fault is its checksum is found out while merging
        assertEquals(Result.STARTED, offer(first));
        assertEquals(Result.NOT_ELIGIBLE, offer(badTcpChecksum));
        assertEquals(Result.MERGED, offer(base.build()));
        coalescer.reset();
    }

    @Test
    void aCorruptSegmentIsNotMergedAndLeavesThePendingOneIntact() {
        Tcp t = bulk(false, 3000, 16);
        t.flags = Packets.TCP_ACK;
        byte[][] s = t.expectedSegments(1000);
        assertEquals(Result.STARTED, offer(s[0]));
        assertEquals(Result.MERGED, offer(s[1]));
        byte[] bad = s[2].clone();
        bad[bad.length - 1] ^= 0x10;
        assertEquals(Result.NOT_ELIGIBLE, offer(bad));
        assertEquals(2, coalescer.pendingSegments());
        Tcp two = t.copy();
        two.payload = Arrays.copyOf(t.payload, 2000);
        two.flags = Packets.TCP_ACK;
        assertArrayEquals(two.superframe(1000, 0, two.headersLength()), Packets.remaining(coalescer.pending()));
        assertEquals(Result.MERGED, offer(s[2])); // the intact one still joins
        coalescer.reset();
    }

    @Test
    void superframesStopAt65535BytesOfIpDatagram() {
        for (boolean v6 : new boolean[] {false, true}) {
            Tcp t = bulk(v6, 200_000, 17);
            t.flags = Packets.TCP_ACK;
            int gso = 1448;
            List<byte[]> written = run(coalescer, segments(t, gso));
            int total = 0;
            for (byte[] w : written) {
                ByteBuffer b = ByteBuffer.wrap(w);
                int ipLength = w.length - 10 - 14;
                assertTrue(ipLength <= 65_535, "IP datagram of " + ipLength);
                assertEquals(v6 ? ipLength - 40 : ipLength, Packets.u16(w, 10 + 14 + (v6 ? 4 : 2)));
                if (VirtioNetHeader.gsoType(b, 0) != VirtioNetHeader.GSO_NONE) {
                    assertTrue(ipLength + gso > 65_535 || w == written.get(written.size() - 1),
                            "flushed although another segment fitted: " + ipLength);
                }
                total += w.length - 10 - t.headersLength();
            }
            assertEquals(200_000, total);
            int perSuperframe = (65_535 - t.ipHeaderLength() - t.tcpHeaderLength()) / gso * gso;
            assertEquals((200_000 + perSuperframe - 1) / perSuperframe, written.size());
        }
    }

    @Test
    void interleavedFlowsFlushEachOther() {
        Tcp a = bulk(false, 3000, 18);
        a.flags = Packets.TCP_ACK;
        Tcp b = a.copy();
        b.srcPort++;
        byte[][] as = a.expectedSegments(1000);
        byte[][] bs = b.expectedSegments(1000);
        List<byte[]> written = run(coalescer, List.of(as[0], as[1], bs[0], bs[1], as[2], bs[2]));
        assertEquals(4, written.size());
        assertEquals(2, written.stream().filter(w -> w[1] != 0).count());
    }

    @Test
    void anyBufferKindAndOrder() {
        Tcp t = bulk(true, 4000, 19);
        byte[][] s = t.expectedSegments(1000);
        byte[] expected = t.superframe(1000, 0, t.headersLength());
        for (boolean direct : new boolean[] {false, true}) {
            for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
                for (int i = 0; i < s.length; i++) {
                    // alternate the order between frames: the coalescer must not depend on it
                    ByteOrder o = i % 2 == 0 ? order : (order == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN
                            : ByteOrder.BIG_ENDIAN);
                    ByteBuffer b = Packets.frameBuffer(s[i], direct, o, i);
                    assertEquals(i == 0 ? Result.STARTED : Result.MERGED, coalescer.offer(b));
                    assertEquals(o, b.order());
                }
                assertArrayEquals(expected, Packets.remaining(coalescer.pending()));
                coalescer.reset();
            }
        }
    }

    @Test
    void headroomIsConfigurable() {
        TcpCoalescer c = new TcpCoalescer(32);
        assertEquals(32, c.headroom());
        assertEquals(32 + 14 + 65_535, c.buffer().capacity());
        assertTrue(c.buffer().isDirect());
        Tcp t = bulk(false, 2000, 20);
        for (byte[] s : t.expectedSegments(1000)) {
            c.offer(buffer(s));
        }
        ByteBuffer p = c.pending();
        assertEquals(22, p.position());
        assertArrayEquals(t.superframe(1000, 0, t.headersLength()), Packets.remaining(p));
        assertThrows(IllegalArgumentException.class, () -> new TcpCoalescer(9));
        assertThrows(IllegalArgumentException.class, () -> new TcpCoalescer(4097));
    }

    /**
     * Random templates, sizes and gso_sizes: segment the superframe with {@link TsoSegmenter}, coalesce the
     * segments, get the superframe back byte for byte, and segmenting that gives the same segments again.
     */
    @Test
    void randomRoundTrips() {
        Random r = new Random(21);
        TsoSegmenter segmenter = new TsoSegmenter(9000);
        ByteBuffer out = ByteBuffer.allocateDirect(segmenter.maxSegmentLength());
        for (int i = 0; i < 300; i++) {
            Tcp t = TsoSegmenterTest.randomTemplate(r);
            t.flags = Packets.TCP_ACK | (r.nextBoolean() ? Packets.TCP_PSH : 0);
            int gso = 1 + r.nextInt(r.nextBoolean() ? 9000 - 60 - 40 : 200);
            t.payload = Packets.random(r, 1 + r.nextInt(65_535 - t.ipHeaderLength() - t.tcpHeaderLength()));
            if (!t.df) {
                t.id = r.nextInt(65_536);
            }
            byte[] superframe = t.superframe(gso, 0, t.headersLength());
            List<byte[]> segs = new ArrayList<>();
            TsoSegmenter.Result res = segmenter.segment(ByteBuffer.wrap(superframe), 0, superframe.length, out, 0,
                    (buf, offset, length) -> segs.add(Packets.bytes(buf, offset, length)));
            assertEquals(TsoSegmenter.Result.SEGMENTED, res);
            List<byte[]> written = run(coalescer, segs);
            if (written.size() != 1) {
                System.out.println("iteration " + i + ": v6 " + t.v6 + " gso " + gso + " payload " + t.payload.length
                        + " segs " + segs.size() + " df " + t.df + " written " + written.size());
                for (byte[] w : written) {
                    System.out.println("  " + w.length + " " + VirtioNetHeader.toString(ByteBuffer.wrap(w), 0));
                }
            }
            assertEquals(1, written.size(), "iteration " + i);
            if (segs.size() == 1) {
                assertArrayEquals(single(segs.get(0)), written.get(0));
                continue;
            }
            assertArrayEquals(superframe, written.get(0), "iteration " + i);
            List<byte[]> again = new ArrayList<>();
            segmenter.segment(ByteBuffer.wrap(written.get(0)), 0, written.get(0).length, out, 0,
                    (buf, offset, length) -> again.add(Packets.bytes(buf, offset, length)));
            assertEquals(segs.size(), again.size());
            for (int k = 0; k < segs.size(); k++) {
                assertArrayEquals(segs.get(k), again.get(k));
            }
        }
    }

    /**
     * Random garbage, corrupted segments and valid ones mixed: offer never throws, never reads outside the frame,
     * and whatever is pending is always a well-formed superframe whose segments (cut by TsoSegmenter) all carry
     * valid checksums.
     */
    @Test
    void garbageNeverThrowsAndPendingStaysWellFormed() {
        Random r = new Random(22);
        TsoSegmenter segmenter = new TsoSegmenter(65_535 - 14);
        ByteBuffer out = ByteBuffer.allocateDirect(segmenter.maxSegmentLength());
        Tcp t = bulk(false, 30_000, 23);
        t.flags = Packets.TCP_ACK;
        t.df = false;
        byte[][] v4 = t.expectedSegments(1000);
        Tcp t6 = bulk(true, 30_000, 24);
        t6.flags = Packets.TCP_ACK;
        byte[][] v6 = t6.expectedSegments(1000);
        int merged = 0;
        int[] cursor = {0, 0};
        for (int i = 0; i < 100_000; i++) {
            byte[] f;
            // mostly the next segment of one of the two flows, so that merges happen
            int family = r.nextInt(8) == 0 ? 1 - (i / 1000) % 2 : (i / 1000) % 2;
            int k = r.nextInt(16) == 0 ? r.nextInt(v4.length) : cursor[family]++ % v4.length;
            byte[][] flow = family == 0 ? v4 : v6;
            switch (r.nextInt(4)) {
                case 0 -> f = Packets.random(r, r.nextInt(120));
                case 1 -> {
                    f = flow[k].clone();
                    for (int m = 1 + r.nextInt(3); m > 0; m--) {
                        f[r.nextInt(Math.min(f.length, 90))] = (byte) r.nextInt(256);
                    }
                    if (r.nextInt(8) == 0) {
                        f = Arrays.copyOf(f, r.nextInt(f.length));
                    }
                }
                default -> f = flow[k];
            }
            ByteBuffer b = ByteBuffer.allocateDirect(f.length); // capacity = frame: reading beyond would throw
            b.put(0, f);
            Result res = coalescer.offer(b);
            if (res == Result.MERGED) {
                merged++;
            }
            if (res == Result.FLUSH_FIRST || r.nextInt(50) == 0) {
                checkPending(segmenter, out);
                coalescer.reset();
            }
        }
        assertTrue(merged > 1000, "merged only " + merged);
    }

    private void checkPending(TsoSegmenter segmenter, ByteBuffer out) {
        if (!coalescer.hasPending()) {
            return;
        }
        ByteBuffer p = coalescer.pending();
        byte[] w = Packets.remaining(p);
        List<byte[]> segs = new ArrayList<>();
        TsoSegmenter.Result res = segmenter.segment(ByteBuffer.wrap(w), 0, w.length, out, 0,
                (buf, offset, length) -> segs.add(Packets.bytes(buf, offset, length)));
        if (!res.delivered()) {
            fail("pending superframe not well-formed: " + res + " " + VirtioNetHeader.toString(p, 0));
        }
        assertEquals(coalescer.pendingSegments(), segs.size());
        for (byte[] s : segs) {
            assertTrue(Packets.tcpChecksumOk(s), "a segment of the pending superframe has a bad checksum");
            if (Packets.u16(s, 12) == 0x0800) {
                assertEquals(0xFFFF, Packets.referenceSum(s, 14, 34, 0), "IPv4 header checksum");
            }
        }
    }

    @Test
    void noAllocationPerFrame() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        if (!(mx instanceof com.sun.management.ThreadMXBean sun) || !sun.isThreadAllocatedMemorySupported()) {
            return;
        }
        Tcp t = bulk(false, 64_000, 25);
        byte[][] s = t.expectedSegments(1448);
        ByteBuffer[] frames = new ByteBuffer[s.length];
        for (int i = 0; i < s.length; i++) {
            frames[i] = buffer(s[i]);
        }
        for (int round = 0; round < 2000; round++) {
            coalesceAll(frames);
        }
        long before = sun.getCurrentThreadAllocatedBytes();
        for (int round = 0; round < 200; round++) {
            coalesceAll(frames);
        }
        long allocated = sun.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 10_000, "allocated " + allocated + " bytes for 200 superframes");
    }

    private void coalesceAll(ByteBuffer[] frames) {
        for (ByteBuffer f : frames) {
            coalescer.offer(f);
        }
        coalescer.pending();
        coalescer.reset();
    }
}
