package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.AgentRoutes;
import org.vl2.protocol.Route;
import org.vl2.protocol.Routes;
import org.vl2.tap.Cidr;
import org.vl2.tap.KernelRoute;
import org.vl2.tap.Routing;
import org.vl2.tap.TapException;
import org.vl2.tap.TapSettings;

/** What the agent makes of the routes the switch pushes (docs/routes.md), against a recorded routing table. */
class ManagedRoutesTest {

    private static final int TAP = 7;
    private static final int ETH = 2;

    @TempDir
    Path dir;

    /** A routing table: eth0 192.168.1.0/24 (connected) with the default via 192.168.1.1, and what vl2 adds. */
    static class Table implements Routing {
        final Set<KernelRoute> routes = new LinkedHashSet<>();
        final List<String> log = new ArrayList<>();

        Table() throws Exception {
            routes.add(new KernelRoute(a("192.168.1.0"), 24, null, ETH, 0, KernelRoute.MAIN, KernelRoute.PROTO_KERNEL,
                    KernelRoute.SCOPE_LINK));
            routes.add(new KernelRoute(a("0.0.0.0"), 0, a("192.168.1.1"), ETH, 100, KernelRoute.MAIN, 3, 0));
            routes.add(new KernelRoute(a("2001:db8:1::"), 64, null, ETH, 256, KernelRoute.MAIN,
                    KernelRoute.PROTO_KERNEL, KernelRoute.SCOPE_UNIVERSE));
            routes.add(new KernelRoute(a("::"), 0, a("fe80::1"), ETH, 1024, KernelRoute.MAIN, 3, 0));
        }

        @Override
        public void add(KernelRoute route) throws TapException {
            if (!routes.add(route)) {
                throw new TapException("errno 17 EEXIST: File exists", 17);
            }
            log.add("add " + ManagedRoutes.line(route));
        }

        @Override
        public boolean delete(KernelRoute route) {
            log.add("del " + ManagedRoutes.line(route));
            return routes.remove(route);
        }

        /** As the kernel answers: the longest match (vl2's routes included), then the lowest metric. */
        @Override
        public KernelRoute lookup(InetAddress destination) {
            KernelRoute best = null;
            int full = destination instanceof java.net.Inet4Address ? 32 : 128;
            for (KernelRoute k : routes) {
                if (Route.overlaps(destination, full, k.destination(), k.prefixLength()) && (best == null
                        || k.prefixLength() > best.prefixLength()
                        || k.prefixLength() == best.prefixLength() && k.metric() < best.metric())) {
                    best = k;
                }
            }
            return best == null ? null : new KernelRoute(destination, full, best.gateway(), best.ifindex(), 0,
                    KernelRoute.MAIN, best.protocol(), best.scope());
        }

        @Override
        public List<KernelRoute> routes(boolean ipv4) {
            return routes.stream().filter(r -> r.ipv4() == ipv4).toList();
        }

        @Override
        public int ifindex(String name) {
            return name.equals("vl2tap0") ? TAP : 0;
        }

        List<String> vl2() {
            return routes.stream().filter(r -> r.protocol() == KernelRoute.PROTO_VL2).map(ManagedRoutes::line)
                    .toList();
        }
    }

    static InetAddress a(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private ManagedRoutes managed(Table t, boolean routes, boolean defaults, RouteJournal journal) throws Exception {
        return managed(t, routes, defaults, journal, () -> List.of(a("198.51.100.7")));
    }

    private ManagedRoutes managed(Table t, boolean routes, boolean defaults, RouteJournal journal,
                                  java.util.function.Supplier<List<InetAddress>> peers) throws Exception {
        TapSettings s = TapSettings.defaults().toBuilder().name("vl2tap0").ipv4(Cidr.parse("10.1.0.3/24"))
                .ipv6(Cidr.parse("fd50::3/64")).build();
        TapPort tap = new TapPort(new FakeTap.Factory(), s, new Lifecycle(""));
        return new ManagedRoutes(t, routes, defaults, tap, peers, journal, "");
    }

    private static Routes routes(long version, String... routes) {
        return new Routes(0x2a, (5L << 32) | version, Stream.of(routes).map(Route::parse).toList());
    }

    @Test
    void installsWhatIsAcceptedAndSaysWhyTheRestIsNot() throws Exception {
        Table t = new Table();
        RouteJournal journal = new RouteJournal(dir.resolve("host-changes"));
        ManagedRoutes m = managed(t, true, false, journal);
        assertTrue(m.offer(routes(1, "10.9.0.0/16 via 10.1.0.5 metric 10", "0.0.0.0/0 via 10.1.0.5",
                "192.168.1.128/25 via 10.1.0.5", "198.51.0.0/16 via 10.1.0.5", "10.20.0.0/16 via 10.2.0.5",
                "10.1.0.0/25 via 10.1.0.5", "10.30.0.0/16 via 10.1.0.3")));
        assertEquals(List.of("route 10.9.0.0/16 10.1.0.5 7 10"), t.vl2());
        String status = m.status();
        assertTrue(status.contains("0.0.0.0/0 via 10.1.0.5: not accepted (accept.default.route"), status);
        assertTrue(status.contains("192.168.1.128/25 via 10.1.0.5: it conflicts with the connected route "
                + "192.168.1.0/24"), status);
        assertTrue(status.contains("198.51.0.0/16 via 10.1.0.5: it covers the switch's address 198.51.100.7"), status);
        assertTrue(status.contains("10.20.0.0/16 via 10.2.0.5: gateway 10.2.0.5 is not on vl2tap0's subnet"), status);
        assertTrue(status.contains("10.1.0.0/25 via 10.1.0.5: inside vl2tap0's own subnet"), status);
        assertTrue(status.contains("10.30.0.0/16 via 10.1.0.3: this agent is the gateway"), status);
        assertEquals(List.of("route 10.9.0.0/16 10.1.0.5 7 10"), Files.readAllLines(journal.file()));
        AgentRoutes view = m.view("IPv4 forwarding on vl2tap0; no masquerade");
        assertEquals("5:1", view.version());
        assertEquals(new AgentRoutes.Offered("10.9.0.0/16 via 10.1.0.5 metric 10", true, null), view.offered().get(0));
        assertEquals(new AgentRoutes.Offered("198.51.0.0/16 via 10.1.0.5", false, "it covers the switch's address "
                + "198.51.100.7: the agent would cut itself off from the switch"), view.offered().get(3));
        assertEquals(7, view.offered().size());
        assertEquals(List.of("10.9.0.0/16 via 10.1.0.5 dev vl2tap0 metric 10"), view.installed());
        assertTrue(view.acceptRoutes() && !view.acceptDefaultRoute());

        assertTrue(!m.offer(routes(1, "10.8.0.0/16 via 10.1.0.5")), "the same version again: nothing to do");
        assertTrue(m.offer(routes(2)), "withdrawn");
        assertEquals(List.of(), t.vl2());
        assertTrue(Files.notExists(journal.file()), "nothing recorded: nothing to undo");
    }

    @Test
    void aDefaultRouteIsTwoHalvesAfterAPinToTheSwitchAndStopRestoresTheTable() throws Exception {
        Table t = new Table();
        Set<KernelRoute> before = new LinkedHashSet<>(t.routes);
        RouteJournal journal = new RouteJournal(dir.resolve("host-changes"));
        ManagedRoutes m = managed(t, false, true, journal);
        m.offer(routes(1, "0.0.0.0/0 via 10.1.0.5 metric 100", "0.0.0.0/0 via 10.1.0.6 metric 200"));
        assertEquals(List.of("add route 198.51.100.7/32 192.168.1.1 2 0", "add route 0.0.0.0/1 10.1.0.5 7 100",
                "add route 128.0.0.0/1 10.1.0.5 7 100", "add route 0.0.0.0/1 10.1.0.6 7 200",
                "add route 128.0.0.0/1 10.1.0.6 7 200"), t.log, "the pin first");
        assertTrue(m.view(null).installed().get(0).endsWith(" (pin: keeps the switch on the underlay)"),
                m.view(null).installed().toString());
        t.log.clear();
        m.offer(routes(2, "0.0.0.0/0 via 10.1.0.6 metric 200"));
        assertEquals(List.of("del route 128.0.0.0/1 10.1.0.5 7 100", "del route 0.0.0.0/1 10.1.0.5 7 100"), t.log,
                "the preferred gateway went: its halves go, the pin stays");
        t.log.clear();
        m.stop();
        assertEquals(List.of("del route 128.0.0.0/1 10.1.0.6 7 200", "del route 0.0.0.0/1 10.1.0.6 7 200",
                "del route 198.51.100.7/32 192.168.1.1 2 0"), t.log, "the pin last");
        assertEquals(before, t.routes, "the table as it was");
        assertTrue(Files.notExists(journal.file()));
    }

    @Test
    void theNextStartRemovesWhatACrashedRunLeft() throws Exception {
        Table t = new Table();
        Set<KernelRoute> before = new LinkedHashSet<>(t.routes);
        RouteJournal journal = new RouteJournal(dir.resolve("host-changes"));
        managed(t, true, true, journal).offer(routes(1, "0.0.0.0/0 via 10.1.0.5", "10.9.0.0/16 via 10.1.0.5"));
        assertEquals(4, t.vl2().size());
        // killed: nothing removed; the next start reads the journal
        ManagedRoutes.cleanUp(t, new RouteJournal(dir.resolve("host-changes")), "");
        assertEquals(before, t.routes);
    }

    /**
     * A gateway killed with SIGKILL leaves its sysctls in the journal (the value to restore): the next start writes
     * them back, skips one whose interface went with the process (its TAP device), and deletes the journal. (The
     * nftables table it leaves: RoutesE2EIT t05, with the real nft.)
     */
    @Test
    void theNextStartRestoresTheSysctlsAKilledGatewayLeft() throws Exception {
        Path up0 = Files.writeString(dir.resolve("up0-forwarding"), "1"); // what the gateway turned on
        Path gone = dir.resolve("vl2tap0-forwarding"); // the TAP device went with the process
        RouteJournal killed = new RouteJournal(dir.resolve("host-changes"));
        killed.add("sysctl " + gone + " 0");
        killed.add("sysctl " + up0 + " 0");

        ManagedRoutes.cleanUp(new Table(), new RouteJournal(dir.resolve("host-changes")), "");

        assertEquals("0", Files.readString(up0), "the value from before the gateway");
        assertTrue(Files.notExists(gone));
        assertTrue(Files.notExists(killed.file()), "nothing left to undo");
    }

    /**
     * IPv6: a specific route and ::/0 as its two halves ::/1 and 8000::/1; with the switch reached over IPv4 there is
     * no IPv6 address to pin; a route inside a connected IPv6 network is refused; stop leaves the table as it was.
     */
    @Test
    void ipv6RoutesAndTheDefaultRouteAsTwoHalves() throws Exception {
        Table t = new Table();
        Set<KernelRoute> before = new LinkedHashSet<>(t.routes);
        RouteJournal journal = new RouteJournal(dir.resolve("host-changes"));
        ManagedRoutes m = managed(t, true, true, journal);
        m.offer(routes(1, "fd60::/64 via fd50::5", "::/0 via fd50::5 metric 100", "2001:db8:1:0:8000::/65 via fd50::5",
                "fd70::/64 via fd51::5"));
        assertEquals(List.of("route fd60:0:0:0:0:0:0:0/64 fd50:0:0:0:0:0:0:5 7 0",
                "route 0:0:0:0:0:0:0:0/1 fd50:0:0:0:0:0:0:5 7 100",
                "route 8000:0:0:0:0:0:0:0/1 fd50:0:0:0:0:0:0:5 7 100"), t.vl2());
        String status = m.status();
        assertTrue(status.contains("2001:db8:1:0:8000::/65 via fd50::5: it conflicts with the connected route"
                + " 2001:db8:1::/64"), status);
        assertTrue(status.contains("fd70::/64 via fd51::5: gateway fd51::5 is not on vl2tap0's subnet"), status);
        assertEquals(List.of("fd60::/64 via fd50::5 dev vl2tap0", "::/1 via fd50::5 dev vl2tap0 metric 100",
                "8000::/1 via fd50::5 dev vl2tap0 metric 100"), m.view(null).installed());
        m.stop();
        assertEquals(before, t.routes);
        assertTrue(Files.notExists(journal.file()));
    }

    /** A switch reached over IPv6: ::/0 goes in after a /128 pin to it through the host's IPv6 default route. */
    @Test
    void anIpv6SwitchIsPinnedWithAHostRoute() throws Exception {
        Table t = new Table();
        ManagedRoutes m = managed(t, false, true, new RouteJournal(dir.resolve("host-changes")),
                () -> List.of(a("2001:db8:9::7")));
        m.offer(routes(1, "::/0 via fd50::5"));
        assertEquals(List.of("add route 2001:db8:9:0:0:0:0:7/128 fe80:0:0:0:0:0:0:1 2 0",
                "add route 0:0:0:0:0:0:0:0/1 fd50:0:0:0:0:0:0:5 7 0",
                "add route 8000:0:0:0:0:0:0:0/1 fd50:0:0:0:0:0:0:5 7 0"), t.log, "the pin first");
    }

    /**
     * The link moves while a default route through the overlay is in force (to TCP through an HTTP proxy, then to
     * another address of the switch): each new peer is pinned through the path the host had to it, not through the
     * TAP device the halves now send everything to, and pins no longer needed go; the halves stay.
     */
    @Test
    void newUnderlayPeersArePinnedThroughTheHostsOwnPath() throws Exception {
        Table t = new Table();
        Set<KernelRoute> before = new LinkedHashSet<>(t.routes);
        List<InetAddress> peers = new ArrayList<>(List.of(a("198.51.100.7")));
        RouteJournal journal = new RouteJournal(dir.resolve("host-changes"));
        ManagedRoutes m = managed(t, false, true, journal, () -> List.copyOf(peers));
        m.offer(routes(1, "0.0.0.0/0 via 10.1.0.5"));
        t.log.clear();
        m.recheck();
        assertEquals(List.of(), t.log, "the same peers: nothing to do");

        peers.add(a("192.168.1.50")); // a proxy on the LAN: on-link
        m.recheck();
        assertEquals(List.of("add route 192.168.1.50/32 - 2 0"), t.log);
        t.log.clear();

        peers.clear();
        peers.add(a("203.0.113.9")); // the switch's name now resolves elsewhere: the halves cover it
        m.recheck();
        assertEquals(List.of("del route 192.168.1.50/32 - 2 0", "del route 198.51.100.7/32 192.168.1.1 2 0",
                "add route 203.0.113.9/32 192.168.1.1 2 0"), t.log);
        assertEquals(Set.of("route 203.0.113.9/32 192.168.1.1 2 0", "route 0.0.0.0/1 10.1.0.5 7 0",
                "route 128.0.0.0/1 10.1.0.5 7 0"), Set.copyOf(t.vl2()), "the halves stay");
        t.log.clear();

        peers.clear(); // between two sockets: nothing to compare, the pins stay
        m.recheck();
        assertEquals(List.of(), t.log);
        m.stop();
        assertEquals(before, t.routes);
        assertTrue(Files.notExists(journal.file()));
    }

    /** The kernel refuses the pin: the halves do not go in (they would take the switch into the overlay). */
    @Test
    void noHalvesWithoutThePin() throws Exception {
        Table t = new Table() {
            @Override
            public void add(KernelRoute route) throws TapException {
                if (route.prefixLength() == 32) {
                    throw new TapException("errno 101 ENETUNREACH: Network is unreachable", 101);
                }
                super.add(route);
            }
        };
        ManagedRoutes m = managed(t, true, true, new RouteJournal(dir.resolve("host-changes")));
        m.offer(routes(1, "0.0.0.0/0 via 10.1.0.5", "10.9.0.0/16 via 10.1.0.5"));
        assertEquals(List.of("route 10.9.0.0/16 10.1.0.5 7 0"), t.vl2());
        AgentRoutes.Offered d = m.view(null).offered().get(0);
        assertTrue(!d.installed() && d.reason().contains("ENETUNREACH"), d.toString());
    }

    /**
     * A gateway killed with SIGKILL: the next start undoes its sysctls from the journal (the old values, newest
     * first, so a value changed twice ends as it was first) along with the routes, and clears the journal.
     */
    @Test
    void theNextStartAlsoUndoesTheSysctlsOfAKilledGateway() throws Exception {
        Path forwarding = Files.writeString(dir.resolve("forwarding"), "1");
        Path rpFilter = Files.writeString(dir.resolve("rp_filter"), "0");
        RouteJournal journal = new RouteJournal(dir.resolve("host-changes"));
        journal.add("sysctl " + forwarding + " 0");
        journal.add("sysctl " + rpFilter + " 2");
        journal.add("sysctl " + rpFilter + " 1");
        Table t = new Table();
        Set<KernelRoute> before = new LinkedHashSet<>(t.routes);
        managed(t, true, true, journal).offer(routes(1, "0.0.0.0/0 via 10.1.0.5"));
        // killed: the next start
        ManagedRoutes.cleanUp(t, new RouteJournal(dir.resolve("host-changes")), "");
        assertEquals(before, t.routes);
        assertEquals("0", Files.readString(forwarding));
        assertEquals("2", Files.readString(rpFilter));
        assertTrue(Files.notExists(journal.file()), "nothing left to undo");
    }

    /**
     * Gateway mode: a route via this agent's own address turns on forwarding where its destination leaves the host
     * (interface 1, lo, here: a name every host has), for IPv4 routes only; the kernel's unreachable ::/0 through lo
     * of a host without an IPv6 default route is no uplink.
     */
    @Test
    void aGatewayForwardsWhereItsIpv4NetworksLeaveAndNotForIpv6() throws Exception {
        Table t = new Table();
        t.routes.add(new KernelRoute(a("172.16.0.0"), 16, null, 1, 0, KernelRoute.MAIN, 3, KernelRoute.SCOPE_LINK));
        t.routes.removeIf(k -> !k.ipv4() && k.prefixLength() == 0);
        t.routes.add(new KernelRoute(a("::"), 0, null, 1, -1, KernelRoute.MAIN, KernelRoute.PROTO_KERNEL, 0));
        List<String> forwarding = new ArrayList<>();
        TapSettings s = TapSettings.defaults().toBuilder().name("vl2tap0").ipv4(Cidr.parse("10.1.0.3/24"))
                .ipv6(Cidr.parse("fd50::3/64")).build();
        ManagedRoutes m = new ManagedRoutes(t, true, true, new TapPort(new FakeTap.Factory(), s, new Lifecycle("")),
                () -> List.of(a("198.51.100.7")), new RouteJournal(dir.resolve("host-changes")), "", forwarding::add);
        m.offer(routes(1, "172.16.0.0/16 via 10.1.0.3", "::/0 via fd50::3"));
        assertEquals(List.of("lo"), forwarding);
        assertEquals(List.of(), t.vl2(), "its own routes: nothing to install");
    }
}
