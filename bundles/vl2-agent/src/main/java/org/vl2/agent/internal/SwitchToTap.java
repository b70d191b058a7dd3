package org.vl2.agent.internal;

import java.io.IOException;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;

import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.TcpCoalescer;
import org.vl2.tap.VirtioNetHeader;

/**
 * The receive pump, thread {@code vl2-agent-udp-rx}: datagrams from the switch to the kernel.
 *
 * <pre>
 *   Link.receive (a batch; batched: GRO messages cut into datagrams, each left where it lies in its slot)
 *     -> FrameCodec.decode in place: a frame (offset, length), or a control message for the session, or a drop
 *     -> offload: TcpCoalescer joins consecutive TCP segments into one superframe; others go behind a plain virtio
 *        header (in place when the datagram has room in front of the frame)
 *     -> TAP write; what the coalescer holds is written before the pump waits (a segment never waits for the next)
 *     -> after a small batch: what the kernel answered inside those writes (an echo reply, a TCP ACK) is read from
 *        the TAP and sent here, by the send pump's code under its turn ({@link TapToSwitch#answer}), not after the
 *        send pump's wake-up
 * </pre>
 *
 * After a move off a TCP link the old connection is read beside the new link for a short grace
 * ({@link RetiredLink}): what the switch wrote there before it saw the move reaches the TAP as well.
 *
 * <p>Direct paths: a second pump of this class, thread {@code vl2-agent-peer-rx}, reads the link's peer socket
 * ({@link Link#peers()}) with a {@link PeerCodec}: pair frames straight from other members, written to the TAP the same
 * way (its own coalescer; the kernel's immediate answers leave through the same turn).
 *
 * Nothing allocated or logged per datagram (the sealed codec copies the rare handshake answers).
 */
final class SwitchToTap implements Runnable {

    private final TapPort tap;
    private final LinkKeeper links;
    private final FrameCodec codec;
    private final Counters counters;
    private final Lifecycle life;
    private final int tickMillis;
    /** How long a receive on the current link waits while an old one is in its grace (read between the waits). */
    static final int GRACE_POLL_MILLIS = 5;
    /** The longest datagram this agent takes, plus one. */
    private final int room;
    /** Offload: consecutive TCP segments become one superframe; plain frames get a header, here if not in place. */
    private final TcpCoalescer coalescer;
    private final ByteBuffer plainTx;
    /** The send pump, whose turn this pump takes to send the kernel's immediate answers. */
    private final TapToSwitch sender;
    /**
     * Receives of at most this many datagrams are followed by a look for answers: sparse traffic, where the send
     * pump's wake-up is on the round trip. In a stream the send pump is awake anyway and the look would cost the
     * receive pump (the one that limits the stream) a read per batch.
     */
    static final int ANSWER_BATCH = 4;
    /** Looks that find nothing before the pump stops looking (one-way traffic: each look is an empty read). */
    static final int ANSWER_MISSES = 4;
    /** While it does not look: one look every this many (a power of two), in case answers come again. */
    static final int ANSWER_PROBE = 32;
    /** This pump reads the link's peer socket (direct paths), not the switch's. */
    private final boolean peers;
    /** Frames written to the TAP since the last look for answers. */
    private int written;
    /** Looks left before the pump stops looking; a look that finds an answer sets it back to {@link #ANSWER_MISSES}. */
    private int answerCredit = ANSWER_MISSES;
    private int answerSkips;
    /** The send pump's {@link TapToSwitch#turnsTaken} when this pump last looked or received. */
    private int senderTurns;

    SwitchToTap(TapPort tap, LinkKeeper links, FrameCodec codec, Counters counters, Lifecycle life, long tickMillis,
                int room, boolean offload, TapToSwitch sender) {
        this(tap, links, codec, counters, life, tickMillis, room, offload, sender, false);
    }

    /** {@code peers}: the pump of the peer socket (direct paths). */
    SwitchToTap(TapPort tap, LinkKeeper links, FrameCodec codec, Counters counters, Lifecycle life, long tickMillis,
                int room, boolean offload, TapToSwitch sender, boolean peers) {
        this.peers = peers;
        this.sender = sender;
        this.tap = tap;
        this.links = links;
        this.codec = codec;
        this.counters = counters;
        this.life = life;
        this.tickMillis = (int) tickMillis;
        this.room = room;
        this.coalescer = offload ? new TcpCoalescer() : null;
        this.plainTx = offload ? ByteBuffer.allocateDirect(VirtioNetHeader.LENGTH + room) : null;
    }

    @Override
    public void run() {
        while (life.running()) {
            step();
        }
    }

    /**
     * One receive (or one wait) and its datagrams to the TAP. A method of its own so that the JIT compiles it after
     * a few hundred receives: as the body of {@link #run}'s loop it would run interpreted until the loop's back-edge
     * counter asks for an on-stack replacement, which a sparse flow (a ping every few milliseconds) takes minutes to
     * reach.
     */
    private void step() {
        Link l = links.link();
        if (l == null) {
            links.awaitLink();
            return;
        }
        if (peers) {
            Link p = l.peers();
            if (p == null) {
                links.awaitOther(l); // a TCP link: no peer socket until the next UDP one
                return;
            }
            l = p;
        }
        Link old = peers ? null : links.retired().link();
        int wait = tickMillis;
        if (old != null && old != l) {
            readRetired(old);
            wait = Math.min(tickMillis, GRACE_POLL_MILLIS);
        }
        int count;
        try {
            if (coalescer != null && coalescer.hasPending()) {
                count = l.receive(0);
                if (count == 0) {
                    flushCoalesced(); // nothing queued: write what the coalescer holds before waiting
                    sendAnswers();
                    count = l.receive(wait);
                }
            } else {
                count = l.receive(wait); // one look at the socket, not an empty one before the wait
            }
        } catch (IOException e) {
            receiveFailed(e, l);
            return;
        }
        if (written == 0) {
            senderTurns = sender.turnsTaken(); // before the writes whose answers the next look is for
        }
        deliver(l, count);
        if (count <= ANSWER_BATCH && (coalescer == null || !coalescer.hasPending())) {
            sendAnswers();
        }
    }

    /**
     * After frames were written to the TAP: what the kernel answered inside those writes leaves now, through the send
     * pump's code ({@link TapToSwitch#answer}), unless the send pump is awake and reads it itself. Looks that keep
     * finding nothing (traffic that is not answered at once) stop, but for one look every {@link #ANSWER_PROBE}.
     */
    private void sendAnswers() {
        int w = written;
        if (w == 0) {
            return;
        }
        written = 0;
        if (answerCredit <= 0 && (++answerSkips & (ANSWER_PROBE - 1)) != 0) {
            return;
        }
        int read = sender.answer(w);
        if (read > 0) {
            answerCredit = ANSWER_MISSES;
        } else if (read == 0 && answerCredit > 0 && sender.turnsTaken() == senderTurns) {
            answerCredit--; // a miss: nothing was answered (not: the send pump woke up and read it first)
        }
    }

    /**
     * The old TCP link in its grace: what it holds now goes to the TAP as the current link's does; once it has nothing
     * and its grace is over (or the connection ended) it is closed.
     */
    private void readRetired(Link old) {
        int count;
        try {
            count = old.receive(0);
        } catch (IOException e) {
            count = -1;
        }
        if (count > 0) {
            deliver(old, count);
        } else if (count < 0 || links.retired().over(old, links.clock().millis())) {
            links.retired().end(old);
        }
    }

    /** The {@code count} datagrams of {@code l}'s last receive: decoded in place, frames written to the TAP. */
    private void deliver(Link l, int count) {
        for (int i = 0; i < count; i++) {
            ByteBuffer d = l.datagram(i);
            int at = d.position();
            int n = d.remaining();
            if (n > room) {
                counters.drop(); // longer than anything this agent takes
                continue;
            }
            int length;
            try {
                length = codec.decode(d, at, n, l.source(i), l);
            } catch (RuntimeException e) {
                counters.malformed(); // whatever it was, it must not end the loop
                continue;
            }
            if (length >= 0) {
                write(d, length, at);
            }
        }
    }

    /** What the loop does when a receive from {@code l} fails. */
    private void receiveFailed(IOException e, Link l) {
        if (e instanceof PortUnreachableException) {
            links.unreachable(); // an ICMP error for an earlier datagram
        } else if (e instanceof ClosedChannelException) {
            if (life.running() && (peers || links.link() == l)) {
                // closed but not yet replaced: the control thread is reconnecting (a peer socket closes with its link)
                Lifecycle.pause(10);
            }
        } else if (life.running()) {
            Lifecycle.pause(100); // an unexpected socket error: do not spin on it
        }
    }

    /** The frame between position and limit of {@code buf}, whose datagram starts at {@code datagramAt}. */
    private void write(ByteBuffer buf, int length, int datagramAt) {
        TapDevice t = tap.device();
        if (t.offload()) {
            writeCoalesced(t, buf, length, datagramAt);
            return;
        }
        try {
            t.write(buf);
            written++;
            counters.delivered(1, length);
        } catch (TapException e) {
            counters.drop(); // e.g. the link is down (EIO), or the device is being re-created
        }
    }

    /**
     * Offload: the frame joins the pending superframe if it continues its TCP flow; otherwise the pending one is
     * written first, and a frame that cannot join any goes out alone behind a plain virtio header.
     */
    private void writeCoalesced(TapDevice t, ByteBuffer buf, int length, int datagramAt) {
        TcpCoalescer c = coalescer;
        TcpCoalescer.Result r = c.offer(buf);
        if (r == TcpCoalescer.Result.FLUSH_FIRST) {
            flushCoalesced();
            r = c.offer(buf);
        }
        if (r == TcpCoalescer.Result.NOT_ELIGIBLE) {
            flushCoalesced();
            writePlain(t, buf, length, datagramAt);
        } else if (c.isComplete()) {
            flushCoalesced();
        }
    }

    /** Offload: writes the pending superframe (or single segment), if any. */
    private void flushCoalesced() {
        TcpCoalescer c = coalescer;
        if (c == null || !c.hasPending()) {
            return;
        }
        int segments = c.pendingSegments();
        int bytes = c.pending().remaining() - VirtioNetHeader.LENGTH;
        try {
            tap.device().write(c.pending());
            written++;
            counters.delivered(segments, bytes);
            if (segments > 1) {
                counters.superframesOut.incrementAndGet();
            }
        } catch (TapException e) {
            counters.drops.addAndGet(segments); // e.g. the link is down (EIO), or the device is being re-created
        } finally {
            c.reset();
        }
    }

    /**
     * Offload: one frame behind a zero virtio header: in place when its datagram has room in front of the frame (the
     * protocol header, done with), else copied.
     */
    private void writePlain(TapDevice t, ByteBuffer buf, int length, int datagramAt) {
        ByteBuffer out = buf;
        int at = buf.position() - VirtioNetHeader.LENGTH;
        if (at < datagramAt) {
            out = plainTx.clear();
            at = 0;
            out.put(VirtioNetHeader.LENGTH, buf, buf.position(), length);
        }
        VirtioNetHeader.putPlain(out, at);
        out.limit(at + VirtioNetHeader.LENGTH + length).position(at);
        try {
            t.write(out);
            written++;
            counters.delivered(1, length);
        } catch (TapException e) {
            counters.drop();
        }
    }
}
