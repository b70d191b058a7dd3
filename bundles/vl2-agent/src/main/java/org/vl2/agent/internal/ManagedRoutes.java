package org.vl2.agent.internal;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.AgentRoutes;
import org.vl2.api.Endpoints;
import org.vl2.protocol.Route;
import org.vl2.protocol.Routes;
import org.vl2.tap.Cidr;
import org.vl2.tap.KernelRoute;
import org.vl2.tap.Routing;
import org.vl2.tap.TapException;

/**
 * The network's managed routes on this host (docs/routes.md): what the switch pushes (ROUTES) becomes kernel routes
 * through the TAP device, installed with rtnetlink ({@link Routing}), only as far as the agent is allowed
 * ({@code accept.routes}, {@code accept.default.route}) and safe:
 * <ul>
 * <li>a default route is installed as two halves (0.0.0.0/1 + 128.0.0.0/1, ::/1 + 8000::/1), after a host route to
 * the switch's address through the path the kernel takes to it now ("the pin", as seed 002 does by hand). The halves
 * are more specific than any default route, so the host's own default route stays untouched (nothing to restore, no
 * fight with a DHCP client that renews it) and the pin, a /32 or /128, is more specific still;</li>
 * <li>refused, with the reason in the log and the status: a specific route that covers the switch's address (it
 * would cut the agent off), one that lies inside a directly connected network of another interface (it would take
 * over that LAN), one whose gateway is not on the TAP device's subnet;</li>
 * <li>a route whose gateway is this agent's own address is skipped: this host is that gateway.</li>
 * </ul>
 * Every change is written to the {@link RouteJournal} first, so a crash leaves a record the next start undoes; a
 * withdrawn route goes at once, and all of them when the agent stops. Runs on the control thread (and the stopping
 * thread), synchronized.
 */
final class ManagedRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(ManagedRoutes.class);
    private static final int LOCAL_TABLE = 255;

    private final Routing routing;
    private final boolean acceptRoutes;
    private final boolean acceptDefault;
    private final TapPort tap;
    private final Supplier<List<InetAddress>> switchAddresses;
    private final RouteJournal journal;
    private final String tag;
    /** Gateway mode: forwarding on the interface a route this agent is the gateway of leaves through; else null. */
    private final java.util.function.Consumer<String> forwardOn;

    private Routes offered;
    /** Set by {@link #stop}: for good (the agent stops or halted), nothing is installed after it. */
    private boolean stopped;
    private long held;
    /** The underlay peers the last {@link #apply} pinned for (what {@link #recheck} compares with). */
    private List<InetAddress> peers = List.of();
    /** Installed (or being installed), by journal line: pins first, in the order they went in. */
    private final Map<String, KernelRoute> installed = new LinkedHashMap<>();
    /** Which of them are pins (host routes to the switch), not routes the switch pushed. */
    private final java.util.Set<String> pinKeys = new java.util.HashSet<>();
    private volatile String status = "no routes from the switch yet";
    private volatile View view;
    private String logged;

    ManagedRoutes(Routing routing, boolean acceptRoutes, boolean acceptDefault, TapPort tap,
                  Supplier<List<InetAddress>> switchAddresses, RouteJournal journal, String tag) {
        this(routing, acceptRoutes, acceptDefault, tap, switchAddresses, journal, tag, null);
    }

    ManagedRoutes(Routing routing, boolean acceptRoutes, boolean acceptDefault, TapPort tap,
                  Supplier<List<InetAddress>> switchAddresses, RouteJournal journal, String tag,
                  java.util.function.Consumer<String> forwardOn) {
        this.forwardOn = forwardOn;
        this.routing = routing;
        this.acceptRoutes = acceptRoutes;
        this.acceptDefault = acceptDefault;
        this.tap = tap;
        this.switchAddresses = switchAddresses;
        this.journal = journal;
        this.tag = tag;
    }

    /** One line for vl2:agent. */
    String status() {
        return status;
    }

    /**
     * Undoes the routes a previous instance recorded and did not remove (it crashed or was killed): before this
     * instance changes anything. Routes through a TAP device that is gone are gone with it (ESRCH, fine).
     */
    static void cleanUp(Routing routing, RouteJournal journal, String tag) {
        List<String> left;
        try {
            left = journal.leftovers();
        } catch (IOException e) {
            LOG.warn("{}Port agent: cannot read {} ({}): routes a previous run left are not removed", tag,
                    journal.file(), e.toString());
            return;
        }
        List<String> routes = new ArrayList<>(left.stream().filter(l -> l.startsWith("route ")).toList());
        java.util.Collections.reverse(routes); // the halves before the pins they rely on
        int removed = 0;
        for (String line : routes) {
            try {
                if (routing != null && routing.delete(parse(line))) {
                    removed++;
                }
            } catch (TapException | RuntimeException e) {
                LOG.warn("{}Port agent: cannot remove the route a previous run left ({}): {}", tag, line,
                        e.getMessage());
            }
        }
        if (!routes.isEmpty()) {
            LOG.info("{}Port agent: removed {} of {} routes a previous run left (it did not stop cleanly)", tag,
                    removed, routes.size());
        }
        long host = left.stream().filter(l -> l.startsWith("sysctl ") || l.startsWith("nft ")).count();
        int undone = GatewayMode.undo(left, journal, tag); // a gateway's sysctls and nftables table
        if (host > 0) {
            LOG.info("{}Port agent: undid {} of {} gateway changes a previous run left (sysctls, nftables table; it "
                    + "did not stop cleanly)", tag, undone, host);
        }
        try {
            journal.clear();
        } catch (IOException e) {
            LOG.warn("{}Port agent: cannot delete {}: {}", tag, journal.file(), e.toString());
        }
    }

    /** A ROUTES opened under the session: applied if newer than what the agent holds. Returns whether it was. */
    synchronized boolean offer(Routes r) {
        if (stopped) {
            return false; // a ROUTES the control thread took while the agent stopped: nothing goes in again
        }
        if (!Routes.newer(r.version(), held)) {
            return false;
        }
        held = r.version();
        offered = r;
        apply();
        return true;
    }

    /**
     * Control thread, each tick: when the underlay peers changed (the link moved to another address of the switch,
     * to TCP through a proxy, or back), the routes are applied again: a default route through the overlay pins the
     * new peers (through the path the host had to them) and drops the pins it no longer needs.
     */
    synchronized void recheck() {
        if (offered == null) {
            return; // nothing pushed (or stopped): no peers to look up, this runs every control round
        }
        List<InetAddress> now = switchAddresses.get();
        // none (between two sockets): the pins stay as they are until there is a peer to compare
        if (!now.isEmpty() && !now.equals(peers)) {
            apply();
        }
    }

    /** The TAP device was re-created (the kernel dropped its routes with it): install again. */
    synchronized void tapRecreated() {
        if (stopped) {
            return;
        }
        for (String key : new ArrayList<>(installed.keySet())) {
            if (!pinKeys.contains(key)) {
                installed.remove(key); // the kernel removed the ones through the old device
                try {
                    journal.remove(key);
                } catch (IOException e) {
                    LOG.warn("{}Port agent: cannot update {}: {}", tag, journal.file(), e.toString());
                }
            }
        }
        if (offered != null) {
            apply();
        }
    }

    /** Stopping: every route removed (halves before pins), each struck from the journal (gateway mode has its own). */
    synchronized void stop() {
        stopped = true;
        offered = null;
        withdrawAll();
        view = null;
        status = "stopped: its routes removed";
    }

    private void withdrawAll() {
        List<String> keys = new ArrayList<>(installed.keySet());
        java.util.Collections.reverse(keys);
        for (String key : keys) {
            remove(key);
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    private void apply() {
        peers = List.copyOf(switchAddresses.get());
        // why each route the switch pushed is not in the kernel (identity: the same route may come twice)
        Map<Route, String> why = new IdentityHashMap<>();
        int oif;
        try {
            oif = routing.ifindex(tap.device().name());
        } catch (TapException e) {
            oif = 0;
        }
        if (oif == 0) {
            for (Route r : offered.routes()) {
                why.put(r, "the TAP device " + tap.device().name() + " is missing");
            }
            report(oif, why);
            return;
        }
        Map<String, KernelRoute> want = new LinkedHashMap<>();
        // which pushed route each kernel route comes from
        Map<String, Route> origin = new HashMap<>();
        List<KernelRoute> halves = new ArrayList<>();
        for (Route r : offered.routes()) {
            Cidr own = r.ipv4() ? tap.device().settings().ipv4() : tap.device().settings().ipv6();
            if (own != null && own.address().equals(r.gateway())) {
                served(r, oif);
            }
            String no = refusal(r, oif);
            if (no != null) {
                why.put(r, no);
            } else if (r.isDefault()) {
                for (KernelRoute half : halves(r, oif)) {
                    halves.add(half);
                    origin.put(line(half), r);
                }
            } else {
                KernelRoute k = KernelRoute.of(r.destination(), r.prefixLength(), r.gateway(), oif, r.metric());
                want.put(line(k), k);
                origin.put(line(k), r);
            }
        }
        // the pins go in first: the switch stays reachable the way it is now, whatever the halves say
        Map<String, KernelRoute> pins = new LinkedHashMap<>();
        for (boolean v4 : new boolean[] {true, false}) {
            if (halves.stream().noneMatch(h -> h.ipv4() == v4)) {
                continue;
            }
            String no = pins(v4, oif, pins);
            if (no != null) {
                unpinned(v4, no, halves, origin, why);
            }
        }
        Map<String, KernelRoute> all = new LinkedHashMap<>(pins);
        all.putAll(want);
        for (KernelRoute h : halves) {
            all.put(line(h), h);
        }
        List<String> keys = new ArrayList<>(installed.keySet());
        java.util.Collections.reverse(keys);
        for (String key : keys) {
            if (!all.containsKey(key)) {
                remove(key);
            }
        }
        for (Map.Entry<String, KernelRoute> e : all.entrySet()) {
            KernelRoute k = e.getValue();
            Route from = origin.get(e.getKey());
            if (installed.containsKey(e.getKey()) || from != null && why.containsKey(from)) {
                continue; // there already, or its route failed on the way (its pin, its other half)
            }
            boolean pin = pins.containsKey(e.getKey());
            if (pin) {
                pinKeys.add(e.getKey());
            }
            String failed = add(e.getKey(), k);
            if (failed == null) {
                continue;
            }
            if (pin) {
                // no halves without the pin: they would take the agent's own path to the switch into the overlay
                pinKeys.remove(e.getKey());
                unpinned(k.ipv4(), k + ": " + failed, halves, origin, why);
            } else {
                why.putIfAbsent(from, k + ": " + failed);
                for (Map.Entry<String, Route> o : origin.entrySet()) {
                    if (o.getValue() == from && installed.containsKey(o.getKey())) {
                        remove(o.getKey()); // a default route goes in whole or not at all
                    }
                }
            }
        }
        report(oif, why);
    }

    /**
     * The default routes of one family cannot be pinned (reason {@code no}): their halves are not installed, and
     * those already in go.
     */
    private void unpinned(boolean v4, String no, List<KernelRoute> halves, Map<String, Route> origin,
                          Map<Route, String> why) {
        for (KernelRoute h : halves) {
            if (h.ipv4() == v4) {
                why.putIfAbsent(origin.get(line(h)), no);
                if (installed.containsKey(line(h))) {
                    remove(line(h));
                }
            }
        }
    }

    /**
     * This agent is the gateway of {@code r}: in gateway mode, forwarding also on the interface {@code r}'s
     * destination is reached through here (the LAN of seed 004: the replies come in there), found as the kernel
     * routes it now (for a default route, the host's own default route). IPv4 only: gateway mode switches IPv4
     * forwarding per interface, IPv6 forwarding is the operator's (and a host without an IPv6 default route has the
     * kernel's unreachable ::/0 through lo, which is no uplink).
     */
    private void served(Route r, int oif) {
        if (forwardOn == null || !r.ipv4()) {
            return;
        }
        try {
            int out = 0;
            if (r.isDefault()) {
                int best = Integer.MAX_VALUE;
                for (KernelRoute k : routing.routes(r.ipv4())) {
                    if (k.prefixLength() == 0 && k.protocol() != KernelRoute.PROTO_VL2 && k.metric() < best) {
                        best = k.metric();
                        out = k.ifindex();
                    }
                }
            } else {
                KernelRoute k = routing.lookup(r.destination());
                out = k == null ? 0 : k.ifindex();
            }
            String name = out == 0 || out == oif ? null : GatewayMode.ifname(out);
            if (name != null) {
                forwardOn.accept(name);
            }
        } catch (TapException e) {
            LOG.warn("{}Port agent: cannot find where {} leaves this host: {}", tag, r.cidr(), e.getMessage());
        }
    }

    /** Why route {@code r} is not installed, or null if it may be. */
    private String refusal(Route r, int oif) {
        Cidr own = r.ipv4() ? tap.device().settings().ipv4() : tap.device().settings().ipv6();
        if (own != null && own.address().equals(r.gateway())) {
            return "this agent is the gateway";
        }
        if (r.isDefault() ? !acceptDefault : !acceptRoutes) {
            return "not accepted (" + (r.isDefault() ? "accept.default.route, --accept-default-route"
                    : "accept.routes, --accept-routes") + " is off)";
        }
        if (own == null) {
            return "the TAP device has no " + (r.ipv4() ? "IPv4" : "IPv6") + " address";
        }
        if (!Route.overlaps(r.gateway(), r.ipv4() ? 32 : 128, own.address(), own.prefixLength())) {
            return "gateway " + Endpoints.format(r.gateway()) + " is not on " + tap.device().name() + "'s subnet "
                    + own;
        }
        if (Route.overlaps(r.destination(), r.prefixLength(), own.address(), own.prefixLength())
                && r.prefixLength() >= own.prefixLength()) {
            return "inside " + tap.device().name() + "'s own subnet " + own;
        }
        if (!r.isDefault()) {
            for (InetAddress s : peers) {
                if (r.covers(s)) {
                    return "it covers the switch's address " + Endpoints.format(s)
                            + ": the agent would cut itself off from the switch";
                }
            }
            try {
                for (KernelRoute k : routing.routes(r.ipv4())) {
                    if (k.protocol() == KernelRoute.PROTO_KERNEL && k.ifindex() != oif && k.prefixLength() > 0
                            && r.prefixLength() >= k.prefixLength()
                            && Route.overlaps(r.destination(), r.prefixLength(), k.destination(), k.prefixLength())) {
                        return "it conflicts with the connected route " + Endpoints.format(k.destination()) + "/"
                                + k.prefixLength() + " of interface #" + k.ifindex() + " (a network this host is on)";
                    }
                }
            } catch (TapException e) {
                return "cannot read the routing table: " + e.getMessage();
            }
        }
        return null;
    }

    /** A default route as its two halves. */
    private static List<KernelRoute> halves(Route r, int oif) {
        try {
            InetAddress low = r.destination();
            InetAddress high = InetAddress.getByAddress(r.ipv4() ? new byte[] {(byte) 128, 0, 0, 0}
                    : new byte[] {(byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
            return List.of(KernelRoute.of(low, 1, r.gateway(), oif, r.metric()),
                    KernelRoute.of(high, 1, r.gateway(), oif, r.metric()));
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }

    /**
     * The host routes that keep the switch's addresses of one family on the path the kernel takes to them now
     * (kept from an earlier ROUTES if already pinned); null, or why the default route cannot be installed.
     */
    private String pins(boolean v4, int oif, Map<String, KernelRoute> pins) {
        for (InetAddress s : peers) {
            if (s instanceof Inet4Address != v4) {
                continue;
            }
            KernelRoute kept = null;
            for (KernelRoute k : installed.values()) {
                if (isPin(k) && k.destination().equals(s)) {
                    kept = k;
                }
            }
            if (kept != null) {
                pins.put(line(kept), kept);
                continue;
            }
            KernelRoute now;
            try {
                now = underlay(s, oif);
            } catch (TapException e) {
                return "cannot look up the path to the switch at " + Endpoints.format(s) + ": " + e.getMessage();
            }
            if (now == null) {
                return "no route to the switch at " + Endpoints.format(s) + " to keep";
            }
            if (now.ifindex() == oif) {
                return "the path to the switch at " + Endpoints.format(s) + " already goes through "
                        + tap.device().name();
            }
            if (now.table() == LOCAL_TABLE) {
                continue; // the switch is on this host: the local table wins over any route, no pin needed
            }
            KernelRoute pin = new KernelRoute(s, v4 ? 32 : 128, now.gateway(), now.ifindex(), 0, KernelRoute.MAIN,
                    KernelRoute.PROTO_VL2, now.gateway() == null ? KernelRoute.SCOPE_LINK : KernelRoute.SCOPE_UNIVERSE);
            pins.put(line(pin), pin);
        }
        return null;
    }

    /**
     * The path to underlay peer {@code s} as the host has it: what the kernel takes now, unless that is the TAP
     * device because of vl2's own routes (the halves of a default route already in force when the peer changed);
     * then the longest match, lowest metric, among the host's other routes of the main table, as the kernel would
     * take it without them.
     */
    private KernelRoute underlay(InetAddress s, int oif) throws TapException {
        KernelRoute now = routing.lookup(s);
        if (now == null || now.ifindex() != oif || now.table() == LOCAL_TABLE) {
            return now;
        }
        KernelRoute best = null;
        for (KernelRoute k : routing.routes(s instanceof Inet4Address)) {
            if (k.ifindex() == oif || k.protocol() == KernelRoute.PROTO_VL2 || k.table() != KernelRoute.MAIN
                    || !Route.overlaps(s, s instanceof Inet4Address ? 32 : 128, k.destination(), k.prefixLength())) {
                continue;
            }
            if (best == null || k.prefixLength() > best.prefixLength()
                    || k.prefixLength() == best.prefixLength() && k.metric() < best.metric()) {
                best = k;
            }
        }
        return best == null ? now : best;
    }

    private boolean isPin(KernelRoute k) {
        return pinKeys.contains(line(k));
    }

    private String add(String key, KernelRoute k) {
        try {
            journal.add(key);
        } catch (IOException e) {
            return "not installed: cannot record it in " + journal.file() + " (" + e.getMessage() + ")";
        }
        try {
            routing.add(k);
            installed.put(key, k);
            return null;
        } catch (TapException e) {
            try {
                journal.remove(key);
            } catch (IOException ignored) {
                // the next start tries to delete a route that is not there: harmless
            }
            return "the kernel refused it (" + e.getMessage() + ")";
        }
    }

    private void remove(String key) {
        KernelRoute k = installed.get(key);
        try {
            routing.delete(k);
        } catch (TapException e) {
            LOG.warn("{}Port agent: cannot remove route {}: {}", tag, k, e.getMessage());
            return; // stays recorded: the next start tries again
        }
        installed.remove(key);
        pinKeys.remove(key);
        try {
            journal.remove(key);
        } catch (IOException e) {
            LOG.warn("{}Port agent: cannot update {}: {}", tag, journal.file(), e.toString());
        }
    }

    /** Status, log line and the view of vl2:agent after an {@link #apply}. */
    private void report(int oif, Map<Route, String> why) {
        Routes r = offered;
        String version = org.vl2.api.NetworkRoute.versionText(r.version());
        List<AgentRoutes.Offered> each = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Route route : r.routes()) {
            String no = why.get(route);
            each.add(new AgentRoutes.Offered(text(route), no == null, no));
            if (no != null) {
                notes.add(text(route) + ": " + no);
            }
        }
        List<String> kernel = new ArrayList<>();
        for (Map.Entry<String, KernelRoute> e : installed.entrySet()) {
            kernel.add(describe(e.getValue(), oif, pinKeys.contains(e.getKey())));
        }
        view = new View(version, List.copyOf(each), List.copyOf(kernel));
        String text = r.routes().size() + " route(s) from the switch (version " + version + "), " + kernel.size()
                + " kernel route(s) installed" + (kernel.isEmpty() ? "" : ": " + String.join(", ", kernel))
                + (notes.isEmpty() ? "" : "; not installed: " + String.join("; ", notes));
        status = text;
        if (!text.equals(logged)) {
            logged = text;
            if (why.values().stream().anyMatch(n -> !n.startsWith("not accepted") && !n.contains("is the gateway"))) {
                LOG.warn("{}Port agent: {}", tag, text);
            } else {
                LOG.info("{}Port agent: {}", tag, text);
            }
        }
    }

    /** {@code fd00:9::/48 via fd00:147::5 metric 100}: a pushed route as {@code ip} writes addresses. */
    static String text(Route r) {
        return Endpoints.format(r.destination()) + "/" + r.prefixLength() + " via " + Endpoints.format(r.gateway())
                + (r.metric() == 0 ? "" : " metric " + r.metric());
    }

    /** {@code 198.51.100.7/32 via 192.168.1.1 dev eth0 (pin)}, as {@code ip route} names it. */
    private String describe(KernelRoute k, int oif, boolean pin) {
        String dev = k.ifindex() == oif ? tap.device().name() : GatewayMode.ifname(k.ifindex());
        return Endpoints.format(k.destination()) + "/" + k.prefixLength() + (k.gateway() == null ? ""
                : " via " + Endpoints.format(k.gateway())) + " dev " + (dev == null ? "#" + k.ifindex() : dev)
                + (k.metric() == 0 ? "" : " metric " + k.metric()) + (pin ? " (pin: keeps the switch on the underlay)"
                : "");
    }

    /**
     * The routes for {@code vl2:agent}: what this agent accepts, {@code gateway} (gateway mode as it is now, or
     * null), and the outcome of the last routes from the switch.
     */
    AgentRoutes view(String gateway) {
        View v = view;
        return new AgentRoutes(acceptRoutes, acceptDefault, gateway, v == null ? null : v.version(),
                v == null ? List.of() : v.offered(), v == null ? List.of() : v.installed());
    }

    /** The last outcome, as one value for readers on other threads. */
    private record View(String version, List<AgentRoutes.Offered> offered, List<String> installed) {
    }

    /** {@code route DST/LEN GATEWAY|- IFINDEX METRIC}: how the journal records a route. */
    static String line(KernelRoute k) {
        return "route " + k.destination().getHostAddress() + "/" + k.prefixLength() + " "
                + (k.gateway() == null ? "-" : k.gateway().getHostAddress()) + " " + k.ifindex() + " " + k.metric();
    }

    static KernelRoute parse(String line) {
        String[] w = line.trim().split("\\s+");
        if (w.length != 5 || !w[0].equals("route")) {
            throw new IllegalArgumentException("not a route line: " + line);
        }
        int slash = w[1].indexOf('/');
        try {
            InetAddress dst = InetAddress.getByName(w[1].substring(0, slash));
            InetAddress gw = w[2].equals("-") ? null : InetAddress.getByName(w[2]);
            return KernelRoute.of(dst, Integer.parseInt(w[1].substring(slash + 1)), gw, Integer.parseInt(w[3]),
                    Integer.parseInt(w[4]));
        } catch (UnknownHostException | NumberFormatException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("not a route line: " + line, e);
        }
    }
}
