package org.vl2.ipam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.ipam.DhcpTestFrames.ACK;
import static org.vl2.ipam.DhcpTestFrames.DECLINE;
import static org.vl2.ipam.DhcpTestFrames.INFORM;
import static org.vl2.ipam.DhcpTestFrames.NAK;
import static org.vl2.ipam.DhcpTestFrames.OFFER;
import static org.vl2.ipam.DhcpTestFrames.RELEASE;
import static org.vl2.ipam.DhcpTestFrames.REQUEST;
import static org.vl2.ipam.DhcpTestFrames.ip4;
import static org.vl2.ipam.Ipv4PoolTest.ip;

import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.MacAddress;
import org.vl2.ipam.DhcpTestFrames.Client;
import org.vl2.ipam.DhcpTestFrames.Reply;

class DhcpServerTest {

    private static final long SERVER_MAC = 0x0200_5e00_00feL;
    private static final long CLIENT = 0x5254_0012_3456L;
    private static final long CLIENT2 = 0x5254_0012_3457L;
    private static final int SERVER = ip4("10.1.1.254");

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-21T10:00:00Z"));
    private LeaseTable leases;
    private DhcpServer server;
    private final ByteBuffer out = ByteBuffer.allocate(2048);

    @BeforeEach
    void setUp() throws Exception {
        leases = LeaseTable.load(Ipv4Pool.parse("10.1.1.0/24", null), null, clock, Duration.ofMinutes(3));
        server = new DhcpServer(leases, MacAddress.of(SERVER_MAC), 1454, Duration.ofHours(1), ip("10.1.1.1"),
                List.of(ip("10.1.1.1"), ip("9.9.9.9")));
        leases.lease("member:router", ip("10.1.1.1"), null); // the router's own address is taken
    }

    private Reply exchange(Client c, int expectedType) {
        ByteBuffer frame = c.build();
        assertEquals(DhcpServer.REPLY, server.handle(frame, out));
        Reply r = Reply.parse(out);
        assertEquals(expectedType, r.messageType());
        return r;
    }

    private Client discover(long mac) {
        return new Client(mac);
    }

    private Client select(long mac, int address) {
        Client c = new Client(mac).type(REQUEST);
        c.requested = address;
        c.serverId = SERVER;
        return c;
    }

    @Test
    void fullDoraUntagged() {
        Reply offer = exchange(discover(CLIENT), OFFER);
        assertEquals(ip4("10.1.1.2"), offer.yiaddr);
        assertReplyBasics(offer, CLIENT);
        assertEquals(0, offer.ciaddr);
        assertLeaseOptions(offer);
        assertTrue(leases.current("mac:52:54:00:12:34:56").isPresent(), "the offer reserves the address");

        Reply ack = exchange(select(CLIENT, offer.yiaddr), ACK);
        assertEquals(offer.yiaddr, ack.yiaddr);
        assertReplyBasics(ack, CLIENT);
        assertLeaseOptions(ack);
        Lease lease = leases.current("mac:52:54:00:12:34:56").orElseThrow();
        assertEquals(ip("10.1.1.2"), lease.address());
        assertEquals(clock.instant().plus(Duration.ofHours(1)), lease.expires());

        // the client starts over (reboot without memory): same address again
        clock.advance(Duration.ofMinutes(5));
        Reply offer2 = exchange(discover(CLIENT), OFFER);
        assertEquals(offer.yiaddr, offer2.yiaddr);
        Reply ack2 = exchange(select(CLIENT, offer2.yiaddr), ACK);
        assertEquals(offer.yiaddr, ack2.yiaddr);
        assertEquals(2, server.offers());
        assertEquals(2, server.acks());
        assertEquals(0, server.naks());
        assertEquals(0, server.malformed());
    }

    private static void assertReplyBasics(Reply r, long clientMac) {
        assertEquals(clientMac, r.ethDst, "unicast to chaddr without the broadcast flag");
        assertEquals(SERVER_MAC, r.ethSrc);
        assertEquals(-1, r.vlanTci);
        assertEquals(SERVER, r.ipSrc);
        assertEquals(-1, r.ipDst, "255.255.255.255");
        assertEquals(67, r.sport);
        assertEquals(68, r.dport);
        assertEquals(2, r.op, "BOOTREPLY");
        assertEquals(0x1234_5678, r.xid);
        assertEquals(0, r.flags);
        assertEquals(clientMac, r.chaddr);
        assertEquals(0, r.giaddr);
        assertTrue(r.udpChecksum != 0, "UDP checksum computed");
    }

    private static void assertLeaseOptions(Reply r) {
        assertEquals(SERVER, r.optionInt(54), "server id");
        assertEquals(3600, r.optionInt(51), "lease time");
        assertEquals(1800, r.optionInt(58), "T1");
        assertEquals(3150, r.optionInt(59), "T2");
        assertEquals(ip4("255.255.255.0"), r.optionInt(1), "subnet mask");
        assertEquals(ip4("10.1.1.255"), r.optionInt(28), "broadcast");
        assertEquals(1454, r.optionShort(26), "MTU");
        assertEquals(ip4("10.1.1.1"), r.optionInt(3), "router");
        assertArrayEquals(new byte[] {10, 1, 1, 1, 9, 9, 9, 9}, r.option(6), "DNS");
        assertEquals(List.of(53, 54, 51, 58, 59, 1, 28, 26, 3, 6), List.copyOf(r.options.keySet()));
    }

    @Test
    void taggedFramesGetTaggedReplies() {
        Client d = discover(CLIENT);
        d.vlanTci = 0xA02A; // priority 5, VLAN 42
        Reply offer = exchange(d, OFFER);
        assertEquals(0xA02A, offer.vlanTci);
        Client r = select(CLIENT, offer.yiaddr);
        r.vlanTci = 0xA02A;
        Reply ack = exchange(r, ACK);
        assertEquals(0xA02A, ack.vlanTci);
        assertEquals(offer.yiaddr, ack.yiaddr);
    }

    @Test
    void broadcastFlagMakesAnEthernetBroadcast() {
        Client d = discover(CLIENT);
        d.broadcastFlag = true;
        Reply offer = exchange(d, OFFER);
        assertEquals(0xFFFF_FFFF_FFFFL, offer.ethDst);
        assertEquals(0x8000, offer.flags);
    }

    @Test
    void minimalRepliesWithoutRouterOrDns() throws Exception {
        DhcpServer bare = new DhcpServer(leases, MacAddress.of(SERVER_MAC), 1500, Duration.ofMinutes(10), null, null);
        assertEquals(DhcpServer.REPLY, bare.handle(discover(CLIENT).build(), out));
        Reply r = Reply.parse(out);
        assertEquals(List.of(53, 54, 51, 58, 59, 1, 28, 26), List.copyOf(r.options.keySet()));
        assertEquals(600, r.optionInt(51));
        assertEquals(300, r.bootpLength, "padded to the BOOTP minimum");
        assertEquals(14 + 20 + 8 + 300, out.limit());
    }

    @Test
    void offersAreReservedForAWhile() {
        Reply a = exchange(discover(CLIENT), OFFER);
        Reply b = exchange(discover(CLIENT2), OFFER);
        assertEquals(ip4("10.1.1.2"), a.yiaddr);
        assertEquals(ip4("10.1.1.3"), b.yiaddr, "not the address offered to the first client");
        clock.advance(Duration.ofSeconds(DhcpServer.OFFER_HOLD_SECONDS));
        Reply c = exchange(discover(0x5254_0012_3458L), OFFER);
        assertEquals(ip4("10.1.1.2"), c.yiaddr, "an offer nobody requested lapses");
        // the first client now asks for the address it was offered: taken, NAK
        Reply nak = exchange(select(CLIENT, a.yiaddr), NAK);
        assertEquals(0, nak.yiaddr);
    }

    @Test
    void requestedAddressIsHonouredWhenFree() throws Exception {
        Client d = discover(CLIENT);
        d.requested = ip4("10.1.1.77");
        assertEquals(ip4("10.1.1.77"), exchange(d, OFFER).yiaddr);
        Client taken = discover(CLIENT2);
        taken.requested = ip4("10.1.1.77");
        assertEquals(ip4("10.1.1.2"), exchange(taken, OFFER).yiaddr, "taken: the lowest free one instead");
        Client outside = discover(0x5254_0012_3458L);
        outside.requested = ip4("192.168.1.5");
        assertEquals(ip4("10.1.1.3"), exchange(outside, OFFER).yiaddr);
        Client serverAddress = discover(0x5254_0012_3459L);
        serverAddress.requested = SERVER;
        assertEquals(ip4("10.1.1.4"), exchange(serverAddress, OFFER).yiaddr);
    }

    @Test
    void initRebootGetsItsFreeAddress() {
        Client c = new Client(CLIENT).type(REQUEST);
        c.requested = ip4("10.1.1.9"); // INIT-REBOOT: option 50, no server id
        Reply ack = exchange(c, ACK);
        assertEquals(ip4("10.1.1.9"), ack.yiaddr);
        assertEquals(ip("10.1.1.9"), leases.current("mac:52:54:00:12:34:56").orElseThrow().address());
    }

    @Test
    void renewalExtendsTheLease() {
        Reply offer = exchange(discover(CLIENT), OFFER);
        exchange(select(CLIENT, offer.yiaddr), ACK);
        clock.advance(Duration.ofMinutes(40));
        // RENEWING: unicast to the server, ciaddr set, no option 50 or 54
        Client renew = new Client(CLIENT).type(REQUEST);
        renew.ciaddr = offer.yiaddr;
        renew.ipSrc = offer.yiaddr;
        renew.ipDst = SERVER;
        Reply ack = exchange(renew, ACK);
        assertEquals(offer.yiaddr, ack.yiaddr);
        assertEquals(offer.yiaddr, ack.ciaddr, "ciaddr copied in the ACK");
        assertEquals(clock.instant().plus(Duration.ofHours(1)),
                leases.current("mac:52:54:00:12:34:56").orElseThrow().expires());
        // REBINDING: the same, broadcast
        clock.advance(Duration.ofMinutes(55));
        renew.ipDst = -1;
        assertEquals(offer.yiaddr, exchange(renew, ACK).yiaddr);
        assertEquals(clock.instant().plus(Duration.ofHours(1)),
                leases.current("mac:52:54:00:12:34:56").orElseThrow().expires());
    }

    @Test
    void nakForAnAddressOutsideTheSubnet() {
        Client c = new Client(CLIENT).type(REQUEST);
        c.requested = ip4("192.168.5.5"); // INIT-REBOOT after moving from another network
        Reply nak = exchange(c, NAK);
        assertEquals(0xFFFF_FFFF_FFFFL, nak.ethDst, "NAKs are broadcast");
        assertEquals(0, nak.yiaddr);
        assertEquals(0, nak.ciaddr);
        assertEquals(SERVER, nak.optionInt(54));
        assertEquals(List.of(53, 54), List.copyOf(nak.options.keySet()));
        assertEquals(1, server.naks());
        assertTrue(leases.current("mac:52:54:00:12:34:56").isEmpty());
    }

    @Test
    void nakForAnAddressLeasedToSomeoneElseOrOutsideTheRange() throws Exception {
        leases.lease("member:x", ip("10.1.1.50"), null);
        Client c = new Client(CLIENT).type(REQUEST);
        c.requested = ip4("10.1.1.50");
        exchange(c, NAK);
        c.requested = SERVER;
        exchange(c, NAK);
        Client none = new Client(CLIENT).type(REQUEST); // neither option 50 nor ciaddr
        exchange(none, NAK);
        assertEquals(3, server.naks());
        assertEquals("member:x", leases.holder(ip("10.1.1.50")).orElseThrow().key());
    }

    @Test
    void requestForAnotherServerIsConsumed() {
        Reply offer = exchange(discover(CLIENT), OFFER);
        Client other = select(CLIENT, ip4("10.1.1.100"));
        other.serverId = ip4("10.1.1.253");
        out.clear().put((byte) 42).flip();
        assertEquals(DhcpServer.CONSUMED, server.handle(other.build(), out));
        assertEquals(1, out.limit(), "no reply written");
        assertEquals(0, server.acks() + server.naks());
        assertTrue(leases.holder(ip("10.1.1.100")).isEmpty());
        assertEquals(offer.yiaddr, Ipv4Pool.toInt(leases.current("mac:52:54:00:12:34:56").orElseThrow().address()));
    }

    @Test
    void releaseFreesTheAddress() {
        Reply offer = exchange(discover(CLIENT), OFFER);
        exchange(select(CLIENT, offer.yiaddr), ACK);
        Client release = new Client(CLIENT).type(RELEASE);
        release.ciaddr = offer.yiaddr;
        release.serverId = SERVER;
        release.ipSrc = offer.yiaddr;
        release.ipDst = SERVER;
        assertEquals(DhcpServer.CONSUMED, server.handle(release.build(), out));
        assertTrue(leases.current("mac:52:54:00:12:34:56").isEmpty());
        assertTrue(leases.holder(ip("10.1.1.2")).isEmpty());
        assertEquals(ip4("10.1.1.2"), exchange(discover(CLIENT2), OFFER).yiaddr);
    }

    @Test
    void releaseOfAnotherClientsAddressIsIgnored() {
        Reply offer = exchange(discover(CLIENT), OFFER);
        exchange(select(CLIENT, offer.yiaddr), ACK);
        Client release = new Client(CLIENT2).type(RELEASE);
        release.ciaddr = offer.yiaddr;
        assertEquals(DhcpServer.CONSUMED, server.handle(release.build(), out));
        assertTrue(leases.current("mac:52:54:00:12:34:56").isPresent());
    }

    @Test
    void declinedAddressIsNotOfferedAgain() {
        Reply offer = exchange(discover(CLIENT), OFFER);
        exchange(select(CLIENT, offer.yiaddr), ACK);
        Client decline = new Client(CLIENT).type(DECLINE);
        decline.requested = offer.yiaddr;
        decline.serverId = SERVER;
        assertEquals(DhcpServer.CONSUMED, server.handle(decline.build(), out));
        assertTrue(leases.current("mac:52:54:00:12:34:56").isEmpty());
        assertEquals(ip4("10.1.1.3"), exchange(discover(CLIENT), OFFER).yiaddr);
        assertEquals(ip4("10.1.1.4"), exchange(discover(CLIENT2), OFFER).yiaddr);
        clock.advance(DhcpServer.DECLINE_HOLD);
        assertEquals(ip4("10.1.1.2"), exchange(discover(0x5254_0012_3458L), OFFER).yiaddr, "hold over");
    }

    @Test
    void informGetsConfigurationWithoutALease() {
        Client inform = new Client(CLIENT).type(INFORM);
        inform.ciaddr = ip4("10.1.1.200");
        inform.ipSrc = ip4("10.1.1.200");
        Reply ack = exchange(inform, ACK);
        assertEquals(0, ack.yiaddr);
        assertEquals(ip4("10.1.1.200"), ack.ciaddr);
        assertEquals(List.of(53, 54, 1, 28, 26, 3, 6), List.copyOf(ack.options.keySet()));
        assertTrue(leases.current("mac:52:54:00:12:34:56").isEmpty());
    }

    @Test
    void optionOverloadIsRead() {
        Client c = discover(CLIENT);
        c.overload = 1;
        c.messageTypeInFile = true;
        assertEquals(ip4("10.1.1.2"), exchange(c, OFFER).yiaddr);
        // an overloaded file field whose option runs past its end is malformed
        Client bad = discover(CLIENT);
        bad.overload = 1;
        bad.fileField = new byte[128];
        bad.fileField[126] = 12;
        bad.fileField[127] = 5;
        assertEquals(DhcpServer.NOT_MINE, server.handle(bad.build(), out));
        assertEquals(1, server.malformed());
    }

    @Test
    void arpForTheServerAddress() {
        for (int tci : new int[] {-1, 0x002A}) {
            ByteBuffer req = DhcpTestFrames.arpRequest(CLIENT, ip4("10.1.1.2"), SERVER, tci);
            assertEquals(DhcpServer.REPLY, server.handle(req, out));
            int l3 = tci < 0 ? 14 : 18;
            assertEquals(l3 + 28, out.limit(), "as long as the request (a TAP's ARP is not padded): no amplification");
            assertEquals(0, out.position());
            ByteBuffer r = out.duplicate();
            assertEquals(CLIENT, mac(r, 0), "to the asker");
            assertEquals(SERVER_MAC, mac(r, 6));
            if (tci >= 0) {
                assertEquals(0x8100, r.getShort(12) & 0xFFFF);
                assertEquals(tci, r.getShort(14) & 0xFFFF);
            }
            assertEquals(0x0806, r.getShort(l3 - 2) & 0xFFFF);
            assertEquals(0x0001_0800, r.getInt(l3));
            assertEquals(0x0604, r.getShort(l3 + 4));
            assertEquals(2, r.getShort(l3 + 6), "ARP reply");
            assertEquals(SERVER_MAC, mac(r, l3 + 8), "sender MAC");
            assertEquals(SERVER, r.getInt(l3 + 14), "sender IP");
            assertEquals(CLIENT, mac(r, l3 + 18), "target MAC");
            assertEquals(ip4("10.1.1.2"), r.getInt(l3 + 24), "target IP");
            for (int i = l3 + 28; i < out.limit(); i++) {
                assertEquals(0, r.get(i), "padding");
            }
        }
    }

    @Test
    void repliesArePaddedButNeverLongerThanTheRequest() {
        // ARP: towards the 60-byte Ethernet minimum, as far as the request went (found by DhcpServerFuzzTest)
        for (int length : new int[] {42, 50, 60, 64}) {
            ByteBuffer req = DhcpTestFrames.arpRequest(CLIENT, ip4("10.1.1.2"), SERVER, -1);
            req.limit(length); // arpRequest leaves zeros behind the 42 bytes: Ethernet padding
            assertEquals(DhcpServer.REPLY, server.handle(req, out));
            assertEquals(Math.min(length, 60), out.limit(), "reply to a " + length + "-byte request");
        }
        // DHCP: padded to the 300 bytes clients send, but not beyond a shorter request that has room for the options
        ByteBuffer full = discover(CLIENT).build();
        assertEquals(DhcpServer.REPLY, server.handle(full, out));
        assertEquals(full.remaining(), out.limit(), "a 300-byte request, a 300-byte reply");
        assertEquals(300, Reply.parse(out).bootpLength);
        ByteBuffer nak = cut(select(CLIENT, ip4("10.2.0.1")).build(), 280); // its options end at 271
        assertEquals(DhcpServer.REPLY, server.handle(nak, out));
        assertEquals(NAK, Reply.parse(out, 280).messageType());
        assertEquals(nak.remaining(), out.limit(), "a 280-byte request, a 280-byte NAK");
    }

    /** A copy of a DHCP request frame (untagged) with its BOOTP message cut to {@code bootp} bytes. */
    private static ByteBuffer cut(ByteBuffer request, int bootp) {
        byte[] b = new byte[14 + 28 + bootp];
        request.duplicate().get(b);
        ByteBuffer f = ByteBuffer.wrap(b);
        f.putShort(16, (short) (28 + bootp)).putShort(24, (short) 0);
        f.putShort(24, (short) DhcpTestFrames.onesComplement(b, 14, 20, 0));
        f.putShort(38, (short) (8 + bootp));
        return f;
    }

    @Test
    void otherArpIsNotMine() {
        assertEquals(DhcpServer.NOT_MINE,
                server.handle(DhcpTestFrames.arpRequest(CLIENT, ip4("10.1.1.2"), ip4("10.1.1.3"), -1), out));
        ByteBuffer reply = DhcpTestFrames.arpRequest(CLIENT, ip4("10.1.1.2"), SERVER, -1);
        reply.put(21, (byte) 2); // an ARP reply addressed to the server address
        assertEquals(DhcpServer.NOT_MINE, server.handle(reply, out));
        ByteBuffer shortArp = DhcpTestFrames.arpRequest(CLIENT, ip4("10.1.1.2"), SERVER, -1);
        shortArp.limit(14 + 27);
        assertEquals(DhcpServer.NOT_MINE, server.handle(shortArp, out));
    }

    @Test
    void everythingElseIsNotMine() {
        // UDP to another port
        assertEquals(DhcpServer.NOT_MINE, server.handle(
                DhcpTestFrames.ipv4Udp(CLIENT, -1, ip4("10.1.1.2"), ip4("10.1.1.3"), 5000, 53, new byte[300]), out));
        // DHCP unicast to another server
        Client unicast = new Client(CLIENT).type(REQUEST);
        unicast.ciaddr = ip4("10.1.1.2");
        unicast.ipDst = ip4("10.1.1.253");
        assertEquals(DhcpServer.NOT_MINE, server.handle(unicast.build(), out));
        // IPv6, too short, ICMP
        ByteBuffer v6 = ByteBuffer.allocate(80);
        v6.putShort(12, (short) 0x86DD);
        assertEquals(DhcpServer.NOT_MINE, server.handle(v6, out));
        assertEquals(DhcpServer.NOT_MINE, server.handle(ByteBuffer.allocate(13), out));
        ByteBuffer icmp = discover(CLIENT).build();
        icmp.put(14 + 9, (byte) 1);
        assertEquals(DhcpServer.NOT_MINE, server.handle(icmp, out));
        // a fragment
        ByteBuffer frag = discover(CLIENT).build();
        frag.put(14 + 6, (byte) 0x20);
        assertEquals(DhcpServer.NOT_MINE, server.handle(frag, out));
        assertEquals(0, server.malformed(), "none of these was for the server");
        assertEquals(0, server.offers());
    }

    @Test
    void malformedDhcpIsNotMine() {
        ByteBuffer bootreply = discover(CLIENT).build();
        bootreply.put(42, (byte) 2);
        ByteBuffer noCookie = discover(CLIENT).build();
        noCookie.put(42 + 236, (byte) 0);
        ByteBuffer optionPastEnd = discover(CLIENT).build();
        int lastOpt = optionPastEnd.limit() - 1;
        while (optionPastEnd.get(lastOpt) != (byte) 255) {
            lastOpt--;
        }
        optionPastEnd.put(lastOpt, (byte) 12); // the end option becomes a hostname running past the datagram
        optionPastEnd.put(lastOpt + 1, (byte) 200);
        ByteBuffer udpTooLong = discover(CLIENT).build();
        udpTooLong.putShort(14 + 20 + 4, (short) 2000);
        ByteBuffer ipTooLong = discover(CLIENT).build();
        ipTooLong.putShort(14 + 2, (short) 2000);
        ByteBuffer truncated = discover(CLIENT).build();
        truncated.limit(14 + 20 + 8 + 100);
        ByteBuffer noMessageType = discover(CLIENT).build();
        noMessageType.put(42 + 240, (byte) 12); // 53,1,1 -> hostname option of length 1
        ByteBuffer badTypeLength = discover(CLIENT).build();
        badTypeLength.put(42 + 241, (byte) 2);
        ByteBuffer multicastChaddr = new Client(0x0100_5e00_0001L).build();
        ByteBuffer[] bad = {bootreply, noCookie, optionPastEnd, udpTooLong, ipTooLong, truncated, noMessageType,
                badTypeLength, multicastChaddr};
        for (ByteBuffer b : bad) {
            assertEquals(DhcpServer.NOT_MINE, server.handle(b, out));
        }
        assertEquals(bad.length, server.malformed());
        assertEquals(0, server.offers());
        assertTrue(leases.leases().size() == 1, "nothing leased but the router");
    }

    @Test
    void positionLimitAndByteOrderOfTheCallersBuffersDoNotMatter() {
        ByteBuffer frame = discover(CLIENT).build();
        ByteBuffer big = ByteBuffer.allocateDirect(frame.remaining() + 100).order(ByteOrder.LITTLE_ENDIAN);
        big.position(37);
        big.put(frame);
        big.limit(big.position()).position(37);
        ByteBuffer littleOut = ByteBuffer.allocate(600).order(ByteOrder.LITTLE_ENDIAN);
        littleOut.position(99);
        assertEquals(DhcpServer.REPLY, server.handle(big, littleOut));
        assertEquals(37, big.position(), "position unchanged");
        assertEquals(37 + frame.limit(), big.limit(), "limit unchanged");
        Reply r = Reply.parse(littleOut);
        assertEquals(OFFER, r.messageType());
        assertEquals(ip4("10.1.1.2"), r.yiaddr);
        assertEquals(3600, r.optionInt(51));
    }

    @Test
    void badConstructorArguments() {
        MacAddress mac = MacAddress.of(SERVER_MAC);
        Duration hour = Duration.ofHours(1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DhcpServer(leases, mac, 67, hour, null, null));
        assertEquals("MTU 67 is not valid (expected 68..65535)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new DhcpServer(leases, mac, 1500, Duration.ofSeconds(10), null, null));
        assertEquals("DHCP lease time PT10S is not valid (expected 1 minute up to 136 years, for example PT1H)",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new DhcpServer(leases, mac, 1500, hour, ip("10.2.2.1"), null));
        assertEquals("router 10.2.2.1 is not valid (expected a host of 10.1.1.0/24)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new DhcpServer(leases, MacAddress.BROADCAST, 1500, hour, null, null));
        assertEquals("DHCP server MAC ff:ff:ff:ff:ff:ff is not valid (expected a unicast MAC)", e.getMessage());
        List<Inet4Address> many = java.util.Collections.nCopies(17, ip("9.9.9.9"));
        e = assertThrows(IllegalArgumentException.class, () -> new DhcpServer(leases, mac, 1500, hour, null, many));
        assertTrue(e.getMessage().endsWith("(expected at most 16 IPv4 addresses)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DhcpServer(null, mac, 1500, hour, null, null));
    }

    @Test
    void tooSmallReplyBufferIsACallerBug() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> server.handle(discover(CLIENT).build(), ByteBuffer.allocate(100)));
        assertEquals("reply buffer has 100 bytes (expected at least 512)", e.getMessage());
        assertTrue(leases.current("mac:52:54:00:12:34:56").isEmpty(), "checked before leasing");
    }

    @Test
    void offersDoNotWaitForTheDiskAcksArePersisted(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ipv4.leases");
        LeaseTable onDisk = LeaseTable.load(Ipv4Pool.parse("10.1.1.0/24", null), file, clock, Duration.ofMinutes(3));
        DhcpServer s = new DhcpServer(onDisk, MacAddress.of(SERVER_MAC), 1500, Duration.ofHours(1), null, null);
        assertEquals(DhcpServer.REPLY, s.handle(discover(CLIENT).build(), out));
        assertFalse(Files.exists(file), "an offer is a reservation in memory");
        assertEquals(DhcpServer.REPLY, s.handle(select(CLIENT, ip4("10.1.1.1")).build(), out));
        assertEquals(ACK, Reply.parse(out).messageType());
        LeaseTable back = LeaseTable.load(onDisk.pool(), file, clock, Duration.ofMinutes(3));
        Lease lease = back.current("mac:52:54:00:12:34:56").orElseThrow();
        assertEquals(ip("10.1.1.1"), lease.address());
        assertEquals(clock.instant().plus(Duration.ofHours(1)), lease.expires());
    }

    @Test
    void exhaustedPoolOffersNothing() throws Exception {
        LeaseTable tiny = LeaseTable.load(Ipv4Pool.parse("10.9.0.0/30", null), null, clock, Duration.ZERO);
        DhcpServer s = new DhcpServer(tiny, MacAddress.of(SERVER_MAC), 1500, Duration.ofHours(1), null, null);
        assertEquals(DhcpServer.REPLY, s.handle(discover(CLIENT).build(), out));
        assertEquals(DhcpServer.CONSUMED, s.handle(discover(CLIENT2).build(), out));
        assertEquals(1, s.offers());
    }

    /**
     * 100k random, truncated and bit-flipped frames (fixed seed): never an exception, position and limit left
     * alone, and every reply that does come out is a well-formed frame.
     */
    @Test
    void randomAndDamagedFramesNeverThrow() throws Exception {
        LeaseTable big = LeaseTable.load(Ipv4Pool.parse("10.0.0.0/8", null), null, clock, Duration.ZERO);
        DhcpServer s = new DhcpServer(big, MacAddress.of(SERVER_MAC), 1454, Duration.ofHours(1), null,
                List.of(ip("10.0.0.1")));
        int serverIp = ip4("10.255.255.254");
        Random rnd = new Random(20261121L);
        ByteBuffer[] seeds = seedFrames(serverIp);
        int replies = 0;
        for (int n = 0; n < 100_000; n++) {
            ByteBuffer f;
            int kind = n % 4;
            if (kind == 0) {
                byte[] b = new byte[rnd.nextInt(600)];
                rnd.nextBytes(b);
                if (b.length > 14 && rnd.nextBoolean()) {
                    b[12] = 0x08; // IPv4 or ARP more often than by chance
                    b[13] = (byte) (rnd.nextBoolean() ? 0 : 6);
                }
                f = ByteBuffer.wrap(b);
            } else {
                ByteBuffer seed = seeds[rnd.nextInt(seeds.length)];
                byte[] b = new byte[seed.remaining()];
                seed.duplicate().get(b);
                int flips = kind == 1 ? 0 : 1 + rnd.nextInt(kind == 2 ? 3 : 12);
                for (int i = 0; i < flips; i++) {
                    // mostly in the headers and the first options, where the parser decides
                    int at = rnd.nextInt(4) == 0 ? rnd.nextInt(b.length) : rnd.nextInt(Math.min(b.length, 300));
                    b[at] = (byte) rnd.nextInt(256);
                }
                int len = kind == 1 || rnd.nextInt(3) == 0 ? rnd.nextInt(b.length + 1) : b.length;
                f = ByteBuffer.wrap(b, 0, len).slice();
            }
            int pos = f.position();
            int lim = f.limit();
            int result = s.handle(f, out);
            assertEquals(pos, f.position());
            assertEquals(lim, f.limit());
            assertTrue(result == DhcpServer.NOT_MINE || result == DhcpServer.REPLY || result == DhcpServer.CONSUMED
                    || result == DhcpServer.REFUSED);
            if (result == DhcpServer.REPLY) {
                replies++;
                if (out.getShort(12) != 0x0806 && !(out.getShort(12) == (short) 0x8100 && out.getShort(16) == 0x0806)) {
                    Reply r = Reply.parse(out, Math.min(300, DhcpTestFrames.bootpLength(f)));
                    assertEquals(serverIp, r.ipSrc);
                }
            }
        }
        assertTrue(replies > 1000, "the damaged frames still exercise the reply path: " + replies);
        assertTrue(s.malformed() > 1000, "and the malformed path: " + s.malformed());
    }

    private static ByteBuffer[] seedFrames(int serverIp) {
        Client d = new Client(CLIENT);
        Client dt = new Client(CLIENT2);
        dt.vlanTci = 7;
        Client r = new Client(CLIENT).type(REQUEST);
        r.requested = ip4("10.0.0.5");
        r.serverId = serverIp;
        Client renew = new Client(CLIENT).type(REQUEST);
        renew.ciaddr = ip4("10.0.0.5");
        renew.ipDst = serverIp;
        Client inform = new Client(CLIENT).type(INFORM);
        inform.ciaddr = ip4("10.0.0.9");
        Client overload = new Client(CLIENT);
        overload.overload = 3;
        overload.messageTypeInFile = true;
        Client rel = new Client(CLIENT).type(RELEASE);
        rel.ciaddr = ip4("10.0.0.5");
        return new ByteBuffer[] {d.build(), dt.build(), r.build(), renew.build(), inform.build(), overload.build(),
                rel.build(), DhcpTestFrames.arpRequest(CLIENT, ip4("10.0.0.5"), serverIp, -1),
                DhcpTestFrames.arpRequest(CLIENT, ip4("10.0.0.5"), serverIp, 9)};
    }

    private static long mac(ByteBuffer b, int at) {
        return ((b.getInt(at) & 0xFFFF_FFFFL) << 16) | (b.getShort(at + 4) & 0xFFFF);
    }
}
