package org.vl2.agent.internal;

import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.vl2.api.MacAddress;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.TapFactory;
import org.vl2.tap.TapSettings;

/**
 * An in-memory TAP device with the read/write contract of {@link TapDevice}: direct buffers only, read leaves
 * position at the start and limit at the end of the frame, a frame longer than the room is truncated, write
 * does not move the buffer, close wakes a blocked reader with -1.
 */
final class FakeTap implements TapDevice {

    /** Frames "the kernel" sends out of the interface: what the agent reads. */
    final BlockingQueue<byte[]> fromKernel = new LinkedBlockingQueue<>();
    /** Frames the agent wrote: what "the kernel" received. */
    final BlockingQueue<byte[]> toKernel = new LinkedBlockingQueue<>();
    /** When set, the next read throws it (as when someone deletes the interface). */
    volatile TapException readFailure;
    /** Reads that found nothing (returned 0). */
    final AtomicInteger emptyReads = new AtomicInteger();
    /** True while a reader sleeps in {@link #awaitReadable} with nothing queued. */
    volatile boolean waiting;
    /** When set, what "the kernel" answers inside a write, queued for reading before the write returns (or null). */
    volatile java.util.function.UnaryOperator<byte[]> answers;
    /** When set, {@link #awaitReadable} sleeps on although frames are queued (a reader not yet woken up). */
    volatile boolean readerAsleep;
    /** When set, a read waits for the latch before it looks for a frame ({@link #heldReads} counts them). */
    volatile java.util.concurrent.CountDownLatch readGate;
    final AtomicInteger heldReads = new AtomicInteger();

    private final TapSettings settings;
    private final String name;
    private final MacAddress mac;
    private volatile boolean closed;

    FakeTap(TapSettings settings) {
        this.settings = settings;
        this.name = settings.name() == null ? "tap0" : settings.name();
        this.mac = settings.mac() != null ? settings.mac()
                : MacAddress.of(0x0200_0000_0000L | ThreadLocalRandom.current().nextLong(1L << 40));
    }

    /** A factory handing out FakeTaps; {@link #failure} makes create fail. */
    static final class Factory implements TapFactory {
        volatile FakeTap last;
        /** Every device created, in order: a test reads the first one whatever the agent did since. */
        final java.util.List<FakeTap> all = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile TapException failure;
        volatile int created;

        @Override
        public TapDevice create(TapSettings settings) throws TapException {
            if (failure != null) {
                throw failure;
            }
            created++;
            last = new FakeTap(settings);
            all.add(last);
            return last;
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int ifIndex() {
        return 42;
    }

    @Override
    public int mtu() {
        return settings.mtu();
    }

    @Override
    public MacAddress mac() {
        return mac;
    }

    @Override
    public int maxFrameLength() {
        return mtu() + FRAME_OVERHEAD;
    }

    @Override
    public TapSettings settings() {
        return settings;
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    @Override
    public int read(ByteBuffer dst) throws TapException {
        return read(dst, -1);
    }

    @Override
    public int read(ByteBuffer dst, int timeoutMillis) throws TapException {
        if (!dst.isDirect() || !dst.hasRemaining()) {
            throw new IllegalArgumentException("direct buffer with room expected");
        }
        long deadline = timeoutMillis < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutMillis * 1_000_000L;
        while (true) {
            if (closed) {
                return -1;
            }
            TapException failure = readFailure;
            if (failure != null) {
                throw failure;
            }
            java.util.concurrent.CountDownLatch gate = readGate;
            if (gate != null) {
                heldReads.incrementAndGet();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] frame;
            try {
                frame = fromKernel.poll(5, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            }
            if (frame != null) {
                int p = dst.position();
                int n = Math.min(frame.length, dst.remaining());
                dst.put(frame, 0, n);
                dst.position(p).limit(p + n);
                return n;
            }
            if (System.nanoTime() > deadline) {
                emptyReads.incrementAndGet();
                return 0;
            }
        }
    }

    @Override
    public int awaitReadable(int timeoutMillis) throws TapException {
        long deadline = timeoutMillis < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutMillis * 1_000_000L;
        while (true) {
            if (closed) {
                return -1;
            }
            if (readFailure != null || !fromKernel.isEmpty() && !readerAsleep) {
                return 1;
            }
            if (System.nanoTime() > deadline) {
                return 0;
            }
            try {
                waiting = true;
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            } finally {
                waiting = false;
            }
        }
    }

    @Override
    public void write(ByteBuffer frame) throws TapException {
        if (!frame.isDirect()) {
            throw new IllegalArgumentException("direct buffer expected");
        }
        if (closed) {
            throw new TapException("TAP device " + name + " is closed", 9);
        }
        if (frame.remaining() < 14) {
            throw new TapException("runt", 22);
        }
        byte[] copy = new byte[frame.remaining()];
        frame.duplicate().get(copy);
        java.util.function.UnaryOperator<byte[]> a = answers;
        byte[] answer = a == null ? null : a.apply(copy);
        if (answer != null) {
            fromKernel.add(answer);
        }
        toKernel.add(copy);
    }

    @Override
    public void close() {
        closed = true;
    }
}
