package org.vl2.ipam;

import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.MacAddress;

import static org.vl2.ipam.DhcpFrames.u16;
import static org.vl2.ipam.DhcpFrames.u32;
import static org.vl2.ipam.DhcpOptions.BOOTP_FIXED;
import static org.vl2.ipam.DhcpOptions.MALFORMED;
import static org.vl2.ipam.DhcpOptions.NOT_FOUND;
import static org.vl2.ipam.DhcpOptions.OPT_END;
import static org.vl2.ipam.DhcpOptions.option;
import static org.vl2.ipam.DhcpOptions.scan;

/**
 * A DHCPv4 server (RFC 2131/2132) for one network, answering from a {@link LeaseTable}, and the ARP responder
 * for its own address ({@link Ipv4Pool#serverAddress()}).
 *
 * <p>The switch calls {@link #handle} for every frame entering the network, so the path for frames that are
 * not DHCP or ARP for this server reads a few bytes at absolute positions and allocates nothing. Thread-safe:
 * {@code handle} keeps no state between calls but the counters and the lease table.
 *
 * <p>DHCP clients are keyed {@code mac:<chaddr>} in the lease table (the client identifier, option 61, is not
 * used), and chaddr must be the frame's source MAC ({@link #REFUSED}): a lease belongs to the station that asked. An offer reserves its address for {@value #OFFER_HOLD_SECONDS} s so that two clients discovering at
 * once are not offered the same one; the ACK leases it for the full lease time.
 */
public final class DhcpServer {

    /** The frame is not for the server: forward it as usual. */
    public static final int NOT_MINE = 0;
    /** A reply was written to {@code out}: send it back to the port the frame came from. */
    public static final int REPLY = 1;
    /** The frame was for the server (or a DHCP message for another server's offer) and needs no reply. */
    public static final int CONSUMED = 2;
    /**
     * A DHCP request whose client hardware address (chaddr) is not the frame's source MAC: refused, counted
     * ({@link #spoofed()}); drop the frame. A client asks for itself; a request naming another MAC would let one
     * host take (or release, or decline) the leases of others, or exhaust the pool with invented MACs.
     */
    public static final int REFUSED = 3;

    /** Smallest {@code out} buffer {@link #handle} accepts: the largest reply it writes, rounded up. */
    public static final int MIN_OUT_CAPACITY = 512;

    static final int OFFER_HOLD_SECONDS = 30;
    /** How long a declined address (in use by a host that did not ask us) is kept out of offers. */
    static final Duration DECLINE_HOLD = Duration.ofMinutes(10);
    static final int MAX_DNS = 16;

    private static final Logger LOG = LoggerFactory.getLogger(DhcpServer.class);
    private static final Duration OFFER_HOLD = Duration.ofSeconds(OFFER_HOLD_SECONDS);

    private static final int ETH_IPV4 = 0x0800;
    private static final int ETH_ARP = 0x0806;
    private static final int ETH_VLAN = 0x8100;
    private static final int BOOTP_MIN = 300;       // RFC 951 size that old clients and relays expect
    private static final int MAGIC_COOKIE = 0x63825363;
    private static final int SERVER_PORT = 67;
    private static final int CLIENT_PORT = 68;

    private static final int DISCOVER = 1;
    private static final int OFFER = 2;
    private static final int REQUEST = 3;
    private static final int DECLINE = 4;
    private static final int ACK = 5;
    private static final int NAK = 6;
    private static final int RELEASE = 7;
    private static final int INFORM = 8;

    private static final int OPT_REQUESTED_IP = 50;
    private static final int OPT_OVERLOAD = 52;
    private static final int OPT_MESSAGE_TYPE = 53;
    private static final int OPT_SERVER_ID = 54;

    private static final byte[] ZEROS = new byte[BOOTP_MIN];
    private static final long LOG_INTERVAL_MILLIS = 60_000;

    private final LeaseTable leases;
    private final Ipv4Pool pool;
    private final long serverMac;
    private final int server;
    private final Duration leaseTime;
    /** Options after 53 in an OFFER or ACK of a lease: 54, 51, 58, 59, 1, 28, 26, 3?, 6?. */
    private final byte[] leaseOptions;
    /** Options after 53 in the ACK of an INFORM: no lease times. */
    private final byte[] informOptions;
    /** Options after 53 in a NAK: only the server id. */
    private final byte[] nakOptions;

    private final LongAdder offers = new LongAdder();
    private final LongAdder acks = new LongAdder();
    private final LongAdder naks = new LongAdder();
    private final LongAdder malformed = new LongAdder();
    private final LongAdder spoofed = new LongAdder();
    private final AtomicLong lastExhaustedLog = new AtomicLong();

    /**
     * @param serverMac the MAC the server answers from (unicast; the switch picks a locally administered one)
     * @param mtu       the network's IP MTU, sent as option 26 (68..65535)
     * @param leaseTime how long an ACKed lease lasts, 1 minute or more (for example 1 hour)
     * @param router    default gateway for the clients (option 3), a host of the pool's subnet; null for none
     * @param dns       DNS servers (option 6); null or empty for none
     * @throws IllegalArgumentException naming the bad value and what was expected
     */
    public DhcpServer(LeaseTable leases, MacAddress serverMac, int mtu, Duration leaseTime, Inet4Address router,
                      List<Inet4Address> dns) {
        if (leases == null) {
            throw new IllegalArgumentException("lease table is missing");
        }
        if (serverMac == null || serverMac.isMulticast() || serverMac.isZero()) {
            throw new IllegalArgumentException("DHCP server MAC " + serverMac + " is not valid (expected a unicast MAC)");
        }
        if (mtu < 68 || mtu > 65535) {
            throw new IllegalArgumentException("MTU " + mtu + " is not valid (expected 68..65535)");
        }
        if (leaseTime == null || leaseTime.getSeconds() < 60 || leaseTime.getSeconds() > 0xFFFF_FFFEL) {
            throw new IllegalArgumentException("DHCP lease time " + leaseTime
                    + " is not valid (expected 1 minute up to 136 years, for example PT1H)");
        }
        Ipv4Pool p = leases.pool();
        if (router != null && !p.inSubnet(router)) {
            throw new IllegalArgumentException("router " + router.getHostAddress() + " is not valid (expected a host of "
                    + p.cidr() + ")");
        }
        List<Inet4Address> dnsList = dns == null ? new ArrayList<>() : new ArrayList<>(dns);
        if (dnsList.size() > MAX_DNS || dnsList.contains(null)) {
            throw new IllegalArgumentException("DNS servers " + dns + " are not valid (expected at most " + MAX_DNS
                    + " IPv4 addresses)");
        }
        this.leases = leases;
        this.pool = p;
        this.serverMac = serverMac.toLong();
        this.server = p.serverInt();
        this.leaseTime = leaseTime;

        long secs = leaseTime.getSeconds();
        DhcpOptions.Writer common = new DhcpOptions.Writer()
                .u32(1, p.maskInt())
                .u32(28, p.broadcastInt())
                .u16(26, mtu);
        if (router != null) {
            common.u32(3, Ipv4Pool.toInt(router));
        }
        if (!dnsList.isEmpty()) {
            common.addresses(6, dnsList);
        }
        byte[] commonBytes = common.bytes();
        this.leaseOptions = new DhcpOptions.Writer()
                .u32(OPT_SERVER_ID, server)
                .u32(51, (int) secs)
                .u32(58, (int) (secs / 2))             // T1: renew at half the lease (RFC 2131 4.4.5)
                .u32(59, (int) (secs * 7 / 8))         // T2: rebind at 7/8
                .raw(commonBytes).bytes();
        this.informOptions = new DhcpOptions.Writer().u32(OPT_SERVER_ID, server).raw(commonBytes).bytes();
        this.nakOptions = new DhcpOptions.Writer().u32(OPT_SERVER_ID, server).bytes();
    }

    /**
     * Handles one frame entering the network. A reply is never longer than the frame it answers (padding stops at
     * the request's length, so the server cannot amplify traffic towards a spoofed sender), except a DHCP reply to a
     * request whose BOOTP message is shorter than the reply's options need (clients send at least 300 bytes).
     *
     * @param frame an Ethernet frame between position and limit, untagged or with one 802.1Q tag (a reply keeps
     *              the tag); position and limit are left unchanged
     * @param out   where a reply frame is written: cleared, filled from 0, flipped; at least
     *              {@link #MIN_OUT_CAPACITY} bytes
     * @return {@link #REPLY} (send {@code out} back to the sender), {@link #CONSUMED} (drop the frame),
     *         {@link #REFUSED} (drop the frame: chaddr is not its source) or {@link #NOT_MINE} (everything else,
     *         including malformed DHCP); never throws for any frame content
     * @throws IllegalArgumentException if a reply is due and {@code out} is too small (a caller bug)
     */
    public int handle(ByteBuffer frame, ByteBuffer out) {
        final ByteBuffer f = frame;
        final int base = f.position();
        final int lim = f.limit();
        if (lim - base < 14) {
            return NOT_MINE;
        }
        int type = u16(f, base + 12);
        int l3 = base + 14;
        if (type == ETH_VLAN) {
            if (lim - base < 18) {
                return NOT_MINE;
            }
            type = u16(f, base + 16);
            l3 = base + 18;
        }
        if (type == ETH_ARP) {
            return arp(f, base, l3, lim, out);
        }
        int l4 = type == ETH_IPV4 ? DhcpFrames.toServerPort(f, l3, lim) : -1;
        if (l4 < 0) {
            return NOT_MINE;
        }
        int dst = u32(f, l3 + 16);
        if (dst != -1 && dst != server) {
            return NOT_MINE; // unicast to another DHCP server
        }
        return dhcp(f, base, l3, l4, lim, out);
    }

    private int dhcp(ByteBuffer f, int base, int l3, int l4, int lim, ByteBuffer out) {
        int ihl = (f.get(l3) & 0x0F) * 4;
        int totalLen = u16(f, l3 + 2);
        int udpLen = u16(f, l4 + 4);
        int bp = l4 + 8;
        if (totalLen < ihl + 8 || totalLen > lim - l3 || udpLen < 8 + BOOTP_FIXED + 4 || udpLen > totalLen - ihl) {
            return countMalformed();
        }
        int end = l4 + udpLen;
        if (f.get(bp) != 1 || f.get(bp + 1) != 1 || f.get(bp + 2) != 6 || u32(f, bp + BOOTP_FIXED) != MAGIC_COOKIE) {
            return countMalformed(); // not a BOOTREQUEST from an Ethernet client, or plain BOOTP
        }
        int overload = scan(f, bp + BOOTP_FIXED + 4, end, OPT_OVERLOAD);
        if (overload == MALFORMED) {
            return countMalformed();
        }
        int overloaded = overload == NOT_FOUND || f.get(overload) != 1 ? 0 : f.get(overload + 1) & 3;
        if ((overloaded & 1) != 0 && scan(f, bp + 108, bp + BOOTP_FIXED, OPT_END) == MALFORMED
                || (overloaded & 2) != 0 && scan(f, bp + 44, bp + 108, OPT_END) == MALFORMED) {
            return countMalformed();
        }
        int mt = option(f, bp, end, overloaded, OPT_MESSAGE_TYPE, 1);
        long mac = ((u32(f, bp + 28) & 0xFFFF_FFFFL) << 16) | u16(f, bp + 32);
        if (mt < 0 || mac == 0 || MacAddress.isMulticast(mac)) {
            return countMalformed();
        }
        int msgType = f.get(mt) & 0xFF;
        if (msgType != DISCOVER && msgType != REQUEST && msgType != DECLINE && msgType != RELEASE
                && msgType != INFORM) {
            return NOT_MINE; // a server message (another server on the network) or an extension we don't serve
        }
        if (mac != (((u32(f, base + 6) & 0xFFFF_FFFFL) << 16) | u16(f, base + 10))) {
            spoofed.increment();
            return REFUSED; // asks for another station: see REFUSED
        }
        int req = option(f, bp, end, overloaded, OPT_REQUESTED_IP, 4);
        int sid = option(f, bp, end, overloaded, OPT_SERVER_ID, 4);
        if (req == MALFORMED || sid == MALFORMED) {
            return countMalformed();
        }
        if (out.capacity() < MIN_OUT_CAPACITY) {
            throw new IllegalArgumentException("reply buffer has " + out.capacity() + " bytes (expected at least "
                    + MIN_OUT_CAPACITY + ")");
        }
        if (sid >= 0 && u32(f, sid) != server) {
            return CONSUMED; // the client chose (or talks to) another server
        }
        String key = "mac:" + MacAddress.toString(mac);
        int requested = req >= 0 ? u32(f, req) : 0;
        int ciaddr = u32(f, bp + 12);
        switch (msgType) {
            case DISCOVER:
                return discover(f, base, l3, bp, out, key, requested);
            case REQUEST:
                return request(f, base, l3, bp, out, key, requested != 0 ? requested : ciaddr);
            case INFORM:
                acks.increment();
                return reply(f, base, l3, bp, out, ACK, 0, ciaddr, informOptions, false);
            case RELEASE:
                release(key, ciaddr);
                return CONSUMED;
            default:
                decline(key, requested);
                return CONSUMED;
        }
    }

    private int discover(ByteBuffer f, int base, int l3, int bp, ByteBuffer out, String key, int requested) {
        Inet4Address offered = null;
        Optional<Lease> current = leases.current(key);
        long holdUntil = leases.clock().millis() + OFFER_HOLD.toMillis();
        if (current.isPresent() && (requested == 0 || Ipv4Pool.toInt(current.get().address()) == requested)
                && (current.get().expires() == null || current.get().expires().toEpochMilli() >= holdUntil)) {
            offered = current.get().address(); // held long enough already: no need to shorten it or write the file
        }
        if (offered == null && requested != 0 && pool.inRange(requested)) {
            try {
                offered = leases.reserve(key, Ipv4Pool.toAddress(requested), OFFER_HOLD);
            } catch (AddressConflictException e) {
                // taken: offer another one
            }
        }
        if (offered == null) {
            try {
                offered = leases.reserve(key, null, OFFER_HOLD);
            } catch (AddressConflictException e) {
                long now = System.currentTimeMillis();
                long last = lastExhaustedLog.get();
                if (now - last >= LOG_INTERVAL_MILLIS && lastExhaustedLog.compareAndSet(last, now)) {
                    LOG.warn("No DHCP offer for {}: {}", key, e.getMessage());
                }
                return CONSUMED;
            }
        }
        offers.increment();
        LOG.debug("DHCPOFFER {} to {}", offered.getHostAddress(), key);
        return reply(f, base, l3, bp, out, OFFER, Ipv4Pool.toInt(offered), 0, leaseOptions, false);
    }

    private int request(ByteBuffer f, int base, int l3, int bp, ByteBuffer out, String key, int wanted) {
        // SELECTING and INIT-REBOOT name the address in option 50, RENEWING and REBINDING in ciaddr.
        if (wanted != 0 && pool.isHost(wanted)) {
            Optional<Lease> current = leases.current(key);
            boolean own = current.isPresent() && Ipv4Pool.toInt(current.get().address()) == wanted;
            if (own || pool.inRange(wanted)) {
                try {
                    leases.lease(key, Ipv4Pool.toAddress(wanted), leaseTime);
                    acks.increment();
                    LOG.debug("DHCPACK {} to {}", Ipv4Pool.format(wanted), key);
                    return reply(f, base, l3, bp, out, ACK, wanted, u32(f, bp + 12), leaseOptions, false);
                } catch (AddressConflictException e) {
                    // leased to another client: NAK below
                }
            }
        }
        naks.increment();
        LOG.debug("DHCPNAK {} to {}", Ipv4Pool.format(wanted), key);
        return reply(f, base, l3, bp, out, NAK, 0, 0, nakOptions, true);
    }

    private void release(String key, int ciaddr) {
        Optional<Lease> current = leases.current(key);
        if (current.isPresent() && Ipv4Pool.toInt(current.get().address()) == ciaddr) {
            leases.release(key);
            LOG.debug("DHCPRELEASE {} by {}", Ipv4Pool.format(ciaddr), key);
        }
    }

    /** The client found its address in use (ARP): keep that address out of offers for a while. */
    private void decline(String key, int address) {
        if (address == 0) {
            return;
        }
        Optional<Lease> current = leases.current(key);
        if (current.isPresent() && Ipv4Pool.toInt(current.get().address()) == address) {
            leases.release(key);
        }
        if (pool.inRange(address)) {
            try {
                leases.lease("declined:" + Ipv4Pool.format(address), Ipv4Pool.toAddress(address), DECLINE_HOLD);
                LOG.info("DHCP client {} declined {}: another host uses it; not offered for {} minutes", key,
                        Ipv4Pool.format(address), DECLINE_HOLD.toMinutes());
            } catch (AddressConflictException e) {
                // already leased to someone else: nothing to mark
            }
        }
    }

    /** Writes a BOOTREPLY from the server to the client of the request at {@code bp}. */
    private int reply(ByteBuffer f, int base, int l3, int bp, ByteBuffer out, int msgType, int yiaddr, int ciaddr,
                      byte[] options, boolean broadcast) {
        out.clear();
        boolean l2Broadcast = broadcast || (f.get(bp + 10) & 0x80) != 0;  // the client's BROADCAST flag
        if (l2Broadcast) {
            putU16(out, 0xFFFF);
            putU32(out, -1);
        } else {
            for (int i = 0; i < 6; i++) {
                out.put(f.get(bp + 28 + i));
            }
        }
        putMac(out, serverMac);
        for (int i = base + 12; i < l3 - 2; i++) {
            out.put(f.get(i)); // the 802.1Q tag, if any, unchanged
        }
        putU16(out, ETH_IPV4);
        int ip = out.position();
        int udp = ip + 20;
        int payload = udp + 8;
        // Padded to the 300 bytes of RFC 1542 (as clients pad their requests), but not beyond the request's BOOTP
        // message: a reply is no longer than a request that has room for its options (no amplification).
        int requestBootp = u16(f, bp - 4) - 8;
        int bootpLen = Math.max(BOOTP_FIXED + 4 + 3 + options.length + 1, Math.min(BOOTP_MIN, requestBootp));
        // IPv4 header: no options, TTL 64, UDP; lengths and checksum below
        putU16(out, 0x4500);
        putU16(out, 20 + 8 + bootpLen);
        putU32(out, 0);
        putU16(out, 64 << 8 | 17);
        putU16(out, 0);
        putU32(out, server);
        putU32(out, -1);
        putU16(out, SERVER_PORT);
        putU16(out, CLIENT_PORT);
        putU16(out, 8 + bootpLen);
        putU16(out, 0);
        // BOOTP
        out.put((byte) 2).put((byte) 1).put((byte) 6).put((byte) 0);
        putU32(out, u32(f, bp + 4));         // xid
        putU16(out, 0);                        // secs
        putU16(out, u16(f, bp + 10));          // flags
        putU32(out, ciaddr);
        putU32(out, yiaddr);
        putU32(out, 0);                        // siaddr: no boot server
        putU32(out, u32(f, bp + 24));        // giaddr
        for (int i = 0; i < 16; i++) {
            out.put(f.get(bp + 28 + i));       // chaddr
        }
        out.put(ZEROS, 0, 64 + 128);           // sname, file
        putU32(out, MAGIC_COOKIE);
        out.put((byte) OPT_MESSAGE_TYPE).put((byte) 1).put((byte) msgType);
        out.put(options);
        out.put((byte) OPT_END);
        int pad = payload + bootpLen - out.position();
        out.put(ZEROS, 0, pad);
        putU16At(out, ip + 10, checksum(out, ip, 20, 0));
        // UDP checksum over the pseudo header (src, dst, protocol, length) and the datagram
        long pseudo = (server >>> 16) + (server & 0xFFFF) + 0xFFFF + 0xFFFF + 17 + 8 + bootpLen;
        int udpSum = checksum(out, udp, 8 + bootpLen, pseudo);
        putU16At(out, udp + 6, udpSum == 0 ? 0xFFFF : udpSum);
        out.flip();
        return REPLY;
    }

    /** Answers an ARP request for the server address. */
    private int arp(ByteBuffer f, int base, int l3, int lim, ByteBuffer out) {
        if (lim - l3 < 28 || u32(f, l3) != 0x0001_0800 || u16(f, l3 + 4) != 0x0604 || u16(f, l3 + 6) != 1
                || u32(f, l3 + 24) != server) {
            return NOT_MINE;
        }
        long sha = ((u32(f, l3 + 8) & 0xFFFF_FFFFL) << 16) | u16(f, l3 + 12);
        if (MacAddress.isMulticast(sha) || sha == 0) {
            return NOT_MINE;
        }
        if (out.capacity() < MIN_OUT_CAPACITY) {
            throw new IllegalArgumentException("reply buffer has " + out.capacity() + " bytes (expected at least "
                    + MIN_OUT_CAPACITY + ")");
        }
        out.clear();
        putMac(out, sha);
        putMac(out, serverMac);
        for (int i = base + 12; i < l3 - 2; i++) {
            out.put(f.get(i));
        }
        putU16(out, ETH_ARP);
        putU32(out, 0x0001_0800);              // Ethernet, IPv4
        putU16(out, 0x0604);                   // address lengths
        putU16(out, 2);                        // reply
        putMac(out, serverMac);
        putU32(out, server);
        putMac(out, sha);
        putU32(out, u32(f, l3 + 14));        // the asker's IP (0.0.0.0 for a probe)
        // Padded towards the 60-byte Ethernet minimum (without FCS; plus any tag), but never beyond the request's
        // length: a reply no longer than its request cannot amplify traffic towards a spoofed sender.
        int min = Math.min(l3 - base + 46, lim - base);
        if (out.position() < min) {
            out.put(ZEROS, 0, min - out.position());
        }
        out.flip();
        return REPLY;
    }

    public long offers() {
        return offers.sum();
    }

    public long acks() {
        return acks.sum();
    }

    public long naks() {
        return naks.sum();
    }

    /** Frames to UDP port 67 of this server that are not a well-formed DHCP request. */
    public long malformed() {
        return malformed.sum();
    }

    /** DHCP requests refused because their client hardware address is not the frame's source MAC. */
    public long spoofed() {
        return spoofed.sum();
    }

    public LeaseTable leases() {
        return leases;
    }

    private int countMalformed() {
        malformed.increment();
        return NOT_MINE;
    }

    /** The Internet checksum (RFC 1071) of {@code len} bytes at {@code from}, starting from {@code sum}. */
    static int checksum(ByteBuffer b, int from, int len, long sum) {
        int i = from;
        int end = from + len;
        for (; i + 1 < end; i += 2) {
            sum += u16(b, i);
        }
        if (i < end) {
            sum += (b.get(i) & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    // Byte-wise access, so that the callers' buffer byte order does not matter.

    private static void putU16At(ByteBuffer b, int i, int v) {
        b.put(i, (byte) (v >>> 8)).put(i + 1, (byte) v);
    }

    private static void putU16(ByteBuffer b, int v) {
        b.put((byte) (v >>> 8)).put((byte) v);
    }

    private static void putU32(ByteBuffer b, int v) {
        b.put((byte) (v >>> 24)).put((byte) (v >>> 16)).put((byte) (v >>> 8)).put((byte) v);
    }

    private static void putMac(ByteBuffer b, long mac) {
        putU16(b, (int) (mac >>> 32));
        putU32(b, (int) mac);
    }
}
