package org.vl2.tap.internal;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.TcpCoalescer;
import org.vl2.tap.TsoSegmenter;
import org.vl2.tap.VirtioNetHeader;

/**
 * One direction of a user-space wire between two TAP devices, the way a port agent pair would carry it: read
 * from {@code from}; with offload cut superframes into MTU-sized wire frames ({@link TsoSegmenter}, the sending
 * agent), and merge the wire frames into superframes again ({@link TcpCoalescer}, the receiving agent) before
 * writing to {@code to}. Without offload frames are copied one by one. {@code coalesce = false} writes every
 * wire frame on its own (segmentation only), to measure each half.
 *
 * <p>The coalescer is flushed whenever nothing more is queued on {@code from} (a read with timeout 0 returns
 * nothing), which is the rule an agent follows with its receive queue.
 */
final class TapBridge implements Runnable {

    final AtomicLong reads = new AtomicLong();
    /** Reads longer than an MTU-sized frame (superframes). */
    final AtomicLong superframes = new AtomicLong();
    final AtomicLong longestRead = new AtomicLong();
    /** Wire frames (after segmentation). */
    final AtomicLong wireFrames = new AtomicLong();
    /** Writes of a superframe of two or more segments, and how many segments they held. */
    final AtomicLong coalescedWrites = new AtomicLong();
    final AtomicLong coalescedSegments = new AtomicLong();
    final AtomicLong plainWrites = new AtomicLong();
    final AtomicLong notDelivered = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();

    private final TapDevice from;
    private final TapDevice to;
    private final boolean offload;
    private final boolean coalesce;
    private final TsoSegmenter segmenter;
    private final TcpCoalescer coalescer = new TcpCoalescer();
    private final ByteBuffer in;
    private final ByteBuffer out;
    private final ByteBuffer plain;
    private final TsoSegmenter.SegmentSink<TapException> sink = this::wireFrame;
    private volatile boolean stop;
    volatile Throwable failure;
    private final Thread thread;

    TapBridge(TapDevice from, TapDevice to, boolean coalesce) {
        this.from = from;
        this.to = to;
        this.offload = from.offload();
        this.coalesce = coalesce && to.offload();
        this.segmenter = new TsoSegmenter(from.mtu());
        this.in = ByteBuffer.allocateDirect(from.maxReadLength() + 1);
        this.out = ByteBuffer.allocateDirect(segmenter.maxSegmentLength());
        this.plain = ByteBuffer.allocateDirect(VirtioNetHeader.LENGTH + to.maxFrameLength() + 64);
        this.thread = new Thread(this, "bridge " + from.name() + " -> " + to.name());
        thread.setDaemon(true);
    }

    TapBridge start() {
        thread.start();
        return this;
    }

    void stop() throws InterruptedException {
        stop = true;
        thread.join(5000);
    }

    @Override
    public void run() {
        try {
            while (!stop) {
                in.clear();
                int n = from.read(in, coalescer.hasPending() ? 0 : 100);
                if (n < 0) {
                    return;
                }
                if (n == 0) {
                    flush();
                    continue;
                }
                reads.incrementAndGet();
                longestRead.accumulateAndGet(n, Math::max);
                if (n == in.capacity()) {
                    throw new AssertionError("read of " + n + " bytes filled the buffer: truncated");
                }
                if (!offload) {
                    wireFrames.incrementAndGet();
                    bytes.addAndGet(n);
                    to.write(in);
                    plainWrites.incrementAndGet();
                    continue;
                }
                if (n - VirtioNetHeader.LENGTH > from.maxFrameLength()) {
                    superframes.incrementAndGet();
                }
                TsoSegmenter.Result r = segmenter.segment(in, 0, n, out, 0, sink);
                if (!r.delivered()) {
                    notDelivered.incrementAndGet();
                    System.out.println(thread.getName() + ": " + r + " " + VirtioNetHeader.toString(in, 0));
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** The receiving agent's side: one wire frame at a time. */
    private void wireFrame(ByteBuffer frame, int offset, int length) throws TapException {
        wireFrames.incrementAndGet();
        bytes.addAndGet(length);
        if (!coalesce) {
            writePlain(frame);
            return;
        }
        switch (coalescer.offer(frame)) {
            case STARTED, MERGED -> {
                if (coalescer.isComplete()) {
                    flush();
                }
            }
            case FLUSH_FIRST -> {
                flush();
                if (coalescer.offer(frame) == TcpCoalescer.Result.NOT_ELIGIBLE) {
                    writePlain(frame);
                } else if (coalescer.isComplete()) {
                    flush();
                }
            }
            case NOT_ELIGIBLE -> {
                flush();
                writePlain(frame);
            }
        }
    }

    private void flush() throws TapException {
        if (coalescer.hasPending()) {
            int segments = coalescer.pendingSegments();
            to.write(coalescer.pending());
            coalescer.reset();
            if (segments > 1) {
                coalescedWrites.incrementAndGet();
                coalescedSegments.addAndGet(segments);
            } else {
                plainWrites.incrementAndGet();
            }
        }
    }

    private void writePlain(ByteBuffer frame) throws TapException {
        plain.clear();
        if (to.offload()) {
            VirtioNetHeader.putPlain(plain, 0);
            plain.position(VirtioNetHeader.LENGTH);
        }
        plain.put(frame).flip();
        to.write(plain);
        plainWrites.incrementAndGet();
    }

    String stats() {
        return String.format("%s: %d reads (%d superframes, longest %d), %d wire frames, %d coalesced writes of %d"
                + " segments, %d plain writes, %d not delivered", thread.getName(), reads.get(), superframes.get(),
                longestRead.get(), wireFrames.get(), coalescedWrites.get(), coalescedSegments.get(), plainWrites.get(),
                notDelivered.get());
    }
}
