package org.vl2.tap;

import java.nio.ByteBuffer;

/**
 * Merges consecutive in-order TCP segments of one flow, as they arrive one wire frame at a time, into one GSO
 * superframe for an offload TAP device: the receiving side of TAP offload, a user-space GRO. The kernel then
 * takes in one 64 KiB packet instead of some 45 segments. One instance per receiving thread; it owns one
 * direct buffer and allocates nothing per frame.
 *
 * <h2>Use</h2>
 * <pre>{@code
 * switch (coalescer.offer(frame)) {          // frame: position..limit = one Ethernet frame
 *     case STARTED, MERGED -> { if (coalescer.isComplete()) flush(); }
 *     case FLUSH_FIRST -> {
 *         flush();
 *         if (coalescer.offer(frame) == NOT_ELIGIBLE) writePlain(frame); else if (coalescer.isComplete()) flush();
 *     }
 *     case NOT_ELIGIBLE -> { flush(); writePlain(frame); }  // frame on its own, behind an all-zero virtio header
 * }
 * // and before waiting for the next frame (nothing more queued): flush()
 * void flush() { if (coalescer.hasPending()) { tap.write(coalescer.pending()); coalescer.reset(); } }
 * }</pre>
 * The re-offer after FLUSH_FIRST always returns STARTED or NOT_ELIGIBLE. Never hold a pending superframe while
 * waiting for traffic: flush whenever the receive queue is empty, else a segment waits for the next one.
 * {@code offer} copies what it takes, so the caller's frame buffer is free again when it returns.
 *
 * <h2>Rules (those of the kernel's TCP GRO and of wireguard-go's tcpGRO)</h2>
 * A frame can be coalesced only if it is untagged Ethernet carrying IPv4 without options and not a fragment,
 * or IPv6 without extension headers, with TCP, at least one byte of payload, flags exactly ACK or ACK+PSH,
 * a valid IPv4 header checksum and a valid TCP checksum; anything else is NOT_ELIGIBLE (and so is written
 * unchanged, for the kernel to judge, drop and count as usual). It joins the pending superframe if it has the
 * same Ethernet header, addresses, ports, TOS/traffic class and flow label, TTL/hop limit, IPv4 flags (DF),
 * acknowledgment number, window, urgent pointer and TCP options byte for byte (so equal timestamps), its
 * sequence number is the next expected one, its payload is not longer than the first segment's (the
 * {@code gso_size}), and the IP datagram stays within 65535 bytes. A PSH segment or one shorter than
 * {@code gso_size} ends the superframe ({@link #isComplete()}). IPv4 IDs: without DF they must count up by one
 * per segment (so that a kernel resegmenting the superframe recreates the same IDs); with DF the ID carries no
 * meaning (RFC 6864) and is not compared. The superframe keeps the first segment's ID.
 *
 * <h2>What {@link #pending()} holds</h2>
 * <ul>
 * <li>One segment: the frame as it arrived (without Ethernet padding) behind a virtio header with
 * {@code F_DATA_VALID} and {@code GSO_NONE}: this class verified its TCP checksum, so the kernel need not
 * verify it again (it still checks the IPv4 header checksum, which is the original).</li>
 * <li>Two or more: the first segment's headers followed by all payloads; IPv4 total length and header checksum
 * or IPv6 payload length recomputed; PSH if the last segment had it; the TCP checksum field holding the
 * pseudo-header sum for the new length (not complemented), as for a CHECKSUM_PARTIAL packet; virtio header
 * {@code F_NEEDS_CSUM}, {@code GSO_TCPV4}/{@code GSO_TCPV6}, {@code gso_size} = the first segment's payload,
 * {@code hdr_len} = Ethernet + IP + TCP header length, {@code csum_start} = the TCP header's offset (34 or 54),
 * {@code csum_offset} = 16. The receiving kernel treats it like a packet its own GRO merged.</li>
 * </ul>
 */
public final class TcpCoalescer {

    /** What {@link #offer} did with a frame. */
    public enum Result {
        /** The frame became the first segment of a new pending superframe (there was none). */
        STARTED,
        /** The frame was appended to the pending superframe. */
        MERGED,
        /** The frame could be coalesced, but not with the pending superframe: write and reset that first, then
         * offer the frame again. */
        FLUSH_FIRST,
        /** The frame cannot be coalesced: write the pending superframe (if any) first, then this frame alone. */
        NOT_ELIGIBLE
    }

    /** The largest IP datagram a superframe may become (the IPv4 total length field; kept for IPv6 too). */
    public static final int MAX_IP_LENGTH = 65_535;

    private static final int ETH_HLEN = 14;
    private static final int ETH_P_IPV4 = 0x0800;
    private static final int ETH_P_IPV6 = 0x86DD;
    private static final int IPV4_HLEN = 20;
    private static final int IPV6_HLEN = 40;
    private static final int TCP_HLEN = 20;
    private static final int TCP_ACK = 0x10;
    private static final int TCP_PSH = 0x08;
    private static final int TCP_CSUM_OFFSET = 16;
    private static final int IPV4_DF = 0x4000;

    private final int headroom;
    private final ByteBuffer buf;
    /** A second view of {@link #buf}, handed out by {@link #pending()} (so its position and limit are the caller's). */
    private final ByteBuffer view;

    // The pending superframe; the Ethernet frame starts at headroom. segments == 0: none.
    private int segments;
    private boolean v6;
    private int l4;        // absolute index of the TCP header in buf
    private int headerEnd; // absolute index of the first payload byte
    private int end;       // absolute index after the last payload byte
    private int gsoSize;
    private int nextSeq;
    private int firstId;
    private boolean complete;

    /** A coalescer whose {@link #pending()} buffer starts with the virtio header (headroom 10). */
    public TcpCoalescer() {
        this(VirtioNetHeader.LENGTH);
    }

    /**
     * @param headroom bytes in front of the Ethernet frame in the internal buffer, at least
     *                 {@value VirtioNetHeader#LENGTH}: the virtio header takes the last 10 of them, the rest is
     *                 free for the caller (reachable through {@link #buffer()})
     * @throws IllegalArgumentException if {@code headroom} is below 10 or above 4096
     */
    public TcpCoalescer(int headroom) {
        if (headroom < VirtioNetHeader.LENGTH || headroom > 4096) {
            throw new IllegalArgumentException("headroom: " + headroom + " is out of range (allowed: "
                    + VirtioNetHeader.LENGTH + "..4096; the virtio header needs " + VirtioNetHeader.LENGTH + ")");
        }
        this.headroom = headroom;
        this.buf = ByteBuffer.allocateDirect(headroom + ETH_HLEN + MAX_IP_LENGTH);
        this.view = buf.duplicate();
    }

    /** The headroom given to the constructor: the Ethernet frame starts at this index of {@link #buffer()}. */
    public int headroom() {
        return headroom;
    }

    /** The whole internal buffer (capacity {@code headroom + 14 + 65535}); {@link #pending()} is a part of it. */
    public ByteBuffer buffer() {
        return view;
    }

    /** Whether a superframe (of one or more segments) waits to be written. */
    public boolean hasPending() {
        return segments > 0;
    }

    /** How many segments the pending superframe holds (0: none). */
    public int pendingSegments() {
        return segments;
    }

    /**
     * Whether the pending superframe cannot grow any more (its last segment had PSH or was short, or it has
     * reached 65535 bytes): write it now rather than wait for the next frame. (When only a full segment no
     * longer fits, the next frame's FLUSH_FIRST says so: a short last segment may still join.)
     */
    public boolean isComplete() {
        return segments > 0 && complete;
    }

    /** Forgets the pending superframe (after writing it, or to drop it). */
    public void reset() {
        segments = 0;
        complete = false;
    }

    /**
     * The pending superframe ready for {@link TapDevice#write}: position at the virtio header
     * ({@code headroom - 10}), limit after the frame; see the class comment for what it holds. The returned
     * buffer is the same object every time; its content is valid until the next {@link #offer} or
     * {@link #reset()}. Calling it twice gives the same bytes.
     *
     * @throws IllegalStateException if nothing is pending
     */
    public ByteBuffer pending() {
        if (segments == 0) {
            throw new IllegalStateException("no pending superframe (check hasPending())");
        }
        int frame = headroom;
        int h = headroom - VirtioNetHeader.LENGTH;
        if (segments == 1) {
            VirtioNetHeader.put(buf, h, VirtioNetHeader.F_DATA_VALID, VirtioNetHeader.GSO_NONE, 0, 0, 0, 0);
        } else {
            int l3 = frame + ETH_HLEN;
            int ipLength = end - l3;
            int tcpLength = end - l4;
            if (v6) {
                Checksum.putU16(buf, l3 + 4, ipLength - IPV6_HLEN);
            } else {
                Checksum.putU16(buf, l3 + 2, ipLength);
                Checksum.putU16(buf, l3 + 10, 0);
                Checksum.putU16(buf, l3 + 10, ~Checksum.sum(buf, l3, l3 + IPV4_HLEN) & 0xFFFF);
            }
            int addressAt = v6 ? l3 + 8 : l3 + 12;
            int pseudo = Checksum.pseudoHeader(buf, addressAt, v6 ? 16 : 4, Checksum.PROTO_TCP, tcpLength);
            Checksum.putU16(buf, l4 + TCP_CSUM_OFFSET, pseudo);
            VirtioNetHeader.put(buf, h, VirtioNetHeader.F_NEEDS_CSUM,
                    v6 ? VirtioNetHeader.GSO_TCPV6 : VirtioNetHeader.GSO_TCPV4, headerEnd - frame, gsoSize,
                    l4 - frame, TCP_CSUM_OFFSET);
        }
        view.limit(end).position(h);
        return view;
    }

    /**
     * Offers one frame, the bytes between {@code frame}'s position and limit (a whole Ethernet frame, trailing
     * padding allowed). Reads only that range and changes neither position, limit nor content; copies what it
     * takes. Never throws for any frame content.
     */
    public Result offer(ByteBuffer frame) {
        int p = frame.position();
        int n = frame.remaining();
        if (buf.order() != frame.order()) {
            buf.order(frame.order()); // the word-wise comparisons below need both in the same order
        }

        // --- is this frame a candidate at all? ---
        if (n < ETH_HLEN + IPV4_HLEN + TCP_HLEN) {
            return Result.NOT_ELIGIBLE;
        }
        int etherType = Checksum.u16(frame, p + 12);
        int l3 = p + ETH_HLEN;
        boolean isV6;
        int ipLength;
        int ipHeaderLength;
        if (etherType == ETH_P_IPV4) {
            if ((frame.get(l3) & 0xFF) != 0x45 || (frame.get(l3 + 9) & 0xFF) != Checksum.PROTO_TCP
                    || (Checksum.u16(frame, l3 + 6) & 0x3FFF) != 0) {
                return Result.NOT_ELIGIBLE; // options, not TCP, or a fragment
            }
            ipLength = Checksum.u16(frame, l3 + 2);
            if (ipLength < IPV4_HLEN + TCP_HLEN || ipLength > n - ETH_HLEN
                    || Checksum.sum(frame, l3, l3 + IPV4_HLEN) != 0xFFFF) {
                return Result.NOT_ELIGIBLE;
            }
            isV6 = false;
            ipHeaderLength = IPV4_HLEN;
        } else if (etherType == ETH_P_IPV6) {
            if (n < ETH_HLEN + IPV6_HLEN + TCP_HLEN || (frame.get(l3) & 0xF0) != 0x60
                    || (frame.get(l3 + 6) & 0xFF) != Checksum.PROTO_TCP) {
                return Result.NOT_ELIGIBLE; // not TCP directly behind the IPv6 header
            }
            ipLength = IPV6_HLEN + Checksum.u16(frame, l3 + 4);
            if (ipLength < IPV6_HLEN + TCP_HLEN || ipLength > n - ETH_HLEN) {
                return Result.NOT_ELIGIBLE;
            }
            isV6 = true;
            ipHeaderLength = IPV6_HLEN;
        } else {
            return Result.NOT_ELIGIBLE;
        }
        int tcp = l3 + ipHeaderLength;
        int tcpHeaderLength = ((frame.get(tcp + 12) & 0xFF) >>> 4) * 4;
        int tcpLength = ipLength - ipHeaderLength;
        int payload = tcpLength - tcpHeaderLength;
        int flags = frame.get(tcp + 13) & 0xFF;
        if (tcpHeaderLength < TCP_HLEN || payload <= 0 || (flags != TCP_ACK && flags != (TCP_ACK | TCP_PSH))) {
            return Result.NOT_ELIGIBLE;
        }
        int payloadAt = tcp + tcpHeaderLength;
        int ipEnd = l3 + ipLength;
        int seq = Checksum.u32(frame, tcp + 4);
        boolean psh = flags != TCP_ACK;

        if (segments == 0) {
            return start(frame, p, isV6, tcp - p, payloadAt - p, ipEnd - p, seq, payload, psh);
        }

        // --- can it join the pending superframe? ---
        if (complete || isV6 != v6 || seq != nextSeq || payload > gsoSize
                || end - (headroom + ETH_HLEN) + payload > MAX_IP_LENGTH
                || tcp - p != l4 - headroom || payloadAt - p != headerEnd - headroom
                || !sameHeaders(frame, p, l3, tcp, tcpHeaderLength)) {
            return Result.FLUSH_FIRST;
        }
        if (!v6 && (Checksum.u16(frame, l3 + 6) & IPV4_DF) == 0
                && Checksum.u16(frame, l3 + 4) != ((firstId + segments) & 0xFFFF)) {
            return Result.FLUSH_FIRST;
        }
        // copy the payload behind the pending one, then verify the checksum on the copy (hot in the cache)
        buf.put(end, frame, payloadAt, payload);
        int pendingL3 = headroom + ETH_HLEN;
        int sum = Checksum.fold((long) Checksum.pseudoHeader(frame, v6 ? l3 + 8 : l3 + 12, v6 ? 16 : 4,
                Checksum.PROTO_TCP, tcpLength) + Checksum.sum(frame, tcp, payloadAt) + Checksum.sum(buf, end,
                end + payload));
        if (sum != 0xFFFF) {
            return Result.NOT_ELIGIBLE; // corrupt: the kernel shall see it as it is
        }
        end += payload;
        segments++;
        nextSeq = seq + payload;
        if (psh) {
            buf.put(l4 + 13, (byte) (buf.get(l4 + 13) | TCP_PSH));
        }
        complete = psh || payload < gsoSize || end - pendingL3 >= MAX_IP_LENGTH;
        return Result.MERGED;
    }

    /** Copies the frame (without padding) as the first segment, if its checksum is right. Offsets from p. */
    private Result start(ByteBuffer frame, int p, boolean isV6, int tcpOffset, int payloadOffset, int ipEndOffset,
            int seq, int payload, boolean psh) {
        buf.put(headroom, frame, p, ipEndOffset);
        int l3 = headroom + ETH_HLEN;
        int tcp = headroom + tcpOffset;
        int stop = headroom + ipEndOffset;
        int sum = Checksum.fold((long) Checksum.pseudoHeader(buf, isV6 ? l3 + 8 : l3 + 12, isV6 ? 16 : 4,
                Checksum.PROTO_TCP, stop - tcp) + Checksum.sum(buf, tcp, stop));
        if (sum != 0xFFFF) {
            return Result.NOT_ELIGIBLE;
        }
        segments = 1;
        v6 = isV6;
        l4 = tcp;
        headerEnd = headroom + payloadOffset;
        end = stop;
        gsoSize = payload;
        nextSeq = seq + payload;
        firstId = isV6 ? 0 : Checksum.u16(buf, l3 + 4);
        complete = psh || stop - l3 >= MAX_IP_LENGTH;
        return Result.STARTED;
    }

    /**
     * Ethernet header, the IP fields that must match, and the TCP header except sequence number, flags and
     * checksum, compared with the pending superframe's.
     */
    private boolean sameHeaders(ByteBuffer frame, int p, int l3, int tcp, int tcpHeaderLength) {
        int q = headroom;
        // Ethernet: destination, source, EtherType
        if (frame.getLong(p) != buf.getLong(q) || frame.getInt(p + 8) != buf.getInt(q + 8)
                || frame.getShort(p + 12) != buf.getShort(q + 12)) {
            return false;
        }
        int pl3 = q + ETH_HLEN;
        if (v6) {
            // version, traffic class, flow label; hop limit; source and destination
            if (frame.getInt(l3) != buf.getInt(pl3) || frame.get(l3 + 7) != buf.get(pl3 + 7)
                    || !equal(frame, l3 + 8, pl3 + 8, 32)) {
                return false;
            }
        } else {
            // TOS; flags (DF); TTL; source and destination
            if (frame.get(l3 + 1) != buf.get(pl3 + 1) || (frame.get(l3 + 6) & 0xE0) != (buf.get(pl3 + 6) & 0xE0)
                    || frame.get(l3 + 8) != buf.get(pl3 + 8) || frame.getLong(l3 + 12) != buf.getLong(pl3 + 12)) {
                return false;
            }
        }
        int pt = l4;
        // ports; acknowledgment number; data offset + reserved bits; window; urgent pointer; options
        return frame.getInt(tcp) == buf.getInt(pt) && frame.getInt(tcp + 8) == buf.getInt(pt + 8)
                && frame.get(tcp + 12) == buf.get(pt + 12) && frame.getShort(tcp + 14) == buf.getShort(pt + 14)
                && frame.getShort(tcp + 18) == buf.getShort(pt + 18)
                && equal(frame, tcp + TCP_HLEN, pt + TCP_HLEN, tcpHeaderLength - TCP_HLEN);
    }

    /** Whether {@code frame[a, a + length)} equals {@code buf[b, b + length)}. */
    private boolean equal(ByteBuffer frame, int a, int b, int length) {
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            if (frame.getLong(a + i) != buf.getLong(b + i)) {
                return false;
            }
        }
        for (; i < length; i++) {
            if (frame.get(a + i) != buf.get(b + i)) {
                return false;
            }
        }
        return true;
    }
}
