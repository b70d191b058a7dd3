package org.vl2.agent.internal;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;


/**
 * The switch endpoint as configured: {@code host:port} or {@code host} (a default port), where host is an IPv4
 * address, a DNS name, or an IPv6 address in brackets ({@code [2001:db8::7]:9990}). Immutable. Parsing never resolves names: a DNS name
 * is resolved when the agent connects, and again when it reconnects.
 *
 * @param host    the host as written (IPv6 without brackets)
 * @param port    the UDP port, 1..65535
 * @param literal the address when {@code host} is an IP address, {@code null} for a DNS name
 */
record SwitchAddress(String host, int port, InetAddress literal) {

    /** What a valid value looks like when the port may be left out, for error messages. */
    static String form(int defaultPort) {
        return "expected host or host:port (port " + defaultPort + " if left out), e.g. 203.0.113.7,"
                + " switch.example.org:" + defaultPort + " or [2001:db8::7]:" + defaultPort;
    }

    /** Resolves a DNS name; the agent's is {@link InetAddress#getByName}, tests substitute their own. */
    @FunctionalInterface
    interface Resolver {
        InetAddress resolve(String host) throws UnknownHostException;
    }

    /**
     * Parses {@code host:port}.
     *
     * @throws IllegalArgumentException whose message says what is wrong with the value, without the value
     *                                  itself and without {@link #form} (the caller adds both)
     */
    static SwitchAddress parse(String text) {
        return parse(text, 0);
    }

    /**
     * Parses {@code host:port}, or {@code host} (an IPv6 address in brackets) meaning {@code defaultPort}. A
     * colon without a port after it is still an error: it looks like a typo.
     *
     * @param defaultPort the port when none is given, 1..65535; 0 = a port is required
     * @throws IllegalArgumentException as {@link #parse(String)}
     */
    static SwitchAddress parse(String text, int defaultPort) {
        String s = text == null ? "" : text.trim();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("missing");
        }
        String host;
        String portText;
        InetAddress literal;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("'[' without ']'");
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (rest.isEmpty() && defaultPort > 0) {
                return new SwitchAddress(host, defaultPort, ipv6(host));
            }
            if (rest.isEmpty() || rest.equals(":")) {
                throw new IllegalArgumentException("no port");
            }
            if (rest.charAt(0) != ':') {
                throw new IllegalArgumentException("expected ':' and a port after ']'");
            }
            portText = rest.substring(1);
            literal = ipv6(host);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0 && defaultPort > 0) {
                InetAddress a = isDigitsAndDots(s) ? ipv4(s) : null;
                if (a == null) {
                    checkHostName(s);
                }
                return new SwitchAddress(s, defaultPort, a);
            }
            if (colon < 0 || colon == s.length() - 1) {
                throw new IllegalArgumentException("no port");
            }
            if (s.indexOf(':') != colon) {
                throw new IllegalArgumentException("an IPv6 address needs brackets: [address]:port");
            }
            host = s.substring(0, colon);
            portText = s.substring(colon + 1);
            if (host.isEmpty()) {
                throw new IllegalArgumentException("no host");
            }
            literal = isDigitsAndDots(host) ? ipv4(host) : null;
            if (literal == null) {
                checkHostName(host);
            }
        }
        return new SwitchAddress(host, port(portText), literal);
    }

    /** True for a DNS name (re-resolved on reconnect), false for an IP address. */
    boolean isName() {
        return literal == null;
    }

    /** The address to send to: the literal, or the name resolved now. */
    InetSocketAddress resolve(Resolver resolver) throws UnknownHostException {
        InetAddress a = literal != null ? literal : resolver.resolve(host);
        if (a == null) {
            throw new UnknownHostException(host);
        }
        return new InetSocketAddress(a, port);
    }

    /** As configured, normalised: {@code host:port}, IPv6 in brackets. */
    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }

    private static int port(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("no port");
        }
        if (text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("port '" + text + "' is not a number");
        }
        int port = Integer.parseInt(text);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range (1..65535)");
        }
        return port;
    }

    private static boolean isDigitsAndDots(String s) {
        return s.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.');
    }

    /** A dotted quad, strictly: four decimal octets without leading zeros (which inet_aton reads as octal). */
    private static InetAddress ipv4(String host) {
        String[] parts = host.split("\\.", -1);
        byte[] octets = new byte[4];
        boolean ok = parts.length == 4;
        for (int i = 0; ok && i < 4; i++) {
            String p = parts[i];
            ok = !p.isEmpty() && p.length() <= 3 && !(p.length() > 1 && p.charAt(0) == '0')
                    && Integer.parseInt(p) <= 255;
            if (ok) {
                octets[i] = (byte) Integer.parseInt(p);
            }
        }
        if (!ok) {
            throw new IllegalArgumentException("'" + host + "' is not an IPv4 address");
        }
        try {
            return InetAddress.getByAddress(octets);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen: 4 octets
        }
    }

    /**
     * An IPv6 literal, optionally with a zone ({@code fe80::1%eth0}). Only hex digits, ':' and '.' before the
     * zone: then {@link InetAddress#getByName} takes it as a literal and never asks DNS.
     */
    private static InetAddress ipv6(String host) {
        int zone = host.indexOf('%');
        String address = zone < 0 ? host : host.substring(0, zone);
        boolean ok = address.indexOf(':') >= 0
                && address.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')
                && (zone < 0 || (zone < host.length() - 1 && host.substring(zone + 1).chars()
                        .allMatch(c -> Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.')));
        if (ok) {
            try {
                InetAddress a = InetAddress.getByName(host);
                if (a instanceof Inet6Address || zone < 0) {
                    return a; // an IPv4-mapped literal comes back as its IPv4 address: fine
                }
            } catch (UnknownHostException e) {
                if (zone >= 0) {
                    throw new IllegalArgumentException("'" + host + "': no interface " + host.substring(zone + 1)
                            + " for the zone");
                }
            }
        }
        throw new IllegalArgumentException("'" + host + "' is not an IPv6 address");
    }

    /** RFC 1123 host name: dot-separated labels of letters, digits, '-' (and '_', seen in the wild). */
    private static void checkHostName(String host) {
        String h = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        boolean ok = !h.isEmpty() && h.length() <= 253;
        for (String label : h.split("\\.", -1)) {
            ok = ok && !label.isEmpty() && label.length() <= 63 && label.charAt(0) != '-'
                    && label.charAt(label.length() - 1) != '-'
                    && label.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                            || (c >= '0' && c <= '9') || c == '-' || c == '_');
        }
        if (!ok) {
            throw new IllegalArgumentException("'" + host + "' is not a host name or address");
        }
    }
}
