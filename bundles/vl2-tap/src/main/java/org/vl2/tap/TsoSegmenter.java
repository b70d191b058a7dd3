package org.vl2.tap;

import java.nio.ByteBuffer;

/**
 * Turns what an offload TAP device hands out ({@code [virtio_net_hdr][Ethernet frame]}, the frame up to 64 KiB)
 * into wire frames of at most the MTU, the way the kernel's software GSO ({@code tcp_gso_segment}) would have:
 * the sending side of TAP offload. One instance per thread; nothing allocates per call.
 *
 * <h2>What {@link #segment segment} does</h2>
 * <ul>
 * <li><b>A plain frame</b> ({@code gso_type} NONE, flags 0 or {@code DATA_VALID}): passed to the sink once,
 * <em>in place</em> in the input buffer at {@code offset + 10}: no copy. Result {@link Result#PASSED}.</li>
 * <li><b>A frame with a partial checksum</b> (NONE + {@code NEEDS_CSUM}, e.g. any TCP or UDP packet the local
 * stack sent, because the device offers TUN_F_CSUM): the one's-complement sum from {@code csum_start} to the
 * end of the frame (the checksum field already holds the pseudo-header sum) is completed and stored at
 * {@code csum_start + csum_offset}, a result of 0 stored as 0xFFFF as the kernel does ({@code CSUM_MANGLED_0},
 * which matters for UDP, where 0 means "no checksum"). Then passed in place like a plain frame:
 * {@link Result#PASSED}.</li>
 * <li><b>A TCP superframe</b> ({@code GSO_TCPV4}/{@code GSO_TCPV6}, with or without {@code GSO_ECN}): the TCP
 * payload is cut into {@code gso_size} pieces; each becomes a frame in the output buffer at {@code outOffset}
 * with a copy of the Ethernet header (with up to two VLAN tags), the IP header (IPv4 options and IPv6
 * hop-by-hop/destination-options headers copied as they are) and the TCP header (options copied); IPv4: total
 * length, ID + i and the header checksum; IPv6: payload length; TCP: sequence number + i * gso_size, FIN and
 * PSH only on the last segment, CWR only on the first, and the full checksum with the pseudo header. Each
 * segment goes to the sink before the next one is written over it. Result {@link Result#SEGMENTED}.</li>
 * </ul>
 * The header lengths are computed from the headers themselves: the kernel's {@code hdr_len} is ignored (the tun
 * driver reports the length of the skb's linear part there, often more than the headers), and
 * {@code csum_start}/{@code csum_offset}, when given with a GSO frame, must agree with the parsed TCP header.
 *
 * <h2>Malformed input</h2>
 * Anything this class cannot cut correctly (truncated headers, lengths that disagree, an unknown
 * {@code gso_type}, a segment longer than the maximum) gives a {@link Result} naming the reason, the sink is
 * not called, and nothing outside {@code [offset, offset + length)} of the input is read; no exception is
 * thrown for any input bytes. Count the reasons and drop the frame.
 *
 * <h2>Buffers</h2>
 * A segment reaches the sink either in the <em>input</em> buffer (PASSED) or in the <em>output</em> buffer
 * (SEGMENTED), as a view of that buffer ({@link SegmentSink#segment}): give both the same headroom in front
 * (e.g. 16 bytes for a protocol header: read at an offset of at least 16 - 10 = 6 so that the frame at
 * {@code offset + 10} has 16 bytes before it, and segment to {@code outOffset >= 16}) and the same room behind
 * (e.g. a 16-byte AEAD tag). The sink may change the bytes of the segment and around it (encrypt in place,
 * write a header in front): every segment's headers are copied afresh from the input. The output buffer needs
 * room for {@link #maxSegmentLength()} bytes from {@code outOffset} below its limit, else {@link #segment}
 * throws {@link IllegalArgumentException} (a caller bug, whatever the frame); the input range must lie below
 * the input's limit (after {@link TapDevice#read} the limit is the end of the read: fine). Positions and limits
 * of both buffers are never changed; their byte order does not matter. The views are made once per distinct
 * buffer: pass the same two buffers every time and nothing is allocated.
 */
public final class TsoSegmenter {

    /** What {@link #segment} did with one buffer read from the TAP device. */
    public enum Result {
        /** No segmentation needed: the frame went to the sink in place (its partial checksum completed). */
        PASSED,
        /** A TCP superframe went to the sink as {@link #lastSegmentCount()} frames, one at a time. */
        SEGMENTED,
        /** Shorter than the virtio header, an Ethernet header, or the headers the frame claims to have. */
        TRUNCATED,
        /** {@code NEEDS_CSUM} with csum_start/csum_offset outside the frame or not at the TCP checksum. */
        BAD_CHECKSUM_OFFSETS,
        /** A {@code gso_type} other than TCPV4/TCPV6 (UDP offloads are never offered by vl2), or gso_size 0. */
        UNSUPPORTED_GSO,
        /** A TCP GSO type, but the frame is not TCP over that IP version (or an IPv4 fragment). */
        NOT_TCP,
        /** More than two VLAN tags, or an IPv6 extension header other than hop-by-hop/destination options. */
        UNSUPPORTED_HEADERS,
        /** A segment would be an IP datagram longer than the maximum given to the constructor. */
        TOO_LONG;

        /** True for the results where the sink got the frame. */
        public boolean delivered() {
            return this == PASSED || this == SEGMENTED;
        }
    }

    /**
     * Receives each wire frame. Keep one sink per thread in a field (a lambda created per call would allocate).
     *
     * @param <X> what the sink may throw (e.g. the transport's exception); it ends the segmentation
     */
    @FunctionalInterface
    public interface SegmentSink<X extends Exception> {
        /**
         * One wire frame: {@code length} bytes at {@code offset} of {@code frame}, which is a view (a duplicate)
         * of the input buffer for a frame passed in place, else of the output buffer, with <b>position
         * {@code offset} and limit {@code offset + length}</b>, ready for a transport's send. Its content is the
         * buffer's, so the headroom in front of {@code offset} and the room behind are reachable; its byte order
         * is big-endian. The sink may move position and limit and change any bytes (the segmenter writes through
         * the original buffer and recopies each segment's headers). Valid only until the call returns.
         */
        void segment(ByteBuffer frame, int offset, int length) throws X;
    }

    private static final int ETH_HLEN = 14;
    private static final int ETH_P_IPV4 = 0x0800;
    private static final int ETH_P_IPV6 = 0x86DD;
    private static final int ETH_P_8021Q = 0x8100;
    private static final int ETH_P_8021AD = 0x88A8;
    private static final int MAX_VLAN_TAGS = 2;
    private static final int IPV6_HLEN = 40;
    private static final int TCP_CSUM_OFFSET = 16;
    private static final int TCP_FIN = 0x01;
    private static final int TCP_PSH = 0x08;
    private static final int TCP_CWR = 0x80;
    private static final int NH_HOP_BY_HOP = 0;
    private static final int NH_DEST_OPTS = 60;
    private static final int MAX_EXTENSION_HEADERS = 4;

    private final int maxIpLength;
    private int lastSegmentCount;
    // Views handed to the sink, made once per distinct buffer (an agent's thread always passes the same two).
    private ByteBuffer inSource;
    private ByteBuffer inView;
    private ByteBuffer outSource;
    private ByteBuffer outView;

    /**
     * @param maxIpLength the longest IP datagram a segment may be: the MTU of the path the segments take
     *                    (normally the TAP device's {@link TapDevice#mtu()}; the kernel sizes gso_size for it)
     * @throws IllegalArgumentException if it is outside 68..65535
     */
    public TsoSegmenter(int maxIpLength) {
        if (maxIpLength < TapSettings.MIN_MTU || maxIpLength > 65_535) {
            throw new IllegalArgumentException("maxIpLength: " + maxIpLength + " is out of range (allowed: "
                    + TapSettings.MIN_MTU + "..65535, an MTU)");
        }
        this.maxIpLength = maxIpLength;
    }

    /** The longest IP datagram a segment may be. */
    public int maxIpLength() {
        return maxIpLength;
    }

    /**
     * The longest wire frame {@link #segment} can pass to the sink from the output buffer: an Ethernet header
     * with two VLAN tags ({@value TapDevice#FRAME_OVERHEAD} bytes) plus {@link #maxIpLength()}.
     */
    public int maxSegmentLength() {
        return TapDevice.FRAME_OVERHEAD + maxIpLength;
    }

    /** How many frames the last call passed to the sink (0 if it failed, 1 for PASSED). */
    public int lastSegmentCount() {
        return lastSegmentCount;
    }

    /**
     * Cuts one buffer read from an offload TAP device into wire frames and passes each to {@code sink}.
     *
     * @param in        holds {@code [virtio_net_hdr][frame]} at {@code [offset, offset + length)}; a frame passed
     *                  in place (and its checksum completed) stays in it
     * @param offset    where the virtio header starts
     * @param length    the read's length (header + frame)
     * @param out       where segments are built, at {@code outOffset}; needs {@link #maxSegmentLength()} bytes
     *                  from there; may be {@code in} if the areas do not overlap
     * @param outOffset where each segment starts in {@code out}
     * @param sink      receives each frame
     * @return what happened; the sink was called only for PASSED and SEGMENTED
     * @throws IllegalArgumentException if {@code [offset, offset + length)} is not below {@code in}'s limit,
     *                                  or {@code out} has less than {@link #maxSegmentLength()} bytes from
     *                                  {@code outOffset} to its limit, or is read-only
     * @throws X                        whatever the sink throws (segments after it are not produced)
     */
    public <X extends Exception> Result segment(ByteBuffer in, int offset, int length, ByteBuffer out, int outOffset,
            SegmentSink<X> sink) throws X {
        if (offset < 0 || length < 0 || offset > in.limit() - length) {
            throw new IllegalArgumentException("[" + offset + ", " + offset + " + " + length + ") is not inside the"
                    + " input buffer (limit " + in.limit() + ")");
        }
        if (outOffset < 0 || outOffset > out.limit() - maxSegmentLength() || out.isReadOnly()) {
            throw new IllegalArgumentException("the output buffer needs " + maxSegmentLength() + " writable bytes"
                    + " from offset " + outOffset + " below its limit (limit " + out.limit() + ", read-only "
                    + out.isReadOnly() + ")");
        }
        lastSegmentCount = 0;
        if (length < VirtioNetHeader.LENGTH + ETH_HLEN) {
            return Result.TRUNCATED;
        }
        int flags = VirtioNetHeader.flags(in, offset);
        int gsoType = VirtioNetHeader.gsoType(in, offset);
        int csumStart = VirtioNetHeader.csumStart(in, offset);
        int csumOffset = VirtioNetHeader.csumOffset(in, offset);
        int frame = offset + VirtioNetHeader.LENGTH;
        int frameLength = length - VirtioNetHeader.LENGTH;
        boolean needsCsum = (flags & VirtioNetHeader.F_NEEDS_CSUM) != 0;

        if (gsoType == VirtioNetHeader.GSO_NONE) {
            if (needsCsum) {
                if (csumStart + csumOffset + 2 > frameLength) {
                    return Result.BAD_CHECKSUM_OFFSETS;
                }
                int at = frame + csumStart + csumOffset;
                int csum = ~Checksum.sum(in, frame + csumStart, frame + frameLength) & 0xFFFF;
                Checksum.putU16(in, at, csum == 0 ? 0xFFFF : csum);
            }
            lastSegmentCount = 1;
            sink.segment(inView(in, frame, frameLength), frame, frameLength);
            return Result.PASSED;
        }

        int base = gsoType & ~VirtioNetHeader.GSO_ECN;
        boolean v6 = base == VirtioNetHeader.GSO_TCPV6;
        if (base != VirtioNetHeader.GSO_TCPV4 && !v6) {
            return Result.UNSUPPORTED_GSO;
        }
        int gsoSize = VirtioNetHeader.gsoSize(in, offset);
        if (gsoSize == 0) {
            return Result.UNSUPPORTED_GSO;
        }
        int end = frame + frameLength;

        // Ethernet, up to two VLAN tags
        int l3 = frame + ETH_HLEN;
        int etherType = Checksum.u16(in, l3 - 2);
        for (int tags = 0; etherType == ETH_P_8021Q || etherType == ETH_P_8021AD; tags++) {
            if (tags == MAX_VLAN_TAGS) {
                return Result.UNSUPPORTED_HEADERS;
            }
            if (l3 + 4 > end) {
                return Result.TRUNCATED;
            }
            etherType = Checksum.u16(in, l3 + 2);
            l3 += 4;
        }

        // IP: l4 = TCP header, ipEnd = end of the datagram (trailing bytes after it are not copied)
        int l4;
        int ipEnd;
        int addressAt;
        int addressLength;
        if (!v6) {
            if (etherType != ETH_P_IPV4) {
                return Result.NOT_TCP;
            }
            if (l3 + 20 > end) {
                return Result.TRUNCATED;
            }
            int vihl = in.get(l3) & 0xFF;
            if (vihl >>> 4 != 4 || (in.get(l3 + 9) & 0xFF) != Checksum.PROTO_TCP
                    || (Checksum.u16(in, l3 + 6) & 0x3FFF) != 0) {
                return Result.NOT_TCP;
            }
            int ihl = (vihl & 0x0F) * 4;
            int totalLength = Checksum.u16(in, l3 + 2);
            if (ihl < 20 || totalLength < ihl || l3 + totalLength > end) {
                return Result.TRUNCATED;
            }
            l4 = l3 + ihl;
            ipEnd = l3 + totalLength;
            addressAt = l3 + 12;
            addressLength = 4;
        } else {
            if (etherType != ETH_P_IPV6) {
                return Result.NOT_TCP;
            }
            if (l3 + IPV6_HLEN > end) {
                return Result.TRUNCATED;
            }
            if ((in.get(l3) & 0xF0) != 0x60) {
                return Result.NOT_TCP;
            }
            int payloadLength = Checksum.u16(in, l3 + 4);
            ipEnd = l3 + IPV6_HLEN + payloadLength;
            if (ipEnd > end) {
                return Result.TRUNCATED;
            }
            int next = in.get(l3 + 6) & 0xFF;
            l4 = l3 + IPV6_HLEN;
            for (int n = 0; next != Checksum.PROTO_TCP; n++) {
                if (n == MAX_EXTENSION_HEADERS || (next != NH_HOP_BY_HOP && next != NH_DEST_OPTS)) {
                    // routing headers would change the pseudo header's destination; fragments, AH, ESP: not TSO
                    return Result.UNSUPPORTED_HEADERS;
                }
                if (l4 + 8 > ipEnd) {
                    return Result.TRUNCATED;
                }
                next = in.get(l4) & 0xFF;
                l4 += ((in.get(l4 + 1) & 0xFF) + 1) * 8;
            }
            addressAt = l3 + 8;
            addressLength = 16;
        }

        // TCP
        if (l4 + 20 > ipEnd) {
            return Result.TRUNCATED;
        }
        int tcpHeaderLength = ((in.get(l4 + 12) & 0xFF) >>> 4) * 4;
        if (tcpHeaderLength < 20 || l4 + tcpHeaderLength > ipEnd) {
            return Result.TRUNCATED;
        }
        if (needsCsum && (csumStart != l4 - frame || csumOffset != TCP_CSUM_OFFSET)) {
            return Result.BAD_CHECKSUM_OFFSETS;
        }
        int headers = l4 + tcpHeaderLength - frame; // Ethernet + IP + TCP, what each segment repeats
        int ipHeaders = l4 - l3;
        int payload = ipEnd - (frame + headers);
        if (ipHeaders + tcpHeaderLength + Math.min(gsoSize, payload) > maxIpLength) {
            return Result.TOO_LONG;
        }

        int seq = Checksum.u32(in, l4 + 4);
        int ipId = v6 ? 0 : Checksum.u16(in, l3 + 4);
        int tcpFlags = in.get(l4 + 13) & 0xFF;
        int outL3 = outOffset + (l3 - frame);
        int outL4 = outOffset + (l4 - frame);
        int outPayload = outOffset + headers;
        int addressSum = Checksum.sum(in, addressAt, addressAt + 2 * addressLength);
        int count = payload == 0 ? 1 : (payload + gsoSize - 1) / gsoSize;
        int done = 0;
        for (int i = 0; i < count; i++) {
            int chunk = Math.min(gsoSize, payload - done);
            out.put(outOffset, in, frame, headers);
            out.put(outPayload, in, frame + headers + done, chunk);
            int ipLength = ipHeaders + tcpHeaderLength + chunk;
            if (!v6) {
                Checksum.putU16(out, outL3 + 2, ipLength);
                Checksum.putU16(out, outL3 + 4, ipId + i);
                Checksum.putU16(out, outL3 + 10, 0);
                Checksum.putU16(out, outL3 + 10, ~Checksum.sum(out, outL3, outL4) & 0xFFFF);
            } else {
                Checksum.putU16(out, outL3 + 4, ipLength - IPV6_HLEN);
            }
            Checksum.putU32(out, outL4 + 4, seq + done);
            int f = tcpFlags;
            if (i < count - 1) {
                f &= ~(TCP_FIN | TCP_PSH);
            }
            if (i > 0) {
                f &= ~TCP_CWR;
            }
            out.put(outL4 + 13, (byte) f);
            Checksum.putU16(out, outL4 + TCP_CSUM_OFFSET, 0);
            int tcpLength = tcpHeaderLength + chunk;
            int sum = Checksum.fold((long) addressSum + Checksum.PROTO_TCP + tcpLength
                    + Checksum.sum(out, outL4, outL4 + tcpLength));
            Checksum.putU16(out, outL4 + TCP_CSUM_OFFSET, ~sum & 0xFFFF);
            done += chunk;
            lastSegmentCount = i + 1;
            sink.segment(outView(out, outOffset, headers + chunk), outOffset, headers + chunk);
        }
        return Result.SEGMENTED;
    }

    private ByteBuffer inView(ByteBuffer in, int offset, int length) {
        if (in != inSource) {
            inSource = in;
            inView = in.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
        }
        return frame(inView, offset, length);
    }

    private ByteBuffer outView(ByteBuffer out, int offset, int length) {
        if (out != outSource) {
            outSource = out;
            outView = out.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
        }
        return frame(outView, offset, length);
    }

    private static ByteBuffer frame(ByteBuffer view, int offset, int length) {
        view.clear();
        view.position(offset).limit(offset + length);
        return view;
    }
}
