package org.vl2.tap;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

/**
 * Test frames built independently of the code under test: Ethernet (optionally VLAN-tagged), IPv4 (optionally
 * with options) or IPv6 (optionally with a hop-by-hop header), TCP (optionally with options), with checksums from
 * a byte-at-a-time reference implementation.
 */
final class Packets {

    static final int TCP_FIN = 0x01;
    static final int TCP_SYN = 0x02;
    static final int TCP_RST = 0x04;
    static final int TCP_PSH = 0x08;
    static final int TCP_ACK = 0x10;
    static final int TCP_URG = 0x20;
    static final int TCP_ECE = 0x40;
    static final int TCP_CWR = 0x80;

    private Packets() {
    }

    /** RFC 1071, one byte at a time: the folded one's-complement sum of 16-bit big-endian words, plus initial. */
    static int referenceSum(byte[] b, int from, int to, long initial) {
        long s = initial;
        for (int i = from; i < to; i++) {
            int v = b[i] & 0xFF;
            s += ((i - from) & 1) == 0 ? v << 8 : v;
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    static int u16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | b[at + 1] & 0xFF;
    }

    static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    static void put32(byte[] b, int at, int v) {
        put16(b, at, v >>> 16);
        put16(b, at + 2, v);
    }

    static long u32(byte[] b, int at) {
        return ((long) u16(b, at) << 16) | u16(b, at + 2);
    }

    /** The timestamp option padded as Linux sends it: NOP, NOP, TS(10). */
    static byte[] timestamps(int tsval, int tsecr) {
        byte[] o = new byte[12];
        o[0] = 1;
        o[1] = 1;
        o[2] = 8;
        o[3] = 10;
        put32(o, 4, tsval);
        put32(o, 8, tsecr);
        return o;
    }

    /** A TCP segment (or superframe) in an Ethernet frame; mutable fields, {@link #build()} makes the bytes. */
    static final class Tcp implements Cloneable {
        boolean v6;
        byte[] dstMac = {2, 0, 0, 0, 0, 2};
        byte[] srcMac = {2, 0, 0, 0, 0, 1};
        int[] vlanTypes = {};
        int[] vlanIds = {};
        byte[] src = {10, 0, 0, 1};
        byte[] dst = {10, 0, 0, 2};
        int tos;
        int ttl = 64;
        int id = 0x1234;
        boolean df = true;
        byte[] ipOptions = {};
        int flowLabel = 0x12345;
        /** IPv6 hop-by-hop options header content after next-header and length (6 + 8k bytes), or null. */
        byte[] hopByHop;
        int srcPort = 40000;
        int dstPort = 5201;
        int seq = 1_000_000;
        int ack = 777;
        int flags = TCP_ACK;
        int window = 502;
        int urgent;
        byte[] options = {};
        byte[] payload = {};
        /** Extra bytes after the IP datagram (Ethernet padding). */
        int padding;
        /** Store the pseudo-header sum in the TCP checksum field instead of the full checksum (CHECKSUM_PARTIAL). */
        boolean partialChecksum;

        static Tcp v4() {
            return new Tcp();
        }

        static Tcp v6() {
            Tcp t = new Tcp();
            t.v6 = true;
            t.src = new byte[16];
            t.dst = new byte[16];
            t.src[0] = (byte) 0xfd;
            t.dst[0] = (byte) 0xfd;
            t.src[15] = 1;
            t.dst[15] = 2;
            return t;
        }

        Tcp copy() {
            try {
                return (Tcp) super.clone();
            } catch (CloneNotSupportedException e) {
                throw new AssertionError(e);
            }
        }

        int l2Length() {
            return 14 + 4 * vlanTypes.length;
        }

        int ipHeaderLength() {
            return v6 ? 40 + (hopByHop == null ? 0 : 2 + hopByHop.length) : 20 + ipOptions.length;
        }

        int tcpHeaderLength() {
            return 20 + options.length;
        }

        int headersLength() {
            return l2Length() + ipHeaderLength() + tcpHeaderLength();
        }

        byte[] build() {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            o.writeBytes(dstMac);
            o.writeBytes(srcMac);
            for (int i = 0; i < vlanTypes.length; i++) {
                o.write(vlanTypes[i] >>> 8);
                o.write(vlanTypes[i]);
                o.write(vlanIds[i] >>> 8);
                o.write(vlanIds[i]);
            }
            int ethType = v6 ? 0x86DD : 0x0800;
            o.write(ethType >>> 8);
            o.write(ethType);
            int l3 = o.size();
            int tcpLength = tcpHeaderLength() + payload.length;
            if (!v6) {
                byte[] ip = new byte[20 + ipOptions.length];
                ip[0] = (byte) (0x40 | ip.length / 4);
                ip[1] = (byte) tos;
                put16(ip, 2, ip.length + tcpLength);
                put16(ip, 4, id);
                put16(ip, 6, df ? 0x4000 : 0);
                ip[8] = (byte) ttl;
                ip[9] = 6;
                System.arraycopy(src, 0, ip, 12, 4);
                System.arraycopy(dst, 0, ip, 16, 4);
                System.arraycopy(ipOptions, 0, ip, 20, ipOptions.length);
                put16(ip, 10, ~referenceSum(ip, 0, ip.length, 0) & 0xFFFF);
                o.writeBytes(ip);
            } else {
                byte[] ip = new byte[40];
                put32(ip, 0, 6 << 28 | tos << 20 | flowLabel);
                int ext = hopByHop == null ? 0 : 2 + hopByHop.length;
                put16(ip, 4, ext + tcpLength);
                ip[6] = (byte) (hopByHop == null ? 6 : 0);
                ip[7] = (byte) ttl;
                System.arraycopy(src, 0, ip, 8, 16);
                System.arraycopy(dst, 0, ip, 24, 16);
                o.writeBytes(ip);
                if (hopByHop != null) {
                    o.write(6);
                    o.write((2 + hopByHop.length) / 8 - 1);
                    o.writeBytes(hopByHop);
                }
            }
            byte[] tcp = new byte[tcpLength];
            put16(tcp, 0, srcPort);
            put16(tcp, 2, dstPort);
            put32(tcp, 4, seq);
            put32(tcp, 8, ack);
            tcp[12] = (byte) (tcpHeaderLength() / 4 << 4);
            tcp[13] = (byte) flags;
            put16(tcp, 14, window);
            put16(tcp, 18, urgent);
            System.arraycopy(options, 0, tcp, 20, options.length);
            System.arraycopy(payload, 0, tcp, tcpHeaderLength(), payload.length);
            long pseudo = pseudoSum(tcpLength);
            int csum = partialChecksum ? referenceSum(new byte[0], 0, 0, pseudo)
                    : ~referenceSum(tcp, 0, tcp.length, pseudo) & 0xFFFF;
            put16(tcp, 16, csum);
            o.writeBytes(tcp);
            o.writeBytes(new byte[padding]);
            byte[] frame = o.toByteArray();
            if (frame.length != l3 + ipHeaderLength() + tcpLength + padding) {
                throw new AssertionError("bad test frame length");
            }
            return frame;
        }

        long pseudoSum(int l4Length) {
            long s = 0;
            byte[] both = new byte[src.length * 2];
            System.arraycopy(src, 0, both, 0, src.length);
            System.arraycopy(dst, 0, both, src.length, dst.length);
            s += referenceSum(both, 0, both.length, 0);
            return s + 6 + l4Length;
        }

        /**
         * The superframe the kernel would hand out for this segment template carrying {@link #payload}: the
         * virtio header (NEEDS_CSUM, TCPV4/TCPV6, gso_size, csum_start at the TCP header, csum_offset 16, hdr_len as
         * given) then the frame with the full lengths and the pseudo-header sum in the TCP checksum field.
         */
        byte[] superframe(int gsoSize, int gsoFlags, int hdrLen) {
            Tcp t = copy();
            t.partialChecksum = true;
            t.padding = 0;
            byte[] frame = t.build();
            byte[] out = new byte[VirtioNetHeader.LENGTH + frame.length];
            ByteBuffer b = ByteBuffer.wrap(out);
            VirtioNetHeader.put(b, 0, VirtioNetHeader.F_NEEDS_CSUM,
                    (v6 ? VirtioNetHeader.GSO_TCPV6 : VirtioNetHeader.GSO_TCPV4) | gsoFlags, hdrLen, gsoSize,
                    l2Length() + ipHeaderLength(), 16);
            System.arraycopy(frame, 0, out, VirtioNetHeader.LENGTH, frame.length);
            return out;
        }

        /** The segments a correct segmentation of {@link #superframe} gives, built one by one from this template. */
        byte[][] expectedSegments(int gsoSize) {
            int n = Math.max(1, (payload.length + gsoSize - 1) / gsoSize);
            byte[][] out = new byte[n][];
            for (int i = 0; i < n; i++) {
                Tcp s = copy();
                s.partialChecksum = false;
                s.padding = 0;
                s.payload = Arrays.copyOfRange(payload, i * gsoSize, Math.min(payload.length, (i + 1) * gsoSize));
                s.seq = seq + i * gsoSize;
                s.id = (id + i) & 0xFFFF;
                if (i < n - 1) {
                    s.flags &= ~(TCP_FIN | TCP_PSH);
                }
                if (i > 0) {
                    s.flags &= ~TCP_CWR;
                }
                out[i] = s.build();
            }
            return out;
        }
    }

    /** Whether the TCP checksum of an untagged IPv4/IPv6 frame (no options/extension headers needed) is right. */
    static boolean tcpChecksumOk(byte[] f) {
        boolean v6 = u16(f, 12) == 0x86DD;
        int l3 = 14;
        int l4;
        int end;
        byte[] addresses;
        if (v6) {
            end = l3 + 40 + u16(f, l3 + 4);
            l4 = l3 + 40;
            addresses = Arrays.copyOfRange(f, l3 + 8, l3 + 40);
        } else {
            end = l3 + u16(f, l3 + 2);
            l4 = l3 + (f[l3] & 0x0F) * 4;
            addresses = Arrays.copyOfRange(f, l3 + 12, l3 + 20);
        }
        long pseudo = referenceSum(addresses, 0, addresses.length, 0) + 6 + (end - l4);
        return referenceSum(f, l4, end, pseudo) == 0xFFFF;
    }

    static byte[] random(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    /** A direct buffer holding {@code bytes} at {@code offset}, with capacity exactly {@code offset + length}. */
    static ByteBuffer direct(byte[] bytes, int offset) {
        ByteBuffer b = ByteBuffer.allocateDirect(offset + bytes.length);
        b.put(offset, bytes);
        return b;
    }

    static byte[] bytes(ByteBuffer b, int offset, int length) {
        byte[] out = new byte[length];
        b.get(offset, out);
        return out;
    }

    /** The remaining bytes of a buffer. */
    static byte[] remaining(ByteBuffer b) {
        return bytes(b, b.position(), b.remaining());
    }

    static ByteBuffer frameBuffer(byte[] frame, boolean direct, ByteOrder order, int offset) {
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(offset + frame.length + 7)
                : ByteBuffer.allocate(offset + frame.length + 7);
        b.order(order);
        b.put(offset, frame);
        b.position(offset).limit(offset + frame.length);
        return b;
    }
}
