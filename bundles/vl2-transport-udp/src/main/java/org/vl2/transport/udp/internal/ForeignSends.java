package org.vl2.transport.udp.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.SendBatch;

/**
 * Sends to this transport's socket from threads that are not its receive loops but end send batches of their own
 * ({@link SendBatch}: the TCP transport's connection loop forwarding a TCP member's frames to UDP members, another
 * transport's receive loop). Each such thread gets, once, a send side of its own on the socket
 * ({@link DatagramEndpoint#newSendSide}); its frames are queued there and leave with one {@code sendmmsg} (GSO) when
 * that thread's batch ends, instead of one {@code sendto} each. A thread's frames keep their order (one side, sent in
 * order); what a flush drops is reported by port through the endpoint's refusals, as the loops' own flushes are.
 *
 * <p>Lookup per send: a scan of the few sides (one per such thread) for the caller's batch, no lock, no allocation.
 * Sides of threads that ended are dropped when the next one is made.
 */
final class ForeignSends {

    /** Messages per side (GSO joins a run of frames to one member into one): 1 MiB of native memory per thread. */
    static final int SLOTS = 16;

    private final DatagramEndpoint endpoint;
    /** Datagrams a side's flush dropped (already counted by the refusals): for the rate-limited report. */
    private final IntConsumer droppedAtFlush;
    /** Copy on write, under this; read without a lock. */
    private volatile Side[] sides = new Side[0];
    /** The endpoint has no send sides (NIO): send at once. */
    private volatile boolean unavailable;

    ForeignSends(DatagramEndpoint endpoint, IntConsumer droppedAtFlush) {
        this.endpoint = endpoint;
        this.droppedAtFlush = droppedAtFlush;
    }

    /**
     * Queues {@code frame} for {@code to} on the calling thread's side, its flush deferred to the end of
     * {@code batch} (the calling thread's). Null when this endpoint has no send sides: the caller sends at once.
     */
    Boolean queue(SendBatch batch, InetSocketAddress to, ByteBuffer frame, Object port) {
        Side s = side(batch);
        return s == null ? null : s.queue(to, frame, port);
    }

    private Side side(SendBatch batch) {
        for (Side s : sides) {
            if (s.batch == batch) {
                return s;
            }
        }
        return unavailable ? null : open(batch);
    }

    private synchronized Side open(SendBatch batch) {
        List<Side> live = new ArrayList<>();
        for (Side s : sides) {
            if (s.batch == batch) {
                return s;
            }
            if (s.owner.isAlive()) {
                live.add(s);
            }
        }
        DatagramEndpoint.SendSide side = endpoint.newSendSide(SLOTS);
        if (side == null) {
            unavailable = true;
            return null;
        }
        Side s = new Side(batch, Thread.currentThread(), side);
        live.add(s);
        sides = live.toArray(new Side[0]);
        return s;
    }

    /** Threads with a side now (tests). */
    int sides() {
        return sides.length;
    }

    /** One thread's side; touched only by that thread. */
    private final class Side implements SendBatch.Deferred {
        final SendBatch batch;
        final Thread owner;
        final DatagramEndpoint.SendSide out;
        /** The flush waits in the batch. */
        boolean deferred;

        Side(SendBatch batch, Thread owner, DatagramEndpoint.SendSide out) {
            this.batch = batch;
            this.owner = owner;
            this.out = out;
        }

        boolean queue(InetSocketAddress to, ByteBuffer frame, Object port) {
            if (!out.queue(to, frame, port)) {
                return false;
            }
            if (!deferred) {
                if (batch.defer(this)) {
                    deferred = true;
                } else {
                    flushDeferred(); // the batch is full of other flushes: this one goes now
                }
            }
            return true;
        }

        @Override
        public void flushDeferred() {
            deferred = false;
            int dropped = out.takeAutoFlushDropped();
            if (out.queued() > 0) {
                dropped += out.flush();
            }
            if (dropped > 0) {
                droppedAtFlush.accept(dropped);
            }
        }
    }
}
