package org.vl2.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds DHCP client and ARP frames the way a client puts them on the wire, and parses the server's replies
 * independently of the server code (checking lengths and checksums as it goes).
 */
final class DhcpTestFrames {

    static final int DISCOVER = 1, OFFER = 2, REQUEST = 3, DECLINE = 4, ACK = 5, NAK = 6, RELEASE = 7, INFORM = 8;

    private DhcpTestFrames() {
    }

    /** A DHCP client message; set what differs from a plain broadcast DISCOVER and call {@link #build()}. */
    static final class Client {
        long mac;
        long ethSrc = -1;          // -1: the frame comes from mac (chaddr)
        int type = DISCOVER;
        int xid = 0x1234_5678;
        int vlanTci = -1;          // -1: untagged
        boolean broadcastFlag;
        int ciaddr;
        int requested;             // option 50, 0: absent
        int serverId;              // option 54, 0: absent
        int ipSrc;                 // 0.0.0.0 unless renewing
        int ipDst = -1;            // 255.255.255.255 unless renewing
        int giaddr;
        byte[] extraOptions = new byte[0];
        byte[] fileField;          // 128 bytes, for option overload
        int overload;              // option 52 value, 0: absent
        boolean messageTypeInFile; // option 53 in the file field (with overload 1)

        Client(long mac) {
            this.mac = mac;
        }

        Client type(int t) {
            this.type = t;
            return this;
        }

        ByteBuffer build() {
            ByteArrayOutputStream opts = new ByteArrayOutputStream();
            if (overload != 0) {
                opts.writeBytes(new byte[] {52, 1, (byte) overload});
            }
            if (!messageTypeInFile) {
                opts.writeBytes(new byte[] {53, 1, (byte) type});
            }
            if (requested != 0) {
                opts.write(50);
                opts.write(4);
                opts.writeBytes(be32(requested));
            }
            if (serverId != 0) {
                opts.write(54);
                opts.write(4);
                opts.writeBytes(be32(serverId));
            }
            opts.writeBytes(new byte[] {55, 4, 1, 3, 6, 26});         // parameter request list
            opts.writeBytes(new byte[] {61, 7, 1, 0, 0, 0, 0, 0, 0}); // client id (not used by the server)
            opts.writeBytes(extraOptions);
            opts.write(255);
            byte[] o = opts.toByteArray();
            int bootpLen = Math.max(300, 240 + o.length);
            ByteBuffer bootp = ByteBuffer.allocate(bootpLen);
            bootp.put((byte) 1).put((byte) 1).put((byte) 6).put((byte) 0);
            bootp.putInt(xid).putShort((short) 3).putShort((short) (broadcastFlag ? 0x8000 : 0));
            bootp.putInt(ciaddr).putInt(0).putInt(0).putInt(giaddr);
            bootp.put(mac6(mac));
            bootp.position(108);
            if (fileField != null) {
                bootp.put(fileField);
            } else if (messageTypeInFile) {
                bootp.put(new byte[] {53, 1, (byte) type, (byte) 255});
            }
            bootp.position(236);
            bootp.putInt(0x63825363).put(o);
            return ipv4Udp(ethSrc < 0 ? mac : ethSrc, vlanTci, ipSrc, ipDst, 68, 67, bootp.array());
        }
    }

    /** An Ethernet/IPv4/UDP frame from {@code mac} with correct IPv4 header checksum (UDP checksum 0). */
    static ByteBuffer ipv4Udp(long mac, int vlanTci, int src, int dst, int sport, int dport, byte[] payload) {
        int l2 = vlanTci < 0 ? 14 : 18;
        ByteBuffer b = ByteBuffer.allocate(l2 + 28 + payload.length);
        b.put(mac6(-1L & 0xFFFF_FFFF_FFFFL)).put(mac6(mac));
        if (vlanTci >= 0) {
            b.putShort((short) 0x8100).putShort((short) vlanTci);
        }
        b.putShort((short) 0x0800);
        int ip = b.position();
        b.put((byte) 0x45).put((byte) 0).putShort((short) (28 + payload.length)).putInt(0);
        b.put((byte) 64).put((byte) 17).putShort((short) 0).putInt(src).putInt(dst);
        b.putShort(ip + 10, (short) onesComplement(b.array(), ip, 20, 0));
        b.putShort((short) sport).putShort((short) dport).putShort((short) (8 + payload.length)).putShort((short) 0);
        b.put(payload);
        return b.flip();
    }

    /** An ARP request from {@code mac}/{@code spa} for {@code tpa}. */
    static ByteBuffer arpRequest(long mac, int spa, int tpa, int vlanTci) {
        ByteBuffer b = ByteBuffer.allocate(64);
        b.put(mac6(0xFFFF_FFFF_FFFFL)).put(mac6(mac));
        if (vlanTci >= 0) {
            b.putShort((short) 0x8100).putShort((short) vlanTci);
        }
        b.putShort((short) 0x0806).putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4);
        b.putShort((short) 1).put(mac6(mac)).putInt(spa).put(new byte[6]).putInt(tpa);
        return b.flip();
    }

    /** The length of the BOOTP message of a DHCP request frame (by its UDP length), tagged or not. */
    static int bootpLength(ByteBuffer request) {
        ByteBuffer q = request.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
        int p = q.position();
        int l3 = p + ((q.getShort(p + 12) & 0xFFFF) == 0x8100 ? 18 : 14);
        int udp = l3 + (q.get(l3) & 0x0F) * 4;
        return (q.getShort(udp + 4) & 0xFFFF) - 8;
    }

    static byte[] mac6(long mac) {
        byte[] m = new byte[6];
        for (int i = 0; i < 6; i++) {
            m[i] = (byte) (mac >>> (8 * (5 - i)));
        }
        return m;
    }

    static byte[] be32(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    static int ip4(String dotted) {
        return (int) Ipv4Pool.parseAddress(dotted);
    }

    static int onesComplement(byte[] a, int from, int len, long sum) {
        for (int i = 0; i < len; i += 2) {
            int hi = a[from + i] & 0xFF;
            int lo = i + 1 < len ? a[from + i + 1] & 0xFF : 0;
            sum += (hi << 8) | lo;
        }
        while (sum > 0xFFFF) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    /** A server reply as it appeared on the wire; {@link #parse} fails the test if it is not well-formed. */
    static final class Reply {
        long ethDst;
        long ethSrc;
        int vlanTci = -1;
        int ipSrc;
        int ipDst;
        int ttl;
        int sport;
        int dport;
        int udpChecksum;
        int op;
        int xid;
        int flags;
        int ciaddr;
        int yiaddr;
        int siaddr;
        int giaddr;
        long chaddr;
        int bootpLength;
        final Map<Integer, byte[]> options = new LinkedHashMap<>();

        int messageType() {
            return option(53)[0] & 0xFF;
        }

        byte[] option(int code) {
            byte[] v = options.get(code);
            if (v == null) {
                fail("option " + code + " missing; present: " + options.keySet());
            }
            return v;
        }

        int optionInt(int code) {
            byte[] v = option(code);
            assertEquals(4, v.length, "length of option " + code);
            return ByteBuffer.wrap(v).getInt();
        }

        int optionShort(int code) {
            byte[] v = option(code);
            assertEquals(2, v.length, "length of option " + code);
            return ByteBuffer.wrap(v).getShort() & 0xFFFF;
        }

        static Reply parse(ByteBuffer out) {
            return parse(out, 300);
        }

        /** @param minBootp the shortest BOOTP message allowed: 300, unless the request was shorter */
        static Reply parse(ByteBuffer out, int minBootp) {
            ByteBuffer b = out.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
            assertEquals(0, b.position(), "reply starts at 0");
            byte[] a = new byte[b.remaining()];
            b.get(a);
            ByteBuffer w = ByteBuffer.wrap(a);
            Reply r = new Reply();
            r.ethDst = mac(w, 0);
            r.ethSrc = mac(w, 6);
            int l3 = 14;
            int type = w.getShort(12) & 0xFFFF;
            if (type == 0x8100) {
                r.vlanTci = w.getShort(14) & 0xFFFF;
                type = w.getShort(16) & 0xFFFF;
                l3 = 18;
            }
            assertEquals(0x0800, type, "ethertype");
            assertEquals(0x45, a[l3] & 0xFF, "IPv4 without options");
            int total = w.getShort(l3 + 2) & 0xFFFF;
            assertEquals(a.length - l3, total, "IP total length = frame length - Ethernet header");
            assertEquals(0, onesComplement(a, l3, 20, 0), "IPv4 header checksum");
            assertEquals(0, w.getShort(l3 + 6) & 0x3FFF, "not a fragment");
            r.ttl = a[l3 + 8] & 0xFF;
            assertTrue(r.ttl > 0, "TTL");
            assertEquals(17, a[l3 + 9], "UDP");
            r.ipSrc = w.getInt(l3 + 12);
            r.ipDst = w.getInt(l3 + 16);
            int udp = l3 + 20;
            r.sport = w.getShort(udp) & 0xFFFF;
            r.dport = w.getShort(udp + 2) & 0xFFFF;
            int udpLen = w.getShort(udp + 4) & 0xFFFF;
            assertEquals(total - 20, udpLen, "UDP length");
            r.udpChecksum = w.getShort(udp + 6) & 0xFFFF;
            if (r.udpChecksum != 0) {
                long pseudo = (r.ipSrc >>> 16) + (r.ipSrc & 0xFFFF) + (r.ipDst >>> 16) + (r.ipDst & 0xFFFF) + 17 + udpLen;
                assertEquals(0, onesComplement(a, udp, udpLen, pseudo), "UDP checksum");
            }
            int bp = udp + 8;
            r.bootpLength = udpLen - 8;
            assertTrue(r.bootpLength >= minBootp, "BOOTP payload at least " + minBootp + " bytes, was "
                    + r.bootpLength);
            r.op = a[bp];
            assertEquals(1, a[bp + 1], "htype");
            assertEquals(6, a[bp + 2], "hlen");
            r.xid = w.getInt(bp + 4);
            r.flags = w.getShort(bp + 10) & 0xFFFF;
            r.ciaddr = w.getInt(bp + 12);
            r.yiaddr = w.getInt(bp + 16);
            r.siaddr = w.getInt(bp + 20);
            r.giaddr = w.getInt(bp + 24);
            r.chaddr = mac(w, bp + 28);
            for (int i = bp + 44; i < bp + 236; i++) {
                assertEquals(0, a[i], "sname and file are zero");
            }
            assertEquals(0x63825363, w.getInt(bp + 236), "magic cookie");
            int i = bp + 240;
            int end = bp + r.bootpLength;
            boolean sawEnd = false;
            while (i < end) {
                int code = a[i] & 0xFF;
                if (code == 255) {
                    sawEnd = true;
                    for (int j = i + 1; j < end; j++) {
                        assertEquals(0, a[j], "padding after the end option");
                    }
                    break;
                }
                if (code == 0) {
                    i++;
                    continue;
                }
                assertTrue(i + 1 < end, "option " + code + " has its length");
                int len = a[i + 1] & 0xFF;
                assertTrue(i + 2 + len <= end, "option " + code + " fits");
                byte[] v = new byte[len];
                System.arraycopy(a, i + 2, v, 0, len);
                assertTrue(r.options.put(code, v) == null, "option " + code + " once");
                i += 2 + len;
            }
            assertTrue(sawEnd, "end option");
            return r;
        }

        private static long mac(ByteBuffer w, int at) {
            return ((w.getInt(at) & 0xFFFF_FFFFL) << 16) | (w.getShort(at + 4) & 0xFFFF);
        }
    }
}
