package org.vl2.tap.internal;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.vl2.tap.TcpCoalescer;
import org.vl2.tap.TsoSegmenter;
import org.vl2.tap.VirtioNetHeader;

/**
 * Throughput of a TCP transfer (iperf3, IPv4, 5 s) between two namespaces whose TAP devices are joined by
 * {@link TapBridge} threads: without offload (frame by frame), with offload but segmentation only (the receiving
 * kernel gets MTU-sized frames), and with segmentation and coalescing. Plus the CPU cost of the two algorithms
 * alone. Off by default (timing is not a unit test):
 * {@code mvn test -pl bundles/vl2-tap -Dtest=OffloadBenchmarkTest -Dvl2.tap.bench=true}, as root.
 */
class OffloadBenchmarkTest {

    private final Kernel kernel = new Kernel();
    private final Netns netns = new Netns();
    private LinuxTapFactory factory;

    @AfterEach
    void tearDown() {
        try {
            if (factory != null) {
                factory.deactivate();
            }
        } finally {
            netns.close();
            kernel.cleanup();
        }
    }

    @Test
    void bridgeThroughput() throws Exception {
        assumeTrue(Boolean.getBoolean("vl2.tap.bench"), "benchmark: run with -Dvl2.tap.bench=true");
        Kernel.assumeRootAndTun();
        OffloadTapTest.assumeIperf3();
        int seconds = Integer.getInteger("vl2.tap.bench.seconds", 5);
        String[] labels = {"no offload (frame by frame)", "offload, segmentation only", "offload, segment + coalesce"};
        for (int mode = 0; mode < 3; mode++) {
            factory = new LinuxTapFactory();
            factory.activate();
            OffloadTapTest.Pair p = OffloadTapTest.pair(factory, kernel, netns, mode > 0);
            TapBridge ab = new TapBridge(p.a(), p.b(), mode == 2).start();
            TapBridge ba = new TapBridge(p.b(), p.a(), mode == 2).start();
            double bits;
            try {
                bits = OffloadTapTest.iperf(netns, p, p.ipv4B(), seconds, labels[mode]);
            } finally {
                ab.stop();
                ba.stop();
                factory.deactivate();
                factory = null;
                netns.close();
            }
            assertNull(ab.failure);
            assertNull(ba.failure);
            System.out.printf("%-32s %6.2f Gbit/s%n    %s%n    %s%n", labels[mode], bits / 1e9, ab.stats(), ba.stats());
        }
    }

    /** Segmenting a 64 KiB superframe into 45 frames and coalescing them again, in one thread, no kernel. */
    @Test
    void algorithmCost() {
        assumeTrue(Boolean.getBoolean("vl2.tap.bench"), "benchmark: run with -Dvl2.tap.bench=true");
        // a superframe as the kernel hands it out: IPv4, timestamps, 45 x 1448 bytes
        int payload = 45 * 1448;
        int frameLength = 14 + 20 + 32 + payload;
        ByteBuffer in = ByteBuffer.allocateDirect(10 + frameLength);
        byte[] data = new byte[payload];
        new Random(1).nextBytes(data);
        VirtioNetHeader.put(in, 0, VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4, 66, 1448, 34, 16);
        in.put(10, new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0});
        in.put(24, (byte) 0x45).putShort(26, (short) (20 + 32 + payload)).putShort(30, (short) 0x4000)
                .put(32, (byte) 64).put(33, (byte) 6);
        in.put(36, new byte[] {10, 0, 0, 1, 10, 0, 0, 2});
        in.putInt(44, 0x9c405209).putInt(48, 1).putInt(52, 1).put(56, (byte) 0x80).put(57, (byte) 0x10)
                .putShort(58, (short) 500);
        in.put(64, new byte[] {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2});
        in.put(76, data);
        // a valid IPv4 header checksum for the coalescer's check
        int s = 0;
        for (int i = 24; i < 44; i += 2) {
            s += in.getShort(i) & 0xFFFF;
        }
        s = (s & 0xFFFF) + (s >>> 16);
        s = (s & 0xFFFF) + (s >>> 16);
        in.putShort(34, (short) ~s);
        TsoSegmenter segmenter = new TsoSegmenter(1500);
        ByteBuffer out = ByteBuffer.allocateDirect(16 + segmenter.maxSegmentLength() + 16);
        TcpCoalescer coalescer = new TcpCoalescer();
        TsoSegmenter.SegmentSink<RuntimeException> toCoalescer = (frame, offset, length) -> coalescer.offer(frame);
        TsoSegmenter.SegmentSink<RuntimeException> nothing = (frame, offset, length) -> { };
        for (int round = 0; round < 3; round++) {
            int n = 20_000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                segmenter.segment(in, 0, in.capacity(), out, 16, nothing);
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                segmenter.segment(in, 0, in.capacity(), out, 16, toCoalescer);
                coalescer.pending();
                coalescer.reset();
            }
            long t2 = System.nanoTime();
            double segNs = (double) (t1 - t0) / n;
            double bothNs = (double) (t2 - t1) / n;
            System.out.printf("segment 64 KiB superframe: %6.1f us (%5.1f Gbit/s); segment + coalesce: %6.1f us"
                    + " (%5.1f Gbit/s)%n", segNs / 1000, payload * 8 / segNs, bothNs / 1000, payload * 8 / bothNs);
        }
    }
}
