package org.vl2.agent.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.TapSettings;
import org.vl2.tap.TsoSegmenter;
import org.vl2.tap.VirtioNetHeader;

/**
 * The send pump, thread {@code vl2-agent-tap-rx}: frames from the kernel to the switch.
 *
 * <pre>
 *   TAP read (the frame lands headroom bytes into the buffer; offload: behind a virtio header, maybe a superframe)
 *     -> offload: TsoSegmenter cuts a superframe into MTU-sized frames (or passes a frame on in place)
 *     -> send: FrameCodec.encode writes the header in front (seals in place, tag behind)
 *     -> Link.queue (batched: queued; NIO: sent now)
 *     -> flush: the first frame after a wait at once; in a burst when the TAP holds nothing more (batched: up to
 *        32 reads leave with one sendmmsg); an empty TAP is waited for with one poll, and after a lone frame (a ping)
 *        the pump waits without reading first: poll, read, sendmmsg per frame
 * </pre>
 *
 * <p><b>The turn.</b> Whoever reads the TAP and sends holds the turn: this pump from the moment it wakes until it
 * waits again, or, while it waits, the receive pump for a moment right after it wrote frames to the TAP
 * ({@link #answer}). The kernel answers some frames inside the write that delivers them (an echo reply, an ARP
 * reply, a TCP ACK: the write runs the stack and queues the answer on the TAP before it returns), so the receive
 * pump finds the answer there and sends it at once instead of waiting for this pump's wake-up: one thread wake-up
 * fewer on a round trip through the agent. The turn is one compare-and-set; this pump waits for it only when its
 * wake-up meets the receive pump's read of a few microseconds.
 *
 * One preallocated direct buffer; nothing allocated or logged per frame. A failing TAP device stops the agent.
 */
final class TapToSwitch implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(TapToSwitch.class);
    /** Batched link: most TAP reads whose frames leave together (a bound on the latency a burst adds). */
    static final int TAP_DRAIN = 32;
    /** Offload: where segments are built in {@link #segmentBuffer}, room for any protocol header in front. */
    static final int SEGMENT_AT = Vl2Framing.HEADER;
    /**
     * A wait taken in place of a read after a lone frame that returns sooner than this found the next frame already
     * queued: a burst, whose frames are batched, not the next lone frame. Only batching depends on it, never whether
     * or when a frame leaves.
     */
    static final long LONE_GAP_NANOS = 50_000;
    /** Spins for the turn before parking (the holder is a receive pump's short read and send). */
    private static final int TURN_SPINS = 64;
    /** Longest park for the turn: the receive pump unparks this pump when it gives the turn back. */
    static final long TURN_PARK_NANOS = 1_000_000;

    private static final VarHandle TURN;

    static {
        try {
            TURN = MethodHandles.lookup().findVarHandle(TapToSwitch.class, "turn", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final TapPort tap;
    private final LinkKeeper links;
    private final FrameCodec codec;
    private final Counters counters;
    private final Lifecycle life;
    private final Lifecycle.Halt halt;
    private final long tickMillis;
    private final ByteBuffer buffer;
    /** Bytes in front of each frame for the protocol header. */
    private final int headroom;
    /** Offload: where superframes are cut; the sink that sends each frame is a field (a lambda per call allocates). */
    private final ByteBuffer segmentBuffer;
    private final TsoSegmenter.SegmentSink<RuntimeException> segmentSink = this::send;
    private TsoSegmenter segmenter;
    private TapDevice segmenterTap;
    /** Batched link: TAP reads queued since the last flush. */
    private int pending;
    /** The next frame is the first after a wait: it leaves at once, there is nothing to batch it with. */
    private boolean woken;
    /** The last frame came alone after a wait (a ping, an ACK): the next step waits without an empty read first. */
    private boolean waitFirst;
    /** 1 while a thread reads the TAP and sends (see the class comment); every field above is used under it. */
    @SuppressWarnings("unused") // through TURN
    private volatile int turn;
    /** This pump holds the turn (only its own thread reads this). */
    private boolean holding;
    /** How often this pump took the turn (written by its thread only): whether it read the TAP meanwhile. */
    private volatile int turnsTaken;
    /** This pump is parked (or about to park) for the turn: the receive pump unparks it when it gives the turn back. */
    private volatile boolean parked;
    /** This pump's thread (set when it starts): whom the receive pump unparks. */
    private volatile Thread pumpThread;

    /** {@code room}: the longest datagram plus one (a frame that fills the buffer was truncated). */
    TapToSwitch(TapPort tap, LinkKeeper links, FrameCodec codec, Counters counters, Lifecycle life,
                Lifecycle.Halt halt, long tickMillis, int room, boolean offload) {
        this.tap = tap;
        this.links = links;
        this.codec = codec;
        this.counters = counters;
        this.life = life;
        this.halt = halt;
        this.tickMillis = tickMillis;
        this.headroom = codec.headroom();
        // offload: a 64 KiB superframe after its virtio header, read where the frame lands headroom bytes in
        this.buffer = ByteBuffer.allocateDirect(offload ? Math.max(room, Math.max(headroom, VirtioNetHeader.LENGTH)
                + TapDevice.MAX_OFFLOAD_READ_LENGTH + SealedCodec.TAG + 1) : room);
        this.segmentBuffer = offload ? ByteBuffer.allocateDirect(SEGMENT_AT + TapDevice.FRAME_OVERHEAD
                + TapSettings.MAX_MTU + SealedCodec.TAG + 1) : null;
    }

    @Override
    public void run() {
        pumpThread = Thread.currentThread();
        try {
            while (life.running() && step()) {
                // one wait or one TAP read per step
            }
        } finally {
            releaseTurn();
        }
    }

    /**
     * Takes the turn; held by the receive pump it is free again within one TAP read and one send. A short spin covers
     * the common case (the receive pump is in its send); past it this pump parks and the receive pump, giving the turn
     * back, unparks it: a pump woken by the very answer the receive pump is sending (the kernel queued it on the TAP
     * inside the receive pump's write) sleeps through that send instead of yielding the CPU in a loop of system calls
     * on a machine where that CPU is what the switch's thread needs next.
     */
    private void takeTurn() {
        int tries = 0;
        while (!TURN.compareAndSet(this, 0, 1)) {
            if (++tries < TURN_SPINS) {
                Thread.onSpinWait();
                continue;
            }
            parked = true; // before the look at the turn: a release after it sees the flag and unparks
            if (!TURN.compareAndSet(this, 0, 1)) {
                // bounded: a release that ran between the flag and the park unparks a thread not yet parked, and
                // the park then returns at once; the bound only keeps a lost wake-up from costing more than a tick
                LockSupport.parkNanos(this, TURN_PARK_NANOS);
                parked = false;
                continue;
            }
            parked = false;
            break;
        }
        holding = true;
        turnsTaken = turnsTaken + 1; // one writer
    }

    /** How often this pump took the turn so far: if it did since, it may have read what the caller looked for. */
    int turnsTaken() {
        return turnsTaken;
    }

    /** Gives the turn up before a wait, so that the receive pump may send what the kernel answers meanwhile. */
    private void releaseTurn() {
        if (holding) {
            holding = false;
            TURN.setVolatile(this, 0);
        }
    }

    /**
     * On the receive pump's thread, right after it wrote frames to the TAP: reads what the kernel queued on the TAP
     * inside those writes, at most {@code reads} frames and without waiting, and sends it now. Returns the frames
     * read, or -1 when this pump holds the turn (it is awake and reads them itself). A TAP failure is left to this
     * pump, which meets it on its next read.
     */
    int answer(int reads) {
        if (!TURN.compareAndSet(this, 0, 1)) {
            return -1;
        }
        try {
            final ByteBuffer buf = buffer;
            TapDevice t = tap.device();
            boolean offload = t.offload();
            int longest = offload ? t.maxReadLength() : t.maxFrameLength();
            int readAt = offload ? Math.max(0, headroom - VirtioNetHeader.LENGTH) : headroom;
            int frames = 0;
            while (frames < reads) {
                buf.clear().limit(readAt + longest + 1).position(readAt);
                int n;
                try {
                    n = t.read(buf, 0);
                } catch (TapException e) {
                    break;
                }
                if (n <= 0) {
                    break;
                }
                frames++;
                forward(t, buf, readAt, n, longest, offload);
            }
            if (frames > 0) {
                flush();
                counters.answered.addAndGet(frames);
            }
            return frames;
        } finally {
            TURN.setVolatile(this, 0);
            if (parked) {
                LockSupport.unpark(pumpThread); // it woke while this pump held the turn, and sleeps until now
            }
        }
    }

    /** This pump's thread is parked for the turn (tests). */
    boolean parkedForTurn() {
        return parked;
    }

    /**
     * One TAP read (or one wait) and what follows from it; false when the pump must end (the device failed or
     * closed). The loop's body is a method of its own so that the JIT compiles it after a few hundred frames: a
     * loop body in {@link #run} would run interpreted until the loop's back-edge counter asks for an on-stack
     * replacement, tens of thousands of iterations, which a sparse flow (a ping every few milliseconds) takes
     * minutes to reach.
     */
    private boolean step() {
        if (!holding) {
            takeTurn();
        }
        final ByteBuffer buf = buffer;
        TapDevice t = tap.device();
        boolean offload = t.offload();
        int longest = offload ? t.maxReadLength() : t.maxFrameLength();
        // offload: the frame behind the 10-byte virtio header lands headroom (or 10) bytes in
        int readAt = offload ? Math.max(0, headroom - VirtioNetHeader.LENGTH) : headroom;
        buf.clear().limit(readAt + longest + 1).position(readAt);
        int n;
        try {
            // take what the TAP already holds; only when it holds nothing, send what is queued and wait (a
            // wait is one poll, with no empty read in front of it); right after a lone frame, wait without reading
            n = waitFirst ? 0 : t.read(buf, 0);
            if (n == 0) {
                boolean guessed = waitFirst;
                waitFirst = false;
                if (pending > 0) {
                    flush();
                    pending = 0;
                }
                long before = guessed ? System.nanoTime() : 0;
                releaseTurn();
                n = t.awaitReadable(-1);
                if (n > 0) {
                    // after an empty read the wait was real; in place of a read it was if it lasted, else the next
                    // frame was already queued: a burst, batched as usual
                    woken = !guessed || System.nanoTime() - before > LONE_GAP_NANOS;
                    return true;
                }
            }
        } catch (TapException e) {
            if (life.running() && tap.device() == t) {
                halt.halt("Reading from TAP device " + t.name() + " failed: " + e.getMessage() + "; no frames"
                        + " flow any more: restart the agent (or change its configuration) to recreate the"
                        + " device", LOG);
                return false;
            }
            return true; // replaced meanwhile, or stopping
        }
        if (n < 0) {
            if (pending > 0) {
                flush();
                pending = 0;
            }
            // closed: stopping; or replaced: read the new device
            releaseTurn();
            return tap.awaitOther(t, tickMillis);
        }
        if (n == 0) {
            return true; // an interrupted wait
        }
        forward(t, buf, readAt, n, longest, offload);
        if (woken) {
            // the first frame after a wait (a ping, a TCP ACK): waiting for an empty read to find the
            // burst's end would put a system call between it and the switch
            woken = false;
            flush();
            pending = 0;
            waitFirst = true; // most likely the TAP is empty again: an empty read would only tell so
        } else {
            pending = flushUnlessDraining(pending);
        }
        return true;
    }

    /**
     * The frame (or offload superframe) of {@code n} bytes read at {@code readAt}: dropped if truncated, cut into
     * frames if a superframe, each encoded and queued (or sent).
     */
    private void forward(TapDevice t, ByteBuffer buf, int readAt, int n, int longest, boolean offload) {
        if (n > longest) {
            counters.drop(); // truncated: longer than the TAP's MTU allows
            return;
        }
        if (!offload) {
            send(buf, readAt, n);
            return;
        }
        TsoSegmenter seg = segmenter;
        if (segmenterTap != t) {
            seg = new TsoSegmenter(t.mtu()); // rare: a new device (another MTU)
            segmenter = seg;
            segmenterTap = t;
        }
        TsoSegmenter.Result r = seg.segment(buf, readAt, n, segmentBuffer, SEGMENT_AT, segmentSink);
        if (r == TsoSegmenter.Result.SEGMENTED) {
            counters.superframesIn.incrementAndGet();
        } else if (!r.delivered()) {
            counters.drop(); // a superframe the kernel should not have made (counted, never sent)
        }
    }

    /**
     * Sends the frame at {@code frameAt} ({@code n} bytes) of {@code buf} to the switch: the codec puts the header in
     * the headroom in front of it (the tag behind it), the link queues or sends it.
     */
    private void send(ByteBuffer buf, int frameAt, int n) {
        Link l = links.link();
        if (l == null) {
            counters.drop(); // no socket (name does not resolve yet, or reconnecting)
            return;
        }
        if (!codec.encode(buf, frameAt, n)) {
            counters.drop(); // not joined yet, or the keys expired
            return;
        }
        InetSocketAddress peer = codec.directTo();
        if (peer != null ? l.queue(peer, buf) : l.queue(buf)) {
            counters.sent(n);
            if (peer != null) {
                counters.directSent.incrementAndGet();
            }
        } else {
            counters.drop(); // the send buffer stayed full, or the socket is being replaced
        }
    }

    /**
     * After a TAP read: on a batched link, keep what was queued and read on while the TAP holds more (up to
     * {@link #TAP_DRAIN} reads, so a burst of small frames leaves with one system call, as one GSO message when the
     * frames are of one size); otherwise send now. Returns the new count of reads waiting for the flush.
     */
    private int flushUnlessDraining(int pending) {
        Link l = links.link();
        if (l != null && l.batched() && pending + 1 < TAP_DRAIN) {
            return pending + 1;
        }
        flush();
        return 0;
    }

    /**
     * Batched link: sends what {@link #send} queued (a superframe's segments: one system call, one GSO message);
     * what the socket refuses was counted as sent and is a drop after all.
     */
    private void flush() {
        Link l = links.link();
        if (l == null) {
            return;
        }
        int dropped = l.flush();
        if (dropped > 0) {
            counters.refused(dropped);
        }
    }
}
