package org.vl2.agent.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The UDP socket to the switch, as the pumps and the session see it (wireguard-go's {@code conn.Bind}): send now,
 * queue and flush, receive a batch and take each datagram where it lies. {@link NioLinkEndpoint} is a Java NIO
 * channel, one datagram per system call; {@link BatchLinkEndpoint} sends and receives batches (sendmmsg/recvmmsg,
 * UDP GSO/GRO). The {@link LinkKeeper} opens one and replaces it as a whole when the agent reconnects. A TCP
 * link would be a third implementation.
 */
interface LinkEndpoint {

    /** The switch's endpoint this socket sends to. */
    InetSocketAddress remote();

    /** This socket's local endpoint. */
    InetSocketAddress local();

    /** True when {@link #queue} only queues and {@link #flush} sends; false when queue sends at once. */
    boolean batched();

    /** Sends the datagram between position and limit now (control messages): bytes sent, 0 if the buffer is full. */
    int send(ByteBuffer datagram) throws IOException;

    /**
     * Data path: queues the datagram between position and limit for the next {@link #flush} (batched), or sends it
     * now, waiting a little for room in a full send buffer; false if it was dropped for want of room.
     */
    boolean queue(ByteBuffer datagram) throws IOException;

    /** Sends what was queued: the number of datagrams refused (counted as sent when queued). */
    int flush();

    /**
     * Receives up to a batch of datagrams, waiting up to {@code timeoutMillis} when none is there (0: do not wait;
     * a blocking channel waits anyway): how many, each then at {@link #datagram} until the next receive.
     */
    int receive(int timeoutMillis) throws IOException;

    /** Datagram {@code i} of the last receive, between its position and limit (not necessarily at 0). */
    ByteBuffer datagram(int i);

    /** Where datagram {@code i} of the last receive came from. */
    InetSocketAddress source(int i);

    /** What the agent's start line says about this socket beyond its endpoints ({@code , UDP offload gso+gro}). */
    String describe();

    void close();
}
