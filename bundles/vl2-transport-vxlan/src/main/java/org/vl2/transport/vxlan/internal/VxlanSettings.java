package org.vl2.transport.vxlan.internal;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.vl2.api.Endpoints;
import org.vl2.api.Networks;
import org.vl2.netio.DatagramEndpoint;
import org.vl2.protocol.VxlanHeader;

/**
 * A validated {@link VxlanTransportConfig}: everything but the sockets is checked here, so an invalid configuration
 * is refused before anything changes. Every error names the property and the bad value.
 *
 * @param bind       local address and VXLAN port
 * @param vnis       VNI <-> network
 * @param remotes    static remote VTEPs, in configuration order
 * @param staticVtep the static remotes' addresses by IP (a VTEP has one port), for {@link VtepCache}
 * @param allowedVteps source addresses accepted ({@code allowed.vteps} and the static remotes); empty: any
 * @param batch      datagrams per system call ({@code io.batch}; 0: one, through Java NIO)
 * @param offload    UDP GSO/GRO with batches ({@code io.offload})
 */
record VxlanSettings(InetSocketAddress bind, VniMap vnis, List<Remote> remotes,
                     Map<InetAddress, InetSocketAddress> staticVtep, Set<InetAddress> allowedVteps,
                     int sourcePortMin, int sourcePortMax,
                     int receiveBufferBytes, int sendBufferBytes, int batch, boolean offload) {

    static final int MAX_SOURCE_PORTS = 64;

    /** A static remote VTEP: a permanent port of the switch. */
    record Remote(int vni, long network, InetSocketAddress address) {
    }

    int port() {
        return bind.getPort();
    }

    int sourcePorts() {
        return sourcePortMax - sourcePortMin + 1;
    }

    /** Whether the sockets of {@code other} can be kept as they are for these settings. */
    boolean sameSockets(VxlanSettings other) {
        return bind.equals(other.bind) && sourcePortMin == other.sourcePortMin && sourcePortMax == other.sourcePortMax
                && batch == other.batch && offload == other.offload;
    }

    static VxlanSettings of(VxlanTransportConfig config) {
        if (config.port() < 1 || config.port() > 65535) {
            throw invalid("port=" + config.port() + " (must be 1..65535)");
        }
        if (config.receive_buffer_bytes() < 65536) {
            throw invalid("receive.buffer.bytes=" + config.receive_buffer_bytes() + " (must be at least 65536)");
        }
        if (config.send_buffer_bytes() < 65536) {
            throw invalid("send.buffer.bytes=" + config.send_buffer_bytes() + " (must be at least 65536)");
        }
        if (config.io_batch() < 0 || config.io_batch() > DatagramEndpoint.MAX_BATCH) {
            throw invalid("io.batch=" + config.io_batch() + " (must be 0.." + DatagramEndpoint.MAX_BATCH
                    + "; 0: one datagram per system call)");
        }
        InetSocketAddress bind = new InetSocketAddress(bindAddress(config.bind_address()), config.port());
        int[] range = sourcePortRange(config.source_port_range(), config.port());
        VniMap vnis = vniMap(config.vni());
        List<Remote> remotes = remotes(config.remotes(), config.port(), vnis, bind.getAddress());
        Map<InetAddress, InetSocketAddress> byIp = new HashMap<>();
        for (Remote r : remotes) {
            InetSocketAddress before = byIp.putIfAbsent(r.address().getAddress(), r.address());
            if (before != null && before.getPort() != r.address().getPort()) {
                throw invalid("remotes: " + Endpoints.format(r.address().getAddress()) + " is given with ports "
                        + before.getPort() + " and " + r.address().getPort()
                        + " (a VTEP has one VXLAN port: use the same for all its VNIs)");
            }
        }
        Set<InetAddress> allowed = new HashSet<>();
        for (String entry : entries(config.allowed_vteps())) {
            allowed.add(vtepAddress(entry));
        }
        if (!allowed.isEmpty()) {
            allowed.addAll(byIp.keySet()); // a configured remote is trusted by configuration already
        }
        return new VxlanSettings(bind, vnis, List.copyOf(remotes), Map.copyOf(byIp), Set.copyOf(allowed), range[0],
                range[1],
                config.receive_buffer_bytes(), config.send_buffer_bytes(), config.io_batch(), config.io_offload());
    }

    /** An entry of allowed.vteps: one unicast address (IPv6 with or without brackets). */
    private static InetAddress vtepAddress(String entry) {
        String host = entry.startsWith("[") && entry.endsWith("]") ? entry.substring(1, entry.length() - 1) : entry;
        String what = "allowed.vteps=" + entry;
        if (!host.matches("\\d{1,3}(\\.\\d{1,3}){3}") && !(host.indexOf(':') >= 0 && host.matches("[0-9A-Fa-f:.]+"))) {
            throw invalid(what + " (expected an IPv4 or IPv6 address, e.g. 192.0.2.10)");
        }
        InetAddress ip;
        try {
            ip = InetAddress.getByName(host); // a literal: no name lookup
        } catch (UnknownHostException | RuntimeException e) {
            throw invalid(what + " (expected an IPv4 or IPv6 address, e.g. 192.0.2.10)");
        }
        if (ip.isAnyLocalAddress() || ip.isMulticastAddress()) {
            throw invalid(what + " (a VTEP has a unicast address)");
        }
        return ip;
    }

    private static InetAddress bindAddress(String text) {
        String host = text == null ? "" : text.trim();
        try {
            if (host.isEmpty()) {
                throw new UnknownHostException("empty");
            }
            return InetAddress.getByName(host);
        } catch (UnknownHostException | RuntimeException e) {
            throw invalid("bind.address=" + text + " (not an address of this host: " + e.getMessage() + ")");
        }
    }

    private static int[] sourcePortRange(String text, int port) {
        String s = text == null ? "" : text.trim();
        String what = "source.port.range=" + text;
        int dash = s.indexOf('-');
        int min;
        int max;
        try {
            min = Integer.parseInt((dash < 0 ? s : s.substring(0, dash)).trim());
            max = dash < 0 ? min : Integer.parseInt(s.substring(dash + 1).trim());
        } catch (NumberFormatException e) {
            throw invalid(what + " (expected MIN-MAX, e.g. 49152-49167)");
        }
        if (min < 1 || max > 65535 || min > max) {
            throw invalid(what + " (expected MIN-MAX with 1 <= MIN <= MAX <= 65535)");
        }
        if (max - min + 1 > MAX_SOURCE_PORTS) {
            throw invalid(what + " (" + (max - min + 1) + " ports; at most " + MAX_SOURCE_PORTS + ")");
        }
        if (port >= min && port <= max) {
            throw invalid(what + " (contains the VXLAN port " + port + ", which the receive socket holds)");
        }
        return new int[] {min, max};
    }

    /** Splits the entries of a multi-valued property: one per value, or several separated by commas. */
    private static List<String> entries(String[] values) {
        List<String> out = new ArrayList<>();
        if (values != null) {
            for (String v : values) {
                for (String e : (v == null ? "" : v).split(",")) {
                    if (!e.isBlank()) {
                        out.add(e.trim());
                    }
                }
            }
        }
        return out;
    }

    private static VniMap vniMap(String[] values) {
        List<String> entries = entries(values);
        if (entries.isEmpty()) {
            return VniMap.none();
        }
        Map<Integer, String> vniSeen = new HashMap<>();
        Map<Long, String> networkSeen = new LinkedHashMap<>();
        int[] vnis = new int[entries.size()];
        long[] networks = new long[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            String entry = entries.get(i);
            int eq = entry.indexOf('=');
            if (eq < 0) {
                throw invalid("vni=" + entry + " (expected VNI=NETWORK, e.g. 42=2a)");
            }
            vnis[i] = vni(entry.substring(0, eq), "vni=" + entry);
            try {
                networks[i] = Networks.parse(entry.substring(eq + 1));
            } catch (IllegalArgumentException e) {
                throw invalid("vni=" + entry + " (" + e.getMessage() + ")");
            }
            String before = vniSeen.putIfAbsent(vnis[i], entry);
            if (before != null) {
                throw invalid("vni=" + entry + " (VNI " + vnis[i] + " is already mapped by " + before + ")");
            }
            before = networkSeen.putIfAbsent(networks[i], entry);
            if (before != null) {
                throw invalid("vni=" + entry + " (network " + Networks.format(networks[i]) + " already has a VNI: "
                        + before + "; the mapping must be one-to-one)");
            }
        }
        return VniMap.of(vnis, networks);
    }

    private static int vni(String text, String what) {
        int vni;
        try {
            vni = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw invalid(what + " (VNI must be a decimal number " + VxlanHeader.MIN_VNI + ".." + VxlanHeader.MAX_VNI
                    + ")");
        }
        if (vni < VxlanHeader.MIN_VNI || vni > VxlanHeader.MAX_VNI) {
            throw invalid(what + " (VNI must be " + VxlanHeader.MIN_VNI + ".." + VxlanHeader.MAX_VNI + ")");
        }
        return vni;
    }

    private static List<Remote> remotes(String[] values, int defaultPort, VniMap vnis, InetAddress bind) {
        List<Remote> out = new ArrayList<>();
        Set<Remote> seen = new HashSet<>();
        for (String entry : entries(values)) {
            String what = "remotes=" + entry;
            int eq = entry.indexOf('=');
            if (eq < 0) {
                throw invalid(what + " (expected VNI=host[:port], e.g. 42=192.0.2.10 or 42=[2001:db8::10]:4789)");
            }
            int vni = vni(entry.substring(0, eq), what);
            if (!vnis.mapsVni(vni)) {
                throw invalid(what + " (VNI " + vni + " is not mapped to a network in 'vni')");
            }
            InetSocketAddress address = hostPort(entry.substring(eq + 1).trim(), defaultPort, what);
            InetAddress ip = address.getAddress();
            if (ip instanceof Inet6Address && bind instanceof Inet4Address) {
                throw invalid(what + " (an IPv6 VTEP needs an IPv6 bind.address such as ::, not "
                        + bind.getHostAddress() + ")");
            }
            if (ip instanceof Inet4Address && bind instanceof Inet6Address && !bind.isAnyLocalAddress()) {
                throw invalid(what + " (an IPv4 VTEP needs an IPv4 bind.address or ::, not " + bind.getHostAddress()
                        + ")");
            }
            Remote r = new Remote(vni, vnis.network(vni), address);
            if (!seen.add(r)) {
                throw invalid(what + " (listed twice)");
            }
            out.add(r);
        }
        return out;
    }

    /** {@code host}, {@code host:port}, {@code [v6]}, {@code [v6]:port} or a bare IPv6 address (no port). */
    private static InetSocketAddress hostPort(String s, int defaultPort, String what) {
        String host;
        String port = null;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw invalid(what + " (missing ']')");
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw invalid(what + " (expected ':port' after ']')");
                }
                port = rest.substring(1);
            }
        } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
            host = s.substring(0, s.indexOf(':'));
            port = s.substring(s.indexOf(':') + 1);
        } else {
            host = s;
        }
        int p = defaultPort;
        if (port != null) {
            try {
                p = Integer.parseInt(port.trim());
            } catch (NumberFormatException e) {
                p = -1;
            }
            if (p < 1 || p > 65535) {
                throw invalid(what + " (port must be 1..65535)");
            }
        }
        if (host.isBlank()) {
            throw invalid(what + " (no host)");
        }
        InetAddress ip;
        try {
            ip = InetAddress.getByName(host.trim());
        } catch (UnknownHostException | RuntimeException e) {
            throw invalid(what + " (unknown host: " + e.getMessage() + ")");
        }
        if (ip.isAnyLocalAddress() || ip.isMulticastAddress()) {
            throw invalid(what + " (a remote VTEP needs a unicast address)");
        }
        return new InetSocketAddress(ip, p);
    }

    static IllegalArgumentException invalid(String what) {
        return new IllegalArgumentException("Invalid configuration " + VxlanTransport.PID + ": " + what);
    }

    /** For logs. */
    String describe() {
        StringBuilder sb = new StringBuilder("VNIs ").append(vnis).append("; ");
        if (!allowedVteps.isEmpty()) {
            List<String> ips = new ArrayList<>();
            for (InetAddress a : allowedVteps) {
                ips.add(Endpoints.format(a));
            }
            java.util.Collections.sort(ips);
            sb.append("VTEPs only from ").append(String.join(", ", ips)).append("; ");
        }
        if (remotes.isEmpty()) {
            sb.append("no static remotes");
        } else {
            sb.append("static remotes ");
            for (int i = 0; i < remotes.size(); i++) {
                Remote r = remotes.get(i);
                sb.append(i == 0 ? "" : ", ").append(r.vni()).append('=').append(Endpoints.format(r.address()));
            }
        }
        return sb.append("; source ports ").append(sourcePortMin).append('-').append(sourcePortMax).toString();
    }
}
