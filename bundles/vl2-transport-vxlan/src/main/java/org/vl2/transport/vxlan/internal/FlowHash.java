package org.vl2.transport.vxlan.internal;

import java.nio.ByteBuffer;

import org.vl2.api.EthernetFrame;

/**
 * A hash of an inner frame's flow, to choose the outer UDP source port (RFC 7348 section 5: "a hash of fields from
 * the inner packet"), so that underlay ECMP and the receiver's RSS spread different flows while the packets of one
 * flow stay in order on one path.
 *
 * <p>Fields: destination and source MAC, the 802.1Q/802.1ad tag if there is one (one tag is skipped), the
 * EtherType; for IPv4 and IPv6 the addresses and the protocol, plus the TCP/UDP ports when present. Ports are left
 * out of IPv4 fragments (later fragments have none), so every fragment of a packet hashes alike. Absolute reads
 * only, no allocation.
 */
final class FlowHash {

    private static final int ETH_IPV4 = 0x0800;
    private static final int ETH_IPV6 = 0x86DD;
    private static final int PROTO_TCP = 6;
    private static final int PROTO_UDP = 17;
    private static final long SEED = 0x5F1E_0B37_C2D4_91A6L;

    private FlowHash() {
    }

    /** The flow hash of the frame of {@code length} bytes at {@code offset}. */
    static int of(ByteBuffer b, int offset, int length) {
        final int end = offset + length;
        if (length < EthernetFrame.HEADER_LENGTH) {
            return (int) finish(mix(SEED, length));
        }
        long h = SEED;
        h = mix(h, ((b.getInt(offset) & 0xFFFF_FFFFL) << 16) | (b.getShort(offset + 4) & 0xFFFF)); // destination MAC
        h = mix(h, ((b.getInt(offset + 6) & 0xFFFF_FFFFL) << 16) | (b.getShort(offset + 10) & 0xFFFF)); // source MAC
        int p = offset + 12;
        int type = b.getShort(p) & 0xFFFF;
        if ((type == EthernetFrame.TPID_8021Q || type == EthernetFrame.TPID_8021AD) && p + 6 <= end) {
            h = mix(h, b.getShort(p + 2) & 0x0FFF); // VLAN id: flows of different VLANs are different flows
            p += 4;
            type = b.getShort(p) & 0xFFFF;
        }
        h = mix(h, type);
        final int l3 = p + 2;
        if (type == ETH_IPV4 && l3 + 20 <= end && (b.get(l3) & 0xF0) == 0x40) {
            int headerLength = (b.get(l3) & 0x0F) * 4;
            int protocol = b.get(l3 + 9) & 0xFF;
            h = mix(h, b.getLong(l3 + 12)); // source and destination address
            h = mix(h, protocol);
            boolean fragment = (b.getShort(l3 + 6) & 0x3FFF) != 0; // MF flag or a fragment offset
            if (!fragment && (protocol == PROTO_TCP || protocol == PROTO_UDP) && headerLength >= 20
                    && l3 + headerLength + 4 <= end) {
                h = mix(h, b.getInt(l3 + headerLength) & 0xFFFF_FFFFL); // source and destination port
            }
        } else if (type == ETH_IPV6 && l3 + 40 <= end && (b.get(l3) & 0xF0) == 0x60) {
            int next = b.get(l3 + 6) & 0xFF;
            h = mix(h, b.getLong(l3 + 8));
            h = mix(h, b.getLong(l3 + 16));
            h = mix(h, b.getLong(l3 + 24));
            h = mix(h, b.getLong(l3 + 32));
            h = mix(h, next);
            if ((next == PROTO_TCP || next == PROTO_UDP) && l3 + 44 <= end) {
                h = mix(h, b.getInt(l3 + 40) & 0xFFFF_FFFFL);
            }
        }
        return (int) finish(h);
    }

    /** Index {@code 0..n-1} for a hash: multiply-shift, uniform for a well-mixed hash and no division. */
    static int index(int hash, int n) {
        return (int) (((hash & 0xFFFF_FFFFL) * n) >>> 32);
    }

    private static long mix(long h, long v) {
        return Long.rotateLeft(h ^ (v * 0x9E37_79B9_7F4A_7C15L), 29) * 0xBF58_476D_1CE4_E5B9L;
    }

    /** MurmurHash3's 64-bit finaliser: every input bit affects the low 32 bits. */
    private static long finish(long h) {
        h ^= h >>> 33;
        h *= 0xFF51_AFD7_ED55_8CCDL;
        h ^= h >>> 33;
        h *= 0xC4CE_B9FE_1A85_EC53L;
        h ^= h >>> 33;
        return h;
    }
}
