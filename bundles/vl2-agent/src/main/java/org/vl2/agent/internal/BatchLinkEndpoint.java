package org.vl2.agent.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;

import org.vl2.netio.UdpBatchSocket;

/**
 * A {@link LinkEndpoint} on a {@link UdpBatchSocket} (TAP offload on Linux): a TAP read's frames leave with one
 * sendmmsg, as one UDP GSO message when they are of one size, and the switch's bursts arrive as GRO messages, each
 * datagram taken where it lies in its receive slot.
 */
final class BatchLinkEndpoint implements LinkEndpoint {

    /**
     * Messages per recvmmsg/sendmmsg. A message is up to 64 datagrams with GRO/GSO, and a TAP read makes one or two;
     * each slot is 64 KiB of native memory that becomes resident once a message fills it, so few slots keep the
     * agent small (8: at most 1 MiB).
     */
    static final int LINK_BATCH = 8;
    /**
     * SO_RCVBUF/SO_SNDBUF (capped by net.core.rmem_max/wmem_max). Kernel memory, not the agent's: a GRO message of
     * 64 datagrams takes about 100 KiB of it, so 1 MiB held only ten of the switch's bursts.
     */
    static final int LINK_SOCKET_BUFFER_BYTES = 4 << 20;
    /** How long a flush waits for room in a full send buffer (about the NIO channel's retries, 2 ms). */
    static final int SEND_WAIT_MILLIS = 2;

    private final UdpBatchSocket socket;
    private final InetSocketAddress remote;

    BatchLinkEndpoint(UdpBatchSocket socket, InetSocketAddress remote) {
        this.socket = socket;
        this.remote = remote;
    }

    /** True if batched links work here (vl2-netio's native part loaded). */
    static boolean available() {
        return UdpBatchSocket.unavailableReason() == null;
    }

    /** A batched socket bound to {@code bind}, retrying for up to {@code millis} while the address is in use. */
    static UdpBatchSocket openWithin(InetSocketAddress bind, long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            try {
                return open(bind);
            } catch (BindException e) {
                if (System.nanoTime() > deadline) {
                    return null; // taken by someone else meanwhile
                }
                Lifecycle.pause(5);
            }
        }
    }

    static UdpBatchSocket open(InetSocketAddress bind) throws IOException {
        UdpBatchSocket b = UdpBatchSocket.open(bind, LINK_SOCKET_BUFFER_BYTES, LINK_SOCKET_BUFFER_BYTES, LINK_BATCH,
                true);
        b.setAutoFlushWait(SEND_WAIT_MILLIS); // a burst that fills every slot waits for room like flush()
        return b;
    }

    @Override
    public InetSocketAddress remote() {
        return remote;
    }

    @Override
    public InetSocketAddress local() {
        return socket.localAddress();
    }

    @Override
    public boolean batched() {
        return true;
    }

    @Override
    public int send(ByteBuffer datagram) throws IOException {
        int n = datagram.remaining();
        if (!socket.isOpen()) {
            throw new ClosedChannelException();
        }
        if (!socket.send(remote, datagram)) {
            return 0;
        }
        datagram.position(datagram.limit());
        return n;
    }

    @Override
    public boolean queue(ByteBuffer datagram) {
        return socket.queue(remote, datagram);
    }

    @Override
    public int flush() {
        if (socket.queued() == 0) {
            return 0;
        }
        return socket.flush(SEND_WAIT_MILLIS) + socket.takeAutoFlushDropped();
    }

    @Override
    public int receive(int timeoutMillis) throws IOException {
        return socket.receive(timeoutMillis);
    }

    @Override
    public ByteBuffer datagram(int i) {
        return socket.datagram(i);
    }

    @Override
    public InetSocketAddress source(int i) {
        return socket.source(i);
    }

    @Override
    public String describe() {
        return ", UDP offload " + socket.offload();
    }

    @Override
    public void close() {
        socket.close();
    }
}
