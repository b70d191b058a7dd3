package org.vl2.netio.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

import org.vl2.netio.DatagramEndpoint;

/**
 * The send half of a batched socket: datagrams are copied into send slots and leave together with one
 * {@code sendmmsg} at {@link #flush}. With GSO, consecutive datagrams to one destination whose sizes allow it (equal,
 * the last one may be shorter) share a slot and leave as one message with a UDP_SEGMENT cmsg; the kernel cuts it into
 * the same datagrams as late as it can. A message the kernel refuses goes again datagram by datagram, and GSO is
 * narrowed (that size) or turned off (the device cannot) so it does not happen again. What a flush drops is reported
 * by the tag it was queued with ({@link DatagramEndpoint.Refusals}), so the owner of the datagrams (the switch's port
 * counters) can take back what it counted as sent. Native memory allocated once; nothing per datagram. One thread at
 * a time (the owner serialises).
 */
public final class BatchSender {


    private final Descriptor socket;
    private final int batch;
    private final MsgHdr.Batch memory;
    private final ByteBuffer ctl;
    private final long iovs;
    private final long names;
    private final long cmsgs;
    private final long pollFd;
    private final Pointer pollPointer;
    private final Pointer[] headerAt;
    private final ByteBuffer[] slots;

    // per queued message: destination length, total bytes, datagrams, size of the first
    private final int[] nameLength;
    private final int[] bytes;
    private final int[] count;
    private final int[] segment;
    /** Per queued message: the tag its datagrams were queued with (GSO joins only datagrams of one tag). */
    private final Object[] tags;
    private DatagramEndpoint.Refusals refusals = (tag, datagrams, bytes) -> { };
    private int queued;     // messages waiting in the slots
    private int queuedDatagrams;
    private int autoFlushWaitMillis;
    private int autoFlushDropped;
    private volatile boolean gso;
    private volatile long gsoFallbacks;
    /** Largest datagram GSO takes: lowered when the kernel refuses a segment size (e.g. larger than the MTU). */
    private int gsoLimit = DatagramEndpoint.MAX_DATAGRAM;

    public BatchSender(Descriptor socket, int batch, boolean gso) {
        this.socket = socket;
        this.batch = batch;
        this.gso = gso;
        memory = new MsgHdr.Batch(batch, 8);
        ctl = memory.ctl;
        iovs = memory.iovs;
        names = memory.names;
        cmsgs = memory.cmsgs;
        pollFd = memory.extra;
        slots = new ByteBuffer[batch];
        headerAt = new Pointer[batch];
        nameLength = new int[batch];
        bytes = new int[batch];
        count = new int[batch];
        segment = new int[batch];
        tags = new Object[batch];
        for (int i = 0; i < batch; i++) {
            long h = (long) i * MsgHdr.SIZE;
            slots[i] = memory.dataMemory.getByteBuffer((long) i * MsgHdr.SLOT, MsgHdr.SLOT)
                    .order(ByteOrder.BIG_ENDIAN);
            memory.header(i, 0, 0);
            // the cmsg is always UDP_SEGMENT; msg_controllen says whether a message carries it
            int cm = (int) (cmsgs + (long) i * MsgHdr.CMSG);
            ctl.putLong(cm, MsgHdr.CMSG_LEN_U16);
            ctl.putInt(cm + MsgHdr.CMSG_LEVEL, Sys.SOL_UDP);
            ctl.putInt(cm + MsgHdr.CMSG_TYPE, Sys.UDP_SEGMENT);
            ctl.putLong((int) h + MsgHdr.CONTROL, memory.base + cm);
            headerAt[i] = memory.ctlMemory.share(h);
        }
        pollPointer = memory.ctlMemory.share(pollFd);
    }

    public boolean gso() {
        return gso;
    }

    public long gsoFallbacks() {
        return gsoFallbacks;
    }

    public int queued() {
        return queuedDatagrams;
    }

    public void setAutoFlushWait(int millis) {
        autoFlushWaitMillis = Math.max(0, millis);
    }

    public void setRefusals(DatagramEndpoint.Refusals refusals) {
        this.refusals = refusals;
    }

    public int takeAutoFlushDropped() {
        int d = autoFlushDropped;
        autoFlushDropped = 0;
        return d;
    }

    /**
     * Copies {@code data} (position to limit, unchanged) for {@code to}; flushes first when every slot is taken
     * (through {@code flusher}, which takes the owner's lock). False if {@code to} cannot be encoded for this socket
     * or the datagram is too large. {@code tag} (may be null) is what a refusal of this datagram reports.
     */
    public boolean queue(InetSocketAddress to, ByteBuffer data, Object tag, Flusher flusher) {
        int length = data.remaining();
        if (length > DatagramEndpoint.MAX_DATAGRAM) {
            return false;
        }
        ByteBuffer c = ctl;
        if (queued == batch) {
            autoFlushDropped += flusher.flush(autoFlushWaitMillis);
        }
        int i = queued;
        int name = (int) names + i * SockAddr.SIZE;
        int nameBytes = SockAddr.encode(c, name, to, socket.family);
        if (nameBytes < 0) {
            return false;
        }
        if (i > 0 && gso && tags[i - 1] == tag && append(c, i - 1, name, nameBytes, data, length)) {
            queuedDatagrams++;
            return true;
        }
        int h = i * MsgHdr.SIZE;
        c.putInt(h + MsgHdr.NAMELEN, nameBytes);
        c.putLong(h + MsgHdr.CONTROLLEN, 0);
        c.putLong((int) iovs + i * MsgHdr.IOVEC + 8, length);
        slots[i].put(0, data, data.position(), length);
        nameLength[i] = nameBytes;
        bytes[i] = length;
        count[i] = 1;
        segment[i] = length;
        tags[i] = tag;
        queued = i + 1;
        queuedDatagrams++;
        return true;
    }

    /** The owner's flush (under its lock), for the flush {@link #queue} does when the slots are full. */
    @FunctionalInterface
    public interface Flusher {
        int flush(int waitMillis);
    }

    /** GSO: adds the datagram to message {@code m} if it goes where m goes and m's segments stay equal. */
    private boolean append(ByteBuffer c, int m, int name, int nameBytes, ByteBuffer data, int length) {
        int size = segment[m];
        int total = bytes[m];
        if (length > size || length == 0 || size > gsoLimit || total != size * count[m]
                || count[m] >= DatagramEndpoint.MAX_SEGMENTS || total + length > DatagramEndpoint.MAX_DATAGRAM
                || nameBytes != nameLength[m]) {
            return false;
        }
        int other = (int) names + m * SockAddr.SIZE;
        for (int k = 0; k < nameBytes; k += 4) {
            if (c.getInt(name + k) != c.getInt(other + k)) {
                return false;
            }
        }
        slots[m].put(total, data, data.position(), length);
        bytes[m] = total + length;
        if (count[m]++ == 1) {
            int cm = (int) cmsgs + m * MsgHdr.CMSG;
            c.putShort(cm + MsgHdr.CMSG_DATA, (short) size);
            c.putLong(m * MsgHdr.SIZE + MsgHdr.CONTROLLEN, MsgHdr.CMSG_SPACE_U16);
        }
        c.putLong((int) iovs + m * MsgHdr.IOVEC + 8, total + length);
        return true;
    }

    /**
     * Sends every queued message; when the send buffer is full waits up to {@code waitMillis} in all for room, then
     * drops the rest. Returns how many datagrams were dropped. The caller holds the owner's send lock.
     */
    public int flush(int waitMillis) {
        long deadline = waitMillis > 0 ? System.nanoTime() + waitMillis * 1_000_000L : 0;
        int messages = queued;
        queued = 0;
        queuedDatagrams = 0;
        int dropped = 0;
        int at = 0;
        while (at < messages) {
            if (socket.closed()) {
                return dropped + refuse(at, messages);
            }
            int sent = Sys.sendmmsg(socket.fd, headerAt[at], messages - at, Sys.MSG_DONTWAIT);
            if (sent > 0) {
                Arrays.fill(tags, at, at + sent, null); // sent: the slots keep no reference past the flush
                at += sent;
                continue;
            }
            int e = Native.getLastError();
            if (e == Sys.EINTR) {
                continue;
            }
            if (e == Sys.EAGAIN) {
                long left = deadline - System.nanoTime();
                if (deadline != 0 && left > 0 && awaitWritable((int) Math.max(1, left / 1_000_000L))) {
                    continue;
                }
                return dropped + refuse(at, messages);
            }
            if (e == Sys.EBADF) {
                return dropped + refuse(at, messages); // closed meanwhile
            }
            if (count[at] > 1) {
                dropped += sendSegments(at, e);
            } else {
                dropped += refuse(at, at + 1); // this one cannot go (e.g. no route to its destination): skip it
            }
            tags[at] = null;
            at++;
        }
        return dropped;
    }

    /** Waits until the send buffer has room (poll POLLOUT), at most {@code millis}; false on timeout. */
    private boolean awaitWritable(int millis) {
        int p = (int) pollFd;
        ctl.putInt(p, socket.fd);
        ctl.putShort(p + 4, Sys.POLLOUT);
        ctl.putShort(p + 6, (short) 0);
        return Sys.poll(pollPointer, 1, millis) > 0;
    }

    /** Drops messages {@code from} to {@code to} (exclusive), reports them by tag; returns their datagrams. */
    private int refuse(int from, int to) {
        int n = 0;
        for (int m = from; m < to; m++) {
            n += count[m];
            Object tag = tags[m];
            tags[m] = null; // the slot keeps no reference past its flush
            refusals.refused(tag, count[m], bytes[m]);
        }
        return n;
    }

    /** An offloaded message the kernel refused: its datagrams one by one. Returns how many of them failed. */
    private int sendSegments(int m, int errno) {
        gsoFallbacks++;
        if (errno == Sys.EIO) {
            gso = false; // the route's device cannot take it (no checksum offload): never again on this socket
        } else {
            // EINVAL: typically a segment larger than the path MTU, which only IP fragmentation can carry
            gsoLimit = Math.min(gsoLimit, segment[m] - 1);
        }
        long name = memory.base + names + (long) m * SockAddr.SIZE;
        long data = memory.dataBase + (long) m * MsgHdr.SLOT;
        int failed = 0;
        for (int off = 0; off < bytes[m]; off += segment[m]) {
            int length = Math.min(segment[m], bytes[m] - off);
            if (Sys.sendto(socket.fd, new Pointer(data + off), length, Sys.MSG_DONTWAIT, new Pointer(name),
                    nameLength[m]) < 0) {
                failed++;
                refusals.refused(tags[m], 1, length);
            }
        }
        return failed;
    }
}
