package org.vl2.protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * A managed route of a network (docs/routes.md): {@code destination/prefixLength via gateway metric N}, IPv4 or IPv6,
 * both addresses of one family, the destination's host bits zero. What the switch's network configuration lists
 * ({@code routes}), what a ROUTES message carries and what an agent may install.
 *
 * @param metric the route's preference, lower first (the kernel's priority), 0..2147483647
 */
public record Route(InetAddress destination, int prefixLength, InetAddress gateway, int metric) {

    /** What {@link #parse} takes, for error messages. */
    public static final String SYNTAX = "CIDR via ADDRESS [metric N], e.g. 10.9.0.0/16 via 10.147.17.5 metric 100";

    public Route {
        if (destination == null || gateway == null) {
            throw new IllegalArgumentException("a route needs a destination and a gateway");
        }
        boolean v4 = destination instanceof Inet4Address;
        if (v4 != gateway instanceof Inet4Address) {
            throw new IllegalArgumentException("destination and gateway are of different families");
        }
        if (prefixLength < 0 || prefixLength > bits(v4)) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is not 0.." + bits(v4));
        }
        if (metric < 0) {
            throw new IllegalArgumentException("metric must be 0..2147483647, got " + metric);
        }
        byte[] d = destination.getAddress();
        if (!equals(d, mask(d, prefixLength))) {
            throw new IllegalArgumentException(destination.getHostAddress() + "/" + prefixLength
                    + " has host bits set (the network is " + address(mask(d, prefixLength)).getHostAddress() + "/"
                    + prefixLength + ")");
        }
        if (gateway.isAnyLocalAddress() || gateway.isMulticastAddress() || gateway.isLoopbackAddress()) {
            throw new IllegalArgumentException("gateway " + gateway.getHostAddress() + " is not a unicast address");
        }
    }

    public boolean ipv4() {
        return destination instanceof Inet4Address;
    }

    /** 0.0.0.0/0 or ::/0: everything not routed more specifically (needs accept.default.route on the agent). */
    public boolean isDefault() {
        return prefixLength == 0;
    }

    /** Whether {@code a} is inside this route's destination prefix. */
    public boolean covers(InetAddress a) {
        return a != null && (a instanceof Inet4Address) == ipv4()
                && equals(mask(a.getAddress(), prefixLength), destination.getAddress());
    }

    /** Whether the two prefixes share any address (one contains the other). */
    public static boolean overlaps(InetAddress a, int aLength, InetAddress b, int bLength) {
        if ((a instanceof Inet4Address) != (b instanceof Inet4Address)) {
            return false;
        }
        int shorter = Math.min(aLength, bLength);
        return equals(mask(a.getAddress(), shorter), mask(b.getAddress(), shorter));
    }

    /** {@code 10.9.0.0/16}. */
    public String cidr() {
        return destination.getHostAddress() + "/" + prefixLength;
    }

    /** {@code 10.9.0.0/16 via 10.147.17.5 metric 100}: what {@link #parse} reads back. */
    @Override
    public String toString() {
        return cidr() + " via " + gateway.getHostAddress() + (metric == 0 ? "" : " metric " + metric);
    }

    /**
     * Parses {@value #SYNTAX}. IPv6 addresses in their usual text form ({@code fd00:9::/48 via fd00:147::5}).
     *
     * @throws IllegalArgumentException saying what is wrong, without the whole text (the caller names it)
     */
    public static Route parse(String text) {
        String[] w = text.trim().split("\\s+");
        if (w.length != 3 && w.length != 5 || !w[1].equalsIgnoreCase("via")
                || w.length == 5 && !w[3].equalsIgnoreCase("metric")) {
            throw new IllegalArgumentException("expected " + SYNTAX);
        }
        int slash = w[0].indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("the destination needs a prefix length, e.g. 10.9.0.0/16 (a host: /32"
                    + " or /128)");
        }
        InetAddress destination = literal(w[0].substring(0, slash), "destination");
        int length;
        try {
            length = Integer.parseInt(w[0].substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("prefix length '" + w[0].substring(slash + 1) + "' is not a number");
        }
        InetAddress gateway = literal(w[2], "gateway");
        int metric = 0;
        if (w.length == 5) {
            try {
                metric = Integer.parseInt(w[4]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("metric '" + w[4] + "' is not 0..2147483647");
            }
        }
        return new Route(destination, length, gateway, metric);
    }

    /** An IPv4 or IPv6 literal (never a host name: nothing is resolved). */
    static InetAddress literal(String s, String what) {
        boolean v4 = s.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = !v4 && s.indexOf(':') >= 0 && s.matches("[0-9A-Fa-f:.]+");
        if (!v4 && !v6) {
            throw new IllegalArgumentException(what + " '" + s + "' is not an IPv4 or IPv6 address");
        }
        try {
            InetAddress a = InetAddress.getByName(s);
            if (v6 && a instanceof Inet4Address) {
                // ::ffff:a.b.c.d: the JDK turns it into IPv4; keep the family the text said
                a = Inet6Address.getByAddress(null, mapped(a.getAddress()), -1);
            }
            return a;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(what + " '" + s + "' is not an IPv4 or IPv6 address");
        }
    }

    private static byte[] mapped(byte[] v4) {
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        System.arraycopy(v4, 0, b, 12, 4);
        return b;
    }

    static int bits(boolean v4) {
        return v4 ? 32 : 128;
    }

    static byte[] mask(byte[] a, int length) {
        byte[] m = a.clone();
        for (int i = 0; i < m.length; i++) {
            int keep = Math.max(0, Math.min(8, length - 8 * i));
            m[i] &= (byte) (0xff << (8 - keep));
        }
        return m;
    }

    private static boolean equals(byte[] a, byte[] b) {
        return java.util.Arrays.equals(a, b);
    }

    static InetAddress address(byte[] b) {
        try {
            return b.length == 16 ? Inet6Address.getByAddress(null, b, -1) : InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }

    /** For sorting and display: family, then metric, then destination text. */
    public String sortKey() {
        return (ipv4() ? "4" : "6") + String.format(Locale.ROOT, "%011d", metric) + cidr();
    }
}
