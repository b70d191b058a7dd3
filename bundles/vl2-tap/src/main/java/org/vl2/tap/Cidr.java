package org.vl2.tap;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

import org.vl2.api.Endpoints;

/**
 * An interface address in CIDR form: a host address and the prefix length of its subnet, e.g.
 * {@code 10.1.1.101/24} or {@code fd00::1/64}. Immutable. Parsing never resolves names (no DNS).
 */
public final class Cidr {

    private final InetAddress address;
    private final int prefixLength;

    private Cidr(InetAddress address, int prefixLength) {
        this.address = address;
        this.prefixLength = prefixLength;
    }

    /**
     * From an address and a prefix length (1..32 for IPv4, 1..128 for IPv6). The address must be usable on
     * an interface: not the unspecified address, not multicast, not loopback, not 255.255.255.255.
     *
     * @throws IllegalArgumentException naming the problem
     */
    public static Cidr of(InetAddress address, int prefixLength) {
        if (address == null) {
            throw new IllegalArgumentException("address is missing");
        }
        int max = address instanceof Inet4Address ? 32 : 128;
        if (prefixLength < 1 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length /" + prefixLength + " is out of range (allowed: 1.."
                    + max + ")");
        }
        if (address.isAnyLocalAddress() || address.isMulticastAddress() || address.isLoopbackAddress()
                || isLimitedBroadcast(address)) {
            throw new IllegalArgumentException(address.getHostAddress()
                    + " is not a host address (unspecified, multicast, loopback or broadcast)");
        }
        return new Cidr(address, prefixLength);
    }

    /**
     * Parses {@code a.b.c.d/len} (IPv4) or {@code ipv6-literal/len}.
     *
     * @throws IllegalArgumentException naming the input and the expected form
     */
    public static Cidr parse(String text) {
        String s = text == null ? "" : text.trim();
        return s.indexOf(':') >= 0 ? parseIpv6(text) : parseIpv4(text);
    }

    /**
     * Parses an IPv4 address in CIDR form, e.g. {@code 10.1.1.101/24}.
     *
     * @throws IllegalArgumentException naming the input and the expected form
     */
    public static Cidr parseIpv4(String text) {
        String form = " (expected an IPv4 address and prefix length such as 10.1.1.101/24, prefix 1..32)";
        String s = text == null ? "" : text.trim();
        int slash = s.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + text + "' has no prefix length" + form);
        }
        byte[] octets = new byte[4];
        String[] parts = s.substring(0, slash).split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 address" + form);
        }
        for (int i = 0; i < 4; i++) {
            int v = decimal(parts[i], 3);
            if (v < 0 || v > 255 || (parts[i].length() > 1 && parts[i].charAt(0) == '0')) { // 010: octal to inet_aton
                throw new IllegalArgumentException("'" + text + "' is not an IPv4 address" + form);
            }
            octets[i] = (byte) v;
        }
        int prefix = decimal(s.substring(slash + 1), 2);
        try {
            return of(InetAddress.getByAddress(octets), prefix);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen: 4 octets
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "': " + e.getMessage() + form);
        }
    }

    /**
     * Parses an IPv6 address in CIDR form, e.g. {@code fd00::1/64}. No zone ({@code %eth0}) and no
     * IPv4-mapped addresses.
     *
     * @throws IllegalArgumentException naming the input and the expected form
     */
    public static Cidr parseIpv6(String text) {
        String form = " (expected an IPv6 address and prefix length such as fd00::1/64, prefix 1..128)";
        String s = text == null ? "" : text.trim();
        int slash = s.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + text + "' has no prefix length" + form);
        }
        String literal = s.substring(0, slash);
        // Only hex digits, ':' and '.' (embedded IPv4): then InetAddress takes it as a literal, never as a
        // host name, so there is no DNS lookup.
        boolean ok = literal.indexOf(':') >= 0;
        for (int i = 0; ok && i < literal.length(); i++) {
            char c = literal.charAt(i);
            ok = Character.digit(c, 16) >= 0 || c == ':' || c == '.';
        }
        InetAddress address = null;
        if (ok) {
            try {
                address = InetAddress.getByName(literal);
            } catch (UnknownHostException e) {
                address = null;
            }
        }
        if (!(address instanceof Inet6Address)) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv6 address" + form);
        }
        int prefix = decimal(s.substring(slash + 1), 3);
        try {
            return of(address, prefix);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "': " + e.getMessage() + form);
        }
    }

    private static boolean isLimitedBroadcast(InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == 4 && (b[0] & b[1] & b[2] & b[3]) == (byte) 0xFF;
    }

    /** Non-negative decimal of 1..maxDigits digits, or -1. */
    private static int decimal(String s, int maxDigits) {
        if (s.isEmpty() || s.length() > maxDigits) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    public InetAddress address() {
        return address;
    }

    public int prefixLength() {
        return prefixLength;
    }

    public boolean isIpv6() {
        return address instanceof Inet6Address;
    }

    /** The subnet mask as an IPv4 address in an int (network order bits), e.g. 0xffffff00 for /24. */
    public int ipv4Netmask() {
        if (isIpv6()) {
            throw new IllegalStateException("not an IPv4 address: " + this);
        }
        return (int) (0xFFFF_FFFF_0000_0000L >>> prefixLength);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr && ((Cidr) o).address.equals(address) && ((Cidr) o).prefixLength == prefixLength;
    }

    @Override
    public int hashCode() {
        return address.hashCode() * 31 + prefixLength;
    }

    /** {@code 10.1.1.101/24}, {@code fd00::1/64} (IPv6 in the RFC 5952 form {@code ip} prints). */
    @Override
    public String toString() {
        return Endpoints.format(address) + "/" + prefixLength;
    }
}
