package org.vl2.ipam;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IPv4 subnet with the range of addresses that may be leased in it. Immutable.
 *
 * <p>The subnet's last usable host (for example .254 of a /24) is the server address: the switch's DHCP server
 * answers from it, so it is never leased, not even when an explicit range covers it.
 */
public final class Ipv4Pool {

    private static final String CIDR_EXAMPLE = "10.147.17.0/24";
    private static final String RANGE_EXAMPLE = "10.147.17.10-10.147.17.200";
    private static final int MIN_PREFIX = 8;
    private static final int MAX_PREFIX = 30;

    // Addresses as unsigned 32-bit ints in host order; compare with Integer.compareUnsigned.
    private final int network;
    private final int prefixLength;
    private final int first;
    private final int last;

    private Ipv4Pool(int network, int prefixLength, int first, int last) {
        this.network = network;
        this.prefixLength = prefixLength;
        this.first = first;
        this.last = last;
    }

    /**
     * @param cidr  the subnet, such as {@code 10.147.17.0/24}: prefix length 8..30, host bits zero
     * @param range optional (null or blank: every host address except the server address), such as
     *              {@code 10.147.17.10-10.147.17.200}: usable host addresses of the subnet, first &lt;= last
     * @throws IllegalArgumentException naming the bad value and what was expected
     */
    public static Ipv4Pool parse(String cidr, String range) {
        if (cidr == null || cidr.isBlank()) {
            throw new IllegalArgumentException("IPv4 pool is missing (expected a CIDR such as " + CIDR_EXAMPLE + ")");
        }
        String c = cidr.trim();
        int slash = c.indexOf('/');
        long address = slash < 0 ? -1 : parseAddress(c.substring(0, slash));
        int prefix = slash < 0 ? -1 : parsePrefix(c.substring(slash + 1));
        if (address < 0 || prefix < 0) {
            throw new IllegalArgumentException("not an IPv4 CIDR: '" + cidr
                    + "' (expected a network address and prefix length such as " + CIDR_EXAMPLE + ")");
        }
        if (prefix < MIN_PREFIX || prefix > MAX_PREFIX) {
            throw new IllegalArgumentException("prefix length /" + prefix + " of '" + cidr + "' is not supported"
                    + " (expected /" + MIN_PREFIX + " to /" + MAX_PREFIX
                    + ": a pool needs a network, a broadcast and a server address, and at least one to lease)");
        }
        int mask = maskOf(prefix);
        int net = (int) address & mask;
        if (net != (int) address) {
            throw new IllegalArgumentException("'" + cidr + "' has host bits set (expected the network address: "
                    + format(net) + "/" + prefix + ")");
        }
        int broadcast = net | ~mask;
        int server = broadcast - 1;
        if (range == null || range.isBlank()) {
            return new Ipv4Pool(net, prefix, net + 1, server - 1);
        }
        String r = range.trim();
        int dash = r.indexOf('-');
        long lo = dash < 0 ? -1 : parseAddress(r.substring(0, dash).trim());
        long hi = dash < 0 ? -1 : parseAddress(r.substring(dash + 1).trim());
        if (lo < 0 || hi < 0) {
            throw new IllegalArgumentException("not an IPv4 range: '" + range
                    + "' (expected first-last such as " + RANGE_EXAMPLE + ")");
        }
        Ipv4Pool pool = new Ipv4Pool(net, prefix, (int) lo, (int) hi);
        String hosts = format(net + 1) + "-" + format(broadcast - 1);
        for (long a : new long[] {lo, hi}) {
            if (!pool.isHost((int) a)) {
                throw new IllegalArgumentException("range '" + range + "': " + format((int) a)
                        + " is not a host address of " + net(net, prefix) + " (expected addresses within " + hosts + ")");
            }
        }
        if (lo > hi) {
            throw new IllegalArgumentException("range '" + range + "' is reversed (expected first <= last)");
        }
        if (lo == hi && lo == (server & 0xFFFF_FFFFL)) {
            throw new IllegalArgumentException("range '" + range + "' holds no address to lease: " + format(server)
                    + " is the server address of " + net(net, prefix) + " (expected a range within "
                    + format(net + 1) + "-" + format(server - 1) + ")");
        }
        return pool;
    }

    public Inet4Address network() {
        return toAddress(network);
    }

    public int prefixLength() {
        return prefixLength;
    }

    public Inet4Address netmask() {
        return toAddress(maskOf(prefixLength));
    }

    public Inet4Address broadcast() {
        return toAddress(broadcastInt());
    }

    /** The subnet's last usable host: the DHCP server's address, never leased. */
    public Inet4Address serverAddress() {
        return toAddress(serverInt());
    }

    /** Whether {@code a} is a usable host address of the subnet (not the network or broadcast address). */
    public boolean inSubnet(Inet4Address a) {
        return a != null && isHost(toInt(a));
    }

    /** Whether {@code a} is in the lease range (the server address never is). */
    public boolean inRange(Inet4Address a) {
        return a != null && inRange(toInt(a));
    }

    /** How many addresses of the range can be leased. */
    public int rangeSize() {
        int size = last - first + 1;
        return inRangeBounds(serverInt()) ? size - 1 : size;
    }

    /** For example {@code 10.147.17.0/24 (range 10.147.17.1-10.147.17.253)}. */
    @Override
    public String toString() {
        return cidr() + " (range " + format(first) + "-" + format(last) + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Ipv4Pool p && p.network == network && p.prefixLength == prefixLength
                && p.first == first && p.last == last;
    }

    @Override
    public int hashCode() {
        return ((network * 31 + prefixLength) * 31 + first) * 31 + last;
    }

    // --- int forms, for LeaseTable and DhcpServer (no objects per frame) ---

    /** The subnet as {@code 10.147.17.0/24}. */
    String cidr() {
        return net(network, prefixLength);
    }

    int networkInt() {
        return network;
    }

    int maskInt() {
        return maskOf(prefixLength);
    }

    int broadcastInt() {
        return network | ~maskOf(prefixLength);
    }

    int serverInt() {
        return broadcastInt() - 1;
    }

    int firstInt() {
        return first;
    }

    int lastInt() {
        return last;
    }

    boolean isHost(int a) {
        return (a & maskOf(prefixLength)) == network && a != network && a != broadcastInt();
    }

    boolean inRange(int a) {
        return inRangeBounds(a) && a != serverInt();
    }

    private boolean inRangeBounds(int a) {
        return Integer.compareUnsigned(a, first) >= 0 && Integer.compareUnsigned(a, last) <= 0;
    }

    private static int maskOf(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    private static String net(int network, int prefix) {
        return format(network) + "/" + prefix;
    }

    private static int parsePrefix(String s) {
        if (s.isEmpty() || s.length() > 2) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < '0' || ch > '9') {
                return -1;
            }
            v = v * 10 + (ch - '0');
        }
        return v <= 32 ? v : -1;
    }

    /**
     * Parses a dotted quad strictly (four decimal octets; no DNS lookup, unlike InetAddress.getByName).
     *
     * @return the address as an unsigned value, or -1 if {@code s} is not a dotted quad
     */
    static long parseAddress(String s) {
        if (s == null) {
            return -1;
        }
        long v = 0;
        int octets = 0;
        int i = 0;
        int n = s.length();
        while (octets < 4) {
            int start = i;
            int octet = 0;
            while (i < n && i - start < 3 && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                octet = octet * 10 + (s.charAt(i) - '0');
                i++;
            }
            if (i == start || octet > 255) {
                return -1;
            }
            v = (v << 8) | octet;
            octets++;
            if (octets < 4) {
                if (i >= n || s.charAt(i) != '.') {
                    return -1;
                }
                i++;
            }
        }
        return i == n ? v : -1;
    }

    static String format(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + "." + (a & 0xFF);
    }

    static int toInt(Inet4Address a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    static Inet4Address toAddress(int a) {
        try {
            return (Inet4Address) InetAddress.getByAddress(
                    new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
        } catch (UnknownHostException e) {
            throw new AssertionError("4 octets are always an IPv4 address", e);
        }
    }
}
