package org.vl2.switching.internal;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.vl2.api.Networks;
import org.vl2.ipam.Ipv4Pool;
import org.vl2.protocol.Route;
import org.vl2.protocol.Routes;

/**
 * A validated network definition. The default network (id 0, sealed) and the raw network
 * ({@link Networks#RAW}, open to plaintext) have built-in settings until a configuration with their id replaces
 * them.
 *
 * @param policy forwarding policy name, or null for the switch's
 * @param pool   IPv4 pool, or null
 * @param ipv6   the /64 prefix (host bits zero), or null
 * @param hygiene per-port DHCP rate and IPv4 source guard
 * @param plaintext configured open to plaintext (raw, VXLAN, plaintext joins); see {@link #openToPlaintext}
 * @param routes  the managed routes configured (docs/routes.md); which are in force is {@link Network#routes()}
 */
public record NetworkSettings(long id, String name, int mtu, String policy, Ipv4Pool pool, Inet6Address ipv6,
                       boolean dhcp, Duration leaseTime, Inet4Address gateway, List<Inet4Address> dns,
                       boolean privateNetwork, java.util.Set<String> members, HygieneSettings hygiene,
                       boolean plaintext, List<Route> routes) {

    static final int DEFAULT_MTU = 1400;
    private static final Pattern POLICY = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern NAME = Pattern.compile("[\\p{L}\\p{N}][\\p{L}\\p{N} ._-]{0,62}");

    public NetworkSettings {
        dns = List.copyOf(dns);
        members = java.util.Set.copyOf(members);
        routes = List.copyOf(routes);
    }

    /** Without routes (tests). */
    NetworkSettings(long id, String name, int mtu, String policy, Ipv4Pool pool, Inet6Address ipv6, boolean dhcp,
                    Duration leaseTime, Inet4Address gateway, List<Inet4Address> dns, boolean privateNetwork,
                    java.util.Set<String> members, HygieneSettings hygiene, boolean plaintext) {
        this(id, name, mtu, policy, pool, ipv6, dhcp, leaseTime, gateway, dns, privateNetwork, members, hygiene,
                plaintext, List.of());
    }

    /** A public sealed network (tests). */
    NetworkSettings(long id, String name, int mtu, String policy, Ipv4Pool pool, Inet6Address ipv6, boolean dhcp,
                    Duration leaseTime, Inet4Address gateway, List<Inet4Address> dns) {
        this(id, name, mtu, policy, pool, ipv6, dhcp, leaseTime, gateway, dns, false, java.util.Set.of());
    }

    /** A sealed network (tests). */
    NetworkSettings(long id, String name, int mtu, String policy, Ipv4Pool pool, Inet6Address ipv6, boolean dhcp,
                    Duration leaseTime, Inet4Address gateway, List<Inet4Address> dns, boolean privateNetwork,
                    java.util.Set<String> members) {
        this(id, name, mtu, policy, pool, ipv6, dhcp, leaseTime, gateway, dns, privateNetwork, members,
                HygieneSettings.DEFAULTS, false);
    }

    /** A sealed network with its hygiene settings (tests). */
    NetworkSettings(long id, String name, int mtu, String policy, Ipv4Pool pool, Inet6Address ipv6, boolean dhcp,
                    Duration leaseTime, Inet4Address gateway, List<Inet4Address> dns, boolean privateNetwork,
                    java.util.Set<String> members, HygieneSettings hygiene) {
        this(id, name, mtu, policy, pool, ipv6, dhcp, leaseTime, gateway, dns, privateNetwork, members, hygiene, false);
    }

    NetworkSettings withMembers(java.util.Set<String> next) {
        return new NetworkSettings(id, name, mtu, policy, pool, ipv6, dhcp, leaseTime, gateway, dns, privateNetwork,
                next, hygiene, plaintext, routes);
    }

    NetworkSettings withPlaintext(boolean open) {
        return new NetworkSettings(id, name, mtu, policy, pool, ipv6, dhcp, leaseTime, gateway, dns, privateNetwork,
                members, hygiene, open, routes);
    }

    /** The built-in settings of network {@code id}: the default network (sealed) or the raw network (plaintext). */
    static NetworkSettings builtIn(long id) {
        boolean raw = id == Networks.RAW;
        return new NetworkSettings(id, raw ? "raw" : "default", DEFAULT_MTU, null, null, null, false,
                Duration.ofHours(1), null, List.of(), false, java.util.Set.of(), HygieneSettings.DEFAULTS, raw,
                List.of());
    }

    /** Whether {@code id} has built-in settings (a network that exists without a configuration). */
    static boolean hasBuiltIn(long id) {
        return id == Networks.DEFAULT || id == Networks.RAW;
    }

    /**
     * Whether ports without an identity may be in this network: raw ports, VXLAN VTEPs, plaintext vl2 joins. Only
     * when configured {@code plaintext} and not private: a private network admits listed encrypted members only.
     */
    public boolean openToPlaintext() {
        return plaintext && !privateNetwork;
    }

    /** How operators see who may be a port: sealed, plaintext or private (vl2:networks). */
    String access() {
        return privateNetwork ? org.vl2.api.NetworkInfo.PRIVATE : plaintext ? org.vl2.api.NetworkInfo.PLAINTEXT
                : org.vl2.api.NetworkInfo.SEALED;
    }

    /**
     * @param pid the configuration's PID, for messages
     * @throws IllegalArgumentException naming the PID, property, value and what is allowed
     */
    static NetworkSettings from(NetworkConfig c, String pid) {
        long id;
        if (c.id() == null || c.id().isBlank()) {
            throw invalid(pid, "id", "''", "set: 1 to 16 hex digits, e.g. 8056c2e21c000001");
        }
        try {
            id = Networks.parse(c.id());
        } catch (IllegalArgumentException e) {
            throw invalid(pid, "id", quote(c.id()), "1 to 16 hex digits, e.g. 8056c2e21c000001");
        }
        String name = trim(c.name());
        if (name.isEmpty()) {
            name = hasBuiltIn(id) ? builtIn(id).name() : Networks.format(id);
        } else if (!NAME.matcher(name).matches()) {
            throw invalid(pid, "name", quote(c.name()), "letters, digits, space, '.', '_' or '-', up to 63");
        }
        if (c.mtu() < 576 || c.mtu() > 9000) {
            throw invalid(pid, "mtu", c.mtu(), "576..9000");
        }
        String policy = trim(c.policy());
        if (!policy.isEmpty() && !POLICY.matcher(policy).matches()) {
            throw invalid(pid, "policy", quote(c.policy()), "empty (the switch's) or a policy name such as 'hub'");
        }
        Ipv4Pool pool = null;
        String cidr = trim(c.ipv4_pool());
        String range = trim(c.ipv4_range());
        if (!cidr.isEmpty()) {
            try {
                pool = Ipv4Pool.parse(cidr, range.isEmpty() ? null : range);
            } catch (IllegalArgumentException e) {
                throw new org.vl2.api.InvalidSettingException("ipv4.pool", "Invalid configuration " + pid + ": ipv4.pool=" + cidr
                        + (range.isEmpty() ? "" : ", ipv4.range=" + range) + ": " + e.getMessage());
            }
        } else if (!range.isEmpty()) {
            throw invalid(pid, "ipv4.range", range, "empty unless ipv4.pool is set");
        }
        Inet6Address ipv6 = ipv6Prefix(pid, trim(c.ipv6_prefix()));
        if (c.dhcp_lease_seconds() < 60 || c.dhcp_lease_seconds() > 31_536_000L) {
            throw invalid(pid, "dhcp.lease.seconds", c.dhcp_lease_seconds(), "60..31536000");
        }
        Inet4Address gateway = null;
        if (!trim(c.ipv4_gateway()).isEmpty()) {
            gateway = ipv4(pid, "ipv4.gateway", c.ipv4_gateway());
            if (pool != null && !pool.inSubnet(gateway)) {
                throw invalid(pid, "ipv4.gateway", c.ipv4_gateway(), "an address inside ipv4.pool " + cidr);
            }
        }
        List<Inet4Address> dns = new ArrayList<>();
        if (c.dns() != null) {
            for (String entry : c.dns()) {
                for (String d : entry.split(",")) {
                    if (!d.isBlank()) {
                        dns.add(ipv4(pid, "dns", d));
                    }
                }
            }
        }
        java.util.Set<String> members = new java.util.LinkedHashSet<>();
        if (c.members() != null) {
            for (String entry : c.members()) {
                for (String m : entry.split("[,\\s]+")) {
                    if (!m.isBlank()) {
                        members.add(member(pid, m.trim()));
                    }
                }
            }
        }
        if (c.private$() && c.plaintext()) {
            throw invalid(pid, "plaintext", true, "false on a private network: ports without an identity cannot be "
                    + "authorized; set private=false to open the network to plaintext");
        }
        return new NetworkSettings(id, name, c.mtu(), policy.isEmpty() ? null : policy, pool, ipv6,
                c.dhcp() && pool != null, Duration.ofSeconds(c.dhcp_lease_seconds()), gateway, dns, c.private$(),
                members, HygieneSettings.from(c, pid, pool != null), c.plaintext(),
                routes(pid, c.routes(), pool, ipv6));
    }

    /**
     * The {@code routes} entries: each {@value Route#SYNTAX}, the gateway inside the network (ipv4.pool's subnet,
     * ipv6.prefix), no duplicates, at most {@value Routes#MAX_ROUTES}.
     *
     * @throws IllegalArgumentException naming the entry and what is wrong
     */
    static List<Route> routes(String pid, String[] entries, Ipv4Pool pool, Inet6Address ipv6) {
        List<Route> routes = new ArrayList<>();
        if (entries == null) {
            return routes;
        }
        for (String entry : entries) {
            for (String text : entry.split(",")) {
                if (text.isBlank()) {
                    continue;
                }
                Route r;
                try {
                    r = Route.parse(text);
                } catch (IllegalArgumentException e) {
                    throw invalid(pid, "routes", quote(text.trim()), Route.SYNTAX + "; " + e.getMessage());
                }
                String gw = r.gateway().getHostAddress();
                if (r.ipv4() && pool == null || !r.ipv4() && ipv6 == null) {
                    throw invalid(pid, "routes", quote(text.trim()), "a gateway inside the network: the network has no "
                            + (r.ipv4() ? "ipv4.pool" : "ipv6.prefix") + " for " + gw);
                }
                if (r.ipv4() ? !pool.inSubnet((Inet4Address) r.gateway())
                        : !Route.overlaps(r.gateway(), 128, ipv6, 64)) {
                    throw invalid(pid, "routes", quote(text.trim()), "a gateway inside the network: " + gw
                            + " is outside " + (r.ipv4() ? "ipv4.pool " + pool : "ipv6.prefix "
                            + ipv6.getHostAddress() + "/64"));
                }
                for (Route other : routes) {
                    if (other.destination().equals(r.destination()) && other.prefixLength() == r.prefixLength()
                            && other.gateway().equals(r.gateway())) {
                        throw invalid(pid, "routes", quote(text.trim()), "listed once: " + r.cidr() + " via " + gw
                                + " is already there");
                    }
                }
                routes.add(r);
            }
        }
        if (routes.size() > Routes.MAX_ROUTES) {
            throw invalid(pid, "routes", routes.size() + " routes", "at most " + Routes.MAX_ROUTES);
        }
        return routes;
    }

    /**
     * A member as configured: a public key (normalised to its base64 fingerprint) or a member id (16 hex digits).
     *
     * @throws IllegalArgumentException naming the value
     */
    static String member(String pid, String text) {
        if (text.matches("[0-9a-fA-F]{16}")) {
            return text.toLowerCase(java.util.Locale.ROOT);
        }
        try {
            return org.vl2.crypto.Identity.fingerprint(org.vl2.crypto.Identity.parsePublicKey(text));
        } catch (IllegalArgumentException e) {
            throw invalid(pid, "members", "'" + text + "'", "public keys (44 base64 characters) or member ids (16 hex "
                    + "digits)");
        }
    }

    private static Inet6Address ipv6Prefix(String pid, String text) {
        if (text.isEmpty()) {
            return null;
        }
        int slash = text.indexOf('/');
        String why = "an IPv6 /64 prefix such as fd00:147::/64";
        if (slash < 0 || !text.substring(slash + 1).equals("64") || text.indexOf(':') < 0) {
            throw invalid(pid, "ipv6.prefix", text, why);
        }
        try {
            InetAddress a = InetAddress.getByName(text.substring(0, slash));
            if (!(a instanceof Inet6Address)) {
                throw invalid(pid, "ipv6.prefix", text, why);
            }
            byte[] b = a.getAddress();
            for (int i = 8; i < 16; i++) {
                if (b[i] != 0) {
                    throw invalid(pid, "ipv6.prefix", text, why + " with the host half zero");
                }
            }
            return (Inet6Address) a;
        } catch (UnknownHostException e) {
            throw invalid(pid, "ipv6.prefix", text, why);
        }
    }

    private static Inet4Address ipv4(String pid, String property, String text) {
        String t = text.trim();
        if (!t.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw invalid(pid, property, quote(text), "an IPv4 address such as 10.147.17.1");
        }
        try {
            return (Inet4Address) InetAddress.getByName(t);
        } catch (UnknownHostException | ClassCastException e) {
            throw invalid(pid, property, quote(text), "an IPv4 address such as 10.147.17.1");
        }
    }

    /** Whether a member may be on this network: any member of a public network; listed ones of a private one. */
    public boolean authorizes(byte[] key, long member) {
        if (!privateNetwork) {
            return true;
        }
        // a plaintext join proves nothing about who sends it: never on a private network
        return key != null && (members.contains(org.vl2.crypto.Identity.fingerprint(key))
                || members.contains(org.vl2.crypto.Identity.formatMemberId(member)));
    }

    /** The member's IPv6 address: prefix + 64-bit member id; null without a prefix. */
    public Inet6Address ipv6For(long member) {
        if (ipv6 == null) {
            return null;
        }
        byte[] b = ipv6.getAddress();
        for (int i = 0; i < 8; i++) {
            b[15 - i] = (byte) (member >>> (8 * i));
        }
        try {
            return (Inet6Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 16 bytes are always an address
        }
    }

    public String describe() {
        return Networks.format(id) + " '" + name + "' (mtu " + mtu + (policy == null ? "" : ", policy " + policy)
                + (pool == null ? "" : ", pool " + pool) + (ipv6 == null ? "" : ", ipv6 "
                + ipv6.getHostAddress() + "/64") + (dhcp ? ", dhcp" : "") + (privateNetwork ? ", private, "
                + members.size() + " members" : plaintext ? ", plaintext" : ", sealed") + (hygiene.ipGuard() ? ", ip guard"
                : "") + (routes.isEmpty() ? "" : ", " + routes.size() + " routes") + ")";
    }

    private static String trim(String s) {
        return s == null ? "" : s.trim();
    }

    private static String quote(String s) {
        return "'" + s + "'";
    }

    private static IllegalArgumentException invalid(String pid, String property, Object value, String allowed) {
        return new org.vl2.api.InvalidSettingException(property, "Invalid configuration " + pid + ": " + property + "=" + value
                + " (must be " + allowed + ")");
    }
}
