package org.vl2.tap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * {@link TsoSegmenter} and {@link TcpCoalescer} on whatever a TAP device or the network could hand them. The
 * input is used twice: as one read from an offload TAP ({@code [virtio_net_hdr][frame]}) for the segmenter, and
 * as a sequence of frames (each behind a 2-byte big-endian length) for the coalescer. Neither may throw (Jazzer
 * reports any exception as a finding) or read outside the data (the buffers end exactly where the data ends, so
 * that would throw); every segment is within the promised length; the segmenter changes nothing of the input but
 * a checksum it completes; every superframe the coalescer builds is well formed: segmenting it again gives as
 * many segments as were merged, each with valid IPv4 header and TCP checksums.
 *
 * <p>Fuzzed for {@code vl2.fuzz.duration} by {@code mvn verify} (see bundles/pom.xml); seeds in
 * {@code OffloadFuzzTestInputs/frames}.
 */
class OffloadFuzzTest {

    private final TsoSegmenter segmenter = new TsoSegmenter(1500);
    private final TsoSegmenter checker = new TsoSegmenter(65_535);
    private final ByteBuffer out = ByteBuffer.allocateDirect(segmenter.maxSegmentLength());
    private final ByteBuffer checkOut = ByteBuffer.allocateDirect(checker.maxSegmentLength());
    private final TcpCoalescer coalescer = new TcpCoalescer();

    @FuzzTest
    void frames(byte[] input) {
        segment(input);
        coalesce(input);
    }

    private void segment(byte[] input) {
        ByteBuffer in = ByteBuffer.allocateDirect(input.length);
        in.put(0, input);
        int[] count = {0};
        TsoSegmenter.Result r = segmenter.segment(in, 0, input.length, out, 0, (frame, offset, length) -> {
            assertEquals(offset, frame.position());
            assertEquals(offset + length, frame.limit());
            assertTrue(length >= 14 && length <= Math.max(input.length - 10, segmenter.maxSegmentLength()));
            count[0]++;
        });
        assertEquals(r.delivered() ? count[0] : 0, segmenter.lastSegmentCount());
        if (!r.delivered()) {
            assertEquals(0, count[0]);
        }
        byte[] after = Packets.bytes(in, 0, input.length);
        if (r == TsoSegmenter.Result.PASSED && (input[0] & VirtioNetHeader.F_NEEDS_CSUM) != 0) {
            int at = 10 + VirtioNetHeader.csumStart(in, 0) + VirtioNetHeader.csumOffset(in, 0);
            after[at] = input[at];
            after[at + 1] = input[at + 1];
        }
        assertTrue(Arrays.equals(input, after), "the segmenter changed more than a checksum");
    }

    private void coalesce(byte[] input) {
        coalescer.reset();
        int i = 0;
        while (i + 2 <= input.length) {
            int length = Math.min((input[i] & 0xFF) << 8 | input[i + 1] & 0xFF, input.length - i - 2);
            ByteBuffer frame = ByteBuffer.allocateDirect(length);
            frame.put(0, input, i + 2, length);
            i += 2 + length;
            TcpCoalescer.Result r = coalescer.offer(frame);
            assertEquals(0, frame.position());
            assertEquals(length, frame.limit());
            if (r == TcpCoalescer.Result.FLUSH_FIRST || r == TcpCoalescer.Result.NOT_ELIGIBLE
                    || coalescer.isComplete()) {
                check();
                coalescer.reset();
                if (r == TcpCoalescer.Result.FLUSH_FIRST) {
                    TcpCoalescer.Result again = coalescer.offer(frame);
                    assertTrue(again == TcpCoalescer.Result.STARTED || again == TcpCoalescer.Result.NOT_ELIGIBLE,
                            "re-offer after FLUSH_FIRST gave " + again);
                }
            }
        }
        check();
    }

    private void check() {
        if (!coalescer.hasPending()) {
            return;
        }
        ByteBuffer p = coalescer.pending();
        byte[] w = Packets.remaining(p);
        assertTrue(w.length <= 10 + 14 + TcpCoalescer.MAX_IP_LENGTH);
        List<byte[]> segments = new ArrayList<>();
        TsoSegmenter.Result r = checker.segment(ByteBuffer.wrap(w), 0, w.length, checkOut, 0,
                (frame, offset, length) -> segments.add(Packets.remaining(frame)));
        assertTrue(r.delivered(), () -> "pending superframe not well formed: " + r + " " + VirtioNetHeader.toString(p,
                p.position()));
        assertEquals(coalescer.pendingSegments(), segments.size());
        for (byte[] s : segments) {
            assertTrue(Packets.tcpChecksumOk(s), "bad TCP checksum in a coalesced segment");
            if (Packets.u16(s, 12) == 0x0800) {
                assertEquals(0xFFFF, Packets.referenceSum(s, 14, 34, 0), "bad IPv4 header checksum");
            }
        }
    }
}
