package org.vl2.netio;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;

/**
 * A bound UDP socket that receives and sends datagrams in batches, the one shape every vl2 datagram path (the
 * switch's UDP and VXLAN transports, the agent's link) is written against; modelled on wireguard-go's
 * {@code conn.Bind}. {@link DatagramEndpoints} opens one: {@link org.vl2.netio.internal.UdpBatchSocket} (Linux, {@code recvmmsg}/
 * {@code sendmmsg}, optionally UDP GSO/GRO) or one on Java NIO (one datagram per system call).
 *
 * <pre>
 *   receive side (one thread)                send side (one thread, may be the same)
 *   n = receive(timeout)                     queue(datagram, to)   x many   -- copied into a send slot
 *   for i in 0..n-1:                         dropped = flush()             -- one sendmmsg (GSO where it fits)
 *       datagram(i), source(i)   (in place, valid until the next receive)
 * </pre>
 *
 * <p>Receive slots: {@link #receive} fills up to {@link #batchSize()} messages; a GRO message (many datagrams of one
 * peer that the kernel delivered as one) is already cut into its datagrams, so slot {@code i} is always exactly one
 * datagram: {@link #datagram(int)} is a view of the endpoint's own buffer between position and limit (big-endian,
 * the caller may move position and limit), {@link #source(int)} its sender. Nothing is copied on the way in and
 * nothing is allocated per datagram.
 *
 * <p>Threads: the receive side ({@link #receive}, {@link #datagram}, {@link #source}) belongs to one thread and the
 * send side ({@link #queue}, {@link #queued}, {@link #flush}, {@link #setAutoFlushWait},
 * {@link #takeAutoFlushDropped}) to one thread at a time (threads that take turns hand it over with a volatile write
 * and read, as the agent's pumps do). {@link #send}, {@link #wakeup}, {@link #close} and the getters may be called
 * from any thread; {@link #close} wakes a waiting receive.
 */
public interface DatagramEndpoint extends AutoCloseable {

    /** Largest UDP payload over IPv4: a receive slot holds it, so nothing received is ever truncated. */
    int MAX_DATAGRAM = 65_507;
    /** Upper bound of {@link #batchSize()} (the kernel's UIO_MAXIOV). */
    int MAX_BATCH = 1024;
    /** Most datagrams in one offloaded message (the kernel's UDP_MAX_SEGMENTS and UDP_GRO_CNT_MAX). */
    int MAX_SEGMENTS = 64;

    /** The address actually bound (the port the kernel picked when 0 was asked; after {@link #connect} the route's). */
    InetSocketAddress localAddress();

    /** Messages per receive or flush system call: 1 for an endpoint that moves one datagram per call. */
    int batchSize();

    /**
     * What offload is on: "gso+gro", "gso", "gro" or "none" (not asked, not available, or the kernel refused; GSO
     * also goes off when the kernel refuses an offloaded message, e.g. a route through a device without checksum
     * offload).
     */
    String offload();

    /** Offloaded messages the kernel refused, whose datagrams were then sent one by one. */
    long offloadFallbacks();

    /**
     * Connects to {@code remote} (datagrams still go where {@link #queue} and {@link #send} say, which must then be
     * {@code remote}): only {@code remote}'s datagrams are received, and an ICMP port unreachable from it makes the
     * next {@link #receive} throw {@link PortUnreachableException}. The local address becomes the route's.
     */
    void connect(InetSocketAddress remote) throws IOException;

    /** Sets SO_RCVBUF and SO_SNDBUF in place (the kernel caps them at net.core.rmem_max/wmem_max). */
    void setBufferSizes(int receiveBufferBytes, int sendBufferBytes) throws IOException;

    /**
     * Receives what is queued, up to {@link #batchSize()} messages; when nothing is, waits up to
     * {@code timeoutMillis} (0: do not wait) for a datagram, a {@link #wakeup()} or {@link #close()}. Returns how many
     * datagrams are in the slots (0 after a timeout or a wake-up); they are {@link #datagram(int)} and
     * {@link #source(int)} until the next call. Receive-side thread only.
     *
     * @throws ClosedChannelException once the endpoint is closed
     * @throws PortUnreachableException on a connected endpoint whose peer answered with ICMP port unreachable
     */
    int receive(int timeoutMillis) throws IOException;

    /** Datagram {@code i} of the last {@link #receive}, between position and limit, big-endian; reused afterwards. */
    ByteBuffer datagram(int i);

    /** Where datagram {@code i} of the last {@link #receive} came from. */
    InetSocketAddress source(int i);

    /**
     * Makes a {@link #receive} that is waiting (or the next one that would wait) return 0. Any thread. A batched
     * endpoint waits in a blocking {@code recvmmsg}, which this ends with a signal to the waiting thread; one that
     * lands in the moment before the call blocks is lost and that wait ends at its timeout, so who must end a wait
     * promptly calls this again until the receiving thread has left ({@link ReceiveLoop#stop}). Where signals cannot
     * be sent (not Linux on x86-64 or arm64) a connected batched endpoint's wait ends at its timeout ({@link #close}
     * ends it at once).
     */
    void wakeup();

    /**
     * Takes {@code data} (position to limit, unchanged on return) for {@code to}: copied into a send slot that
     * leaves at the next {@link #flush()} (or now, when every slot is taken), or, on an endpoint that moves one
     * datagram per call, sent now. With GSO consecutive datagrams to one destination leave as one message.
     * Send-side thread only.
     *
     * @return false if nothing was taken: {@code to} is not reachable from this endpoint (family, unresolved), the
     *         datagram is larger than {@link #MAX_DATAGRAM}, or (sent at once) the kernel refused it
     */
    boolean queue(InetSocketAddress to, ByteBuffer data);

    /**
     * {@link #queue(InetSocketAddress, ByteBuffer)} with a {@code tag} (e.g. the switch port the datagram is for) that
     * a later refusal reports to the {@link Refusals} set with {@link #setRefusals}; the endpoint keeps the reference
     * until the flush, nothing is copied or allocated. With GSO only datagrams of the same tag share a message.
     */
    default boolean queue(InetSocketAddress to, ByteBuffer data, Object tag) {
        return queue(to, data);
    }

    /**
     * Where a flush reports what it dropped of what {@link #queue} took, by tag ({@code null}: queued without one),
     * so whoever counted those datagrams as sent can correct its counters. Called on the send-side thread, from
     * {@link #flush()} and from the flush {@link #queue} does by itself; an endpoint that sends at once never calls it
     * (its refusals are {@link #queue}'s false). Set once, before sending.
     */
    default void setRefusals(Refusals refusals) {
        // endpoints that never drop after accepting have nothing to report
    }

    /** What a flush dropped, reported by tag: see {@link #setRefusals}. */
    @FunctionalInterface
    interface Refusals {
        /** {@code datagrams} datagrams of {@code bytes} bytes in all, queued with {@code tag}, were dropped. */
        void refused(Object tag, int datagrams, int bytes);
    }

    /** Datagrams taken by {@link #queue} and not yet flushed. */
    int queued();

    /**
     * Sends every queued datagram. One the kernel refuses is dropped and the rest still go; when the send buffer is
     * full the rest are dropped, as a congested port drops them.
     *
     * @return how many queued datagrams were dropped
     */
    int flush();

    /**
     * {@link #flush()}, but when the send buffer is full it waits up to {@code waitMillis} in all for room before it
     * drops what is left: for a sender whose datagrams carry TCP, where a drop costs a retransmission.
     */
    int flush(int waitMillis);

    /**
     * How long the flush that {@link #queue} does by itself (every slot taken) or the send it does (one datagram
     * per call) waits for room in a full send buffer; 0 (the default) drops at once. Send-side thread only.
     */
    void setAutoFlushWait(int millis);

    /**
     * Datagrams dropped by the flushes {@link #queue} did by itself since the last call (they are in no
     * {@link #flush()}'s count); resets it. Send-side thread only.
     */
    int takeAutoFlushDropped();

    /**
     * A send side of its own on this socket, for one more thread that sends in batches (e.g. the TCP transport's loop
     * forwarding to UDP members): what it queues leaves with one {@code sendmmsg} (GSO as {@link #queue}) at its
     * {@link SendSide#flush}, from the same address and port, without touching this endpoint's own send side.
     * Refusals go to this endpoint's {@link Refusals} (set them first). Native memory for {@code slots} messages is
     * allocated here, once per thread that asks; keep the side. Any thread.
     *
     * @return null where the endpoint moves one datagram per call (then {@link #send} each)
     */
    default SendSide newSendSide(int slots) {
        return null;
    }

    /**
     * One thread's send side of an endpoint ({@link #newSendSide}): {@link #queue(InetSocketAddress, ByteBuffer,
     * Object)}, {@link #queued()}, {@link #flush()} and {@link #takeAutoFlushDropped()} as on the endpoint, all on that
     * one thread. Closing the endpoint closes it: a flush then drops and reports what it held.
     */
    interface SendSide {
        boolean queue(InetSocketAddress to, ByteBuffer data, Object tag);

        int queued();

        int flush();

        int takeAutoFlushDropped();
    }

    /**
     * Sends one datagram now, from any thread; {@code data}'s position and limit are unchanged.
     *
     * @return false if it was not sent (full send buffer, unreachable, wrong family, too large, closed)
     */
    boolean send(InetSocketAddress to, ByteBuffer data);

    boolean isOpen();

    /**
     * Closes the endpoint, from any thread: a waiting {@link #receive} returns at once, calls in progress end first,
     * later receives throw {@link ClosedChannelException}, sends return false and flushes drop. Idempotent.
     */
    @Override
    void close();
}
