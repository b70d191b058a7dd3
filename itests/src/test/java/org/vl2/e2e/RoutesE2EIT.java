package org.vl2.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestRule;
import org.junit.runners.MethodSorters;
import org.vl2.e2e.Lab.Bg;
import org.vl2.crypto.Identity;
import org.vl2.e2e.Lab.Result;

/**
 * End to end, managed routes and gateways (docs/routes.md, seeds 002, 003 and 004) with the real launchers: the
 * switch pushes a LAN route and two default routes of different metrics; gateway agents forward (and masquerade to
 * the "internet"); h1 accepts them; C is a LAN host behind g1 that is no agent. Plain JUnit 4 run by failsafe, as
 * root; skipped (with the reason) otherwise. One boot; the tests run in name order.
 *
 * <pre>
 *                       underlay 10.77.0.0/24: bridge ul0 in &lt;p&gt;-sw (switch 10.77.0.1)
 *   &lt;p&gt;-sw  vl2-switch --network id=5a,pool=10.50.0.0/24,route=192.168.60.0/24@10.50.0.5,
 *                           route=0.0.0.0/0@10.50.0.5@100,route=0.0.0.0/0@10.50.0.6@200
 *   &lt;p&gt;-h1  vl2-agent --accept-routes --accept-default-route         vl2tap0 10.50.0.11   underlay 10.77.0.11
 *   &lt;p&gt;-g1  vl2-agent --gateway --masquerade up0                     vl2tap0 10.50.0.5    underlay 10.77.0.15
 *             lan0 192.168.60.1/24 ── &lt;p&gt;-c  eth1 192.168.60.2 (route back: 10.50.0.0/24 via 192.168.60.1)
 *             up0  203.0.113.1/24  ── &lt;p&gt;-i  eth1 203.0.113.2, lo 198.51.100.9 (the "internet": no route back);
 *             g1's default route via 203.0.113.2, g2's via 203.0.114.2
 *   &lt;p&gt;-g2  vl2-agent --gateway --masquerade up0                     vl2tap0 10.50.0.6    underlay 10.77.0.16
 *             up0  203.0.114.1/24  ── &lt;p&gt;-i  eth2 203.0.114.2
 * </pre>
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class RoutesE2EIT {

    private static final String NET = "000000000000005a";
    private static final String H1 = "10.50.0.11";
    private static final String G1 = "10.50.0.5";
    private static final String G2 = "10.50.0.6";
    private static final String C = "192.168.60.2";
    private static final String INTERNET = "198.51.100.9";
    /** IPv6: C on the LAN behind g1, and an address behind C that only the ::/0 halves lead to. */
    private static final String C6 = "fd60::2";
    private static final String FAR6 = "fd61::9";
    /** g1's IPv6 address in the network: the prefix and its member id (the switch assigns it). */
    private static String g1v6;
    private static final Duration CMD = LabKit.CMD;
    private static final Duration ROUTES = Duration.ofSeconds(60);

    private static LabKit kit;
    private static String h1;
    private static String g1;
    private static String g2;
    private static String c;
    private static String inet;
    private static Bg agentH1;
    private static Bg agentG1;
    private static Bg agentG2;
    /** h1's routing tables before its agent started. */
    private static String tablesBefore;
    private static final Map<String, String> results = new LinkedHashMap<>();

    @Rule
    public final TestRule rules = LabKit.rules("RoutesE2EIT", () -> kit);

    @BeforeClass
    public static void setUp() throws Exception {
        LabKit.setUp("RoutesE2EIT", "routes", LabKit.SWITCH_IP, null, results, k -> {
            kit = k;
            start();
        }, "ip", "ping", "tar", "nft");
    }

    private static void start() {
        h1 = kit.host("h1", "10.77.0.11");
        g1 = kit.host("g1", "10.77.0.15");
        // g1's identity made here, so that its IPv6 address in the network (prefix + member id) is known to the
        // switch's routes before g1 first starts
        try {
            Identity g1Id = Identity.generate();
            g1Id.store(kit.lab.work.resolve("g1/data/vl2/agent-identity"));
            g1v6 = ipv6In("fd50::", g1Id.memberId());
        } catch (java.io.IOException e) {
            throw new AssertionError("cannot write g1's identity", e);
        }
        g2 = kit.host("g2", "10.77.0.16");
        c = kit.lab.namespace("c");
        inet = kit.lab.namespace("i");
        // the underlay's default router is the switch's namespace: h1's default route, as a host's would be
        Lab.in(h1, CMD, "ip", "route", "add", "default", "via", LabKit.SWITCH_IP).check();
        wire(g1, "lan0", "192.168.60.1/24", c, "eth1", C + "/24");
        Lab.in(c, CMD, "ip", "route", "add", "10.50.0.0/24", "via", "192.168.60.1").check();
        // IPv6 through g1 (forwarding host-wide in g1's namespace, as docs/routes.md asks of the operator): C's LAN
        // address, FAR6 behind C, and C's route back to the network
        Lab.ip("-n", g1, "-6", "addr", "add", "fd60::1/64", "dev", "lan0", "nodad");
        Lab.ip("-n", c, "-6", "addr", "add", C6 + "/64", "dev", "eth1", "nodad");
        Lab.ip("-n", c, "-6", "addr", "add", FAR6 + "/128", "dev", "lo");
        Lab.ip("-n", c, "-6", "route", "add", "fd50::/64", "via", "fd60::1");
        Lab.ip("-n", g1, "-6", "route", "add", "fd61::/64", "via", C6);
        Lab.in(g1, CMD, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding").check();
        wire(g1, "up0", "203.0.113.1/24", inet, "eth1", "203.0.113.2/24");
        wire(g2, "up0", "203.0.114.1/24", inet, "eth2", "203.0.114.2/24");
        Lab.in(inet, CMD, "ip", "addr", "add", INTERNET + "/32", "dev", "lo").check();
        // the gateways' own way to the internet: their uplinks
        Lab.in(g1, CMD, "ip", "route", "add", "default", "via", "203.0.113.2").check();
        Lab.in(g2, CMD, "ip", "route", "add", "default", "via", "203.0.114.2").check();
        // the snapshot once eth0's IPv6 link-local address (and its local route) is there: it comes after DAD
        String ll = LabKit.linkLocal(h1, "eth0");
        assertTrue(Lab.await(CMD, () -> tables(h1).contains("local " + ll + " dev eth0")));
        tablesBefore = tables(h1);
        // --api off: nothing here uses the HTTP API, and its Pax Web was ~2.3 of a switch boot's 8-10 CPU-seconds
        Bg sw = kit.startSwitch("--api", "off", "--vl2-listen", LabKit.SWITCH_IP + ":9991", "--network",
                "id=5a,pool=10.50.0.0/24,ipv6=fd50::/64,route=192.168.60.0/24@" + G1 + ",route=0.0.0.0/0@" + G1
                        + "@100,route=0.0.0.0/0@" + G2 + "@200,route=fd60::/64@" + g1v6 + ",route=::/0@" + g1v6
                        + "@100");
        agentG1 = kit.startAgent("g1", g1, "--switch", LabKit.SWITCH_IP, "--network", "5a", "--address", G1 + "/24",
                "--gateway", "--masquerade", "up0", "--ssh-port", "8103");
        agentG2 = startG2();
        agentH1 = startH1();
        LabKit.await(sw, "the switch's vl2 transport attached", Pattern.compile("Transport vl2 .* attached"));
        for (Bg g : new Bg[] {agentG1, agentG2}) {
            LabKit.await(g, g.name + " joined", Pattern.compile("Port agent joined network " + NET));
            LabKit.await(g, g.name + " in gateway mode", Pattern.compile("gateway mode on vl2tap0"));
        }
        LabKit.await(agentH1, "h1 joined", Pattern.compile("Port agent joined network " + NET));
        awaitRoutes(h1, "192.168.60.0/24 via " + G1, "0.0.0.0/1 via " + G1, "128.0.0.0/1 via " + G1);
        awaitRoutes6(h1, "fd60::/64 via ", "::/1 via ", "8000::/1 via ");
        // g1 is the gateway of the LAN route: forwarding on lan0 too (C's replies come in there)
        assertTrue("g1 forwards on lan0", Lab.await(ROUTES, () -> "1".equals(forwarding(g1, "lan0"))));
        results.put("h1 boot to routes installed", (System.nanoTime() - agentH1.startNanos) / 1_000_000 + " ms");
    }

    private static Bg startG2() {
        return kit.startAgent("g2", g2, "--switch", LabKit.SWITCH_IP, "--network", "5a", "--address", G2 + "/24",
                "--gateway", "--masquerade", "up0");
    }

    private static Bg startH1() {
        return kit.startAgent("h1", h1, "--switch", LabKit.SWITCH_IP, "--network", "5a", "--address", H1 + "/24",
                "--accept-routes", "--accept-default-route", "--ssh-port", "8103");
    }

    /** {@code fd50::} with the 64-bit {@code member} as its interface id: how the switch numbers a member. */
    private static String ipv6In(String prefix, long member) {
        return prefix.replace("::", "") + ":0:0:0:" + Long.toHexString(member >>> 48) + ":"
                + Long.toHexString(member >>> 32 & 0xffff) + ":" + Long.toHexString(member >>> 16 & 0xffff) + ":"
                + Long.toHexString(member & 0xffff);
    }

    /** A veth pair: {@code aDev} in {@code a} and {@code bDev} in {@code b}, addressed and up. */
    private static void wire(String a, String aDev, String aCidr, String b, String bDev, String bCidr) {
        Lab.ip("-n", a, "link", "add", aDev, "type", "veth", "peer", "name", bDev, "netns", b);
        Lab.ip("-n", a, "addr", "add", aCidr, "dev", aDev);
        Lab.ip("-n", a, "link", "set", aDev, "up");
        Lab.ip("-n", b, "addr", "add", bCidr, "dev", bDev);
        Lab.ip("-n", b, "link", "set", bDev, "up");
    }

    /**
     * Every route of every table of both families, as {@code ip route show table all} prints them, sorted: the
     * kernel lists a table's routes in an order that may change when other routes come and go.
     */
    private static String tables(String ns) {
        String all = Lab.in(ns, CMD, "ip", "route", "show", "table", "all").check().out()
                + Lab.in(ns, CMD, "ip", "-6", "route", "show", "table", "all").check().out();
        return String.join("\n", all.lines().sorted().toList());
    }

    private static String forwarding(String ns, String dev) {
        return Lab.in(ns, CMD, "cat", "/proc/sys/net/ipv4/conf/" + dev + "/forwarding").out().trim();
    }

    private static String vl2Routes(String ns) {
        return Lab.in(ns, CMD, "ip", "route", "show", "proto", "118").out();
    }

    private static String vl2Routes6(String ns) {
        return Lab.in(ns, CMD, "ip", "-6", "route", "show", "proto", "118").out();
    }

    /** Waits until {@code ns}'s routes marked vl2 (proto 118) contain each of {@code lines}. */
    private static void awaitRoutes(String ns, String... lines) {
        awaitRoutes(ns, false, lines);
    }

    /** The same for IPv6 routes. */
    private static void awaitRoutes6(String ns, String... lines) {
        awaitRoutes(ns, true, lines);
    }

    private static void awaitRoutes(String ns, boolean v6, String... lines) {
        boolean ok = Lab.await(ROUTES, () -> {
            String r = v6 ? vl2Routes6(ns) : vl2Routes(ns);
            for (String l : lines) {
                if (!r.contains(l)) {
                    return false;
                }
            }
            return true;
        });
        assertTrue(ns + ": routes " + String.join(", ", lines) + " within " + ROUTES.toSeconds() + " s; now:\n"
                + (v6 ? vl2Routes6(ns) : vl2Routes(ns)), ok);
    }

    @AfterClass
    public static void tearDown() {
        if (kit == null) {
            return;
        }
        kit.close("RoutesE2EIT", results);
    }

    /** Seed 004: h1 reaches C, a host that is no agent, through gateway g1, with no NAT: C's route back matters. */
    @Test
    public void t01LanBehindAGatewayWithoutNat() {
        results.put("ping RTT h1 -> C through g1 (min/avg/max/mdev)", LabKit.ping(h1, C, 3));
        Lab.in(c, CMD, "ip", "route", "del", "10.50.0.0/24", "via", "192.168.60.1").check();
        try {
            Result lost = Lab.in(h1, CMD, "ping", "-c", "2", "-i", "0.3", "-W", "1", C);
            assertFalse("without C's route back nothing returns (no NAT on the LAN side):\n" + lost.out(), lost.ok());
        } finally {
            Lab.in(c, CMD, "ip", "route", "add", "10.50.0.0/24", "via", "192.168.60.1").check();
        }
        LabKit.ping(h1, C, 1);
        String routes = kit.switchCommand("vl2:routes --no-format 5a", o -> o.contains("192.168.60.0/24"));
        assertTrue(routes, routes.lines().anyMatch(l -> l.contains("0.0.0.0/0") && l.contains(G2)
                && l.contains("yes")));
    }

    /**
     * IPv6: h1 reaches C's LAN address through g1 with the pushed fd60::/64 route, and an address behind C through
     * the halves of the pushed ::/0 (::/1, 8000::/1), no NAT; vl2:agent on h1 lists the routes it got and installed.
     */
    @Test
    public void t01bIpv6RoutesAndTheDefaultThroughAGateway() {
        results.put("ping RTT h1 -> C over IPv6 through g1 (min/avg/max/mdev)", LabKit.ping(h1, C6, 3, "-6"));
        LabKit.ping(h1, FAR6, 1, "-6");
        String toFar = Lab.in(h1, CMD, "ip", "-6", "route", "get", FAR6).check().out();
        assertTrue("the ::/0 halves take it into the network: " + toFar, toFar.contains("dev vl2tap0"));
        String agent = kit.command(h1, "h1", "vl2:agent --no-format", o -> o.contains("Kernel route"));
        assertTrue(agent, agent.lines().anyMatch(l -> l.startsWith("Route") && l.contains("fd60::/64 via")
                && l.contains("installed") && !l.contains("not installed")));
        assertTrue(agent, agent.lines().anyMatch(l -> l.startsWith("Kernel route") && l.contains(LabKit.SWITCH_IP
                + "/32") && l.contains("dev eth0 (pin")));
        assertTrue(agent, agent.lines().anyMatch(l -> l.startsWith("Kernel route")
                && l.contains("8000::/1 via") && l.contains("dev vl2tap0")));
        String gw = kit.command(g1, "g1", "vl2:agent --no-format", o -> o.contains("Gateway mode"));
        assertTrue(gw, gw.lines().anyMatch(l -> l.startsWith("Gateway mode") && l.contains("vl2tap0")
                && l.contains("lan0") && l.contains("masquerade out of up0")));
    }

    /**
     * Seeds 002/003: with the default route accepted, h1's traffic to the internet leaves through g1, which
     * masquerades (the internet has no route back to the network), while h1's path to the switch stays on the
     * underlay.
     */
    @Test
    public void t02DefaultRouteThroughAMasqueradingGatewayKeepsTheSwitchOnTheUnderlay() {
        results.put("ping RTT h1 -> internet through g1 (min/avg/max/mdev)", LabKit.ping(h1, INTERNET, 3));
        String toInternet = Lab.in(h1, CMD, "ip", "route", "get", INTERNET).check().out();
        assertTrue(toInternet, toInternet.contains("via " + G1 + " dev vl2tap0"));
        String toSwitch = Lab.in(h1, CMD, "ip", "route", "get", LabKit.SWITCH_IP).check().out();
        assertTrue("the switch stays on the underlay: " + toSwitch, toSwitch.contains("dev eth0"));
        String nat = Lab.in(g1, CMD, "nft", "list", "table", "ip", "vl2_gw_vl2tap0").check().out();
        assertTrue(nat, nat.contains("masquerade"));
        assertEquals("1", forwarding(g1, "vl2tap0"));
        assertEquals("1", forwarding(g1, "up0"));
        assertEquals("forwarding for the gateway's interfaces only", "0", forwarding(g1, "eth0"));
        assertEquals("not for an IPv6 route (IPv6 forwarding is the operator's)", "0", forwarding(g1, "lo"));
        assertEquals("0", forwarding(g1, "all"));
    }

    /** Two gateways: the preferred one stops, h1's traffic to the internet moves to the second; measured. */
    @Test
    public void t03FailoverToTheSecondGateway() {
        LabKit.ping(h1, INTERNET, 1);
        long stop = System.nanoTime();
        // SIGTERM, not waited for: g1's LEAVE goes as its shutdown begins, and its JVM's exit (Karaf's bundles
        // stopped, the class data archive written) takes seconds more under load, which is not the failover
        agentG1.process.destroy();
        assertTrue("h1 reaches the internet through g2", LabKit.awaitPing(h1, INTERNET, ROUTES));
        long millis = (System.nanoTime() - stop) / 1_000_000;
        results.put("failover g1 -> g2 (g1's SIGTERM until h1's first ping through g2 answered)", millis + " ms");
        assertEquals(0, agentG1.stop(Duration.ofSeconds(60)));
        results.put("g1's SIGTERM until its process ended", (System.nanoTime() - stop) / 1_000_000 + " ms");
        String toInternet = Lab.in(h1, CMD, "ip", "route", "get", INTERNET).check().out();
        assertTrue(toInternet, toInternet.contains("via " + G2 + " dev vl2tap0"));
        // h1 installs g2's default halves and removes g1's routes one at a time: the ping through g2 can answer
        // before the LAN route via g1 is gone
        boolean withdrawn = Lab.await(ROUTES, () -> !vl2Routes(h1).contains(G1));
        assertTrue("g1's routes were withdrawn: " + vl2Routes(h1), withdrawn);
        // g1 undid what it changed on its host
        assertFalse(Lab.in(g1, CMD, "nft", "list", "tables").out().contains("vl2_gw"));
        assertEquals("0", forwarding(g1, "up0"));
        assertEquals("0", forwarding(g1, "lan0"));
    }

    /**
     * Stopping h1's agent restores its routing tables exactly; after SIGKILL the host route to the switch is left,
     * and the next start removes it.
     */
    @Test
    public void t04StopRestoresTheTablesAndARestartCleansUpAfterSigkill() {
        assertEquals(0, agentH1.stop(Duration.ofSeconds(60)));
        assertEquals("h1's routing tables after a stop", tablesBefore, tables(h1));

        agentH1 = startH1();
        awaitRoutes(h1, "0.0.0.0/1 via " + G2, LabKit.SWITCH_IP + " dev eth0");
        Lab.run(CMD, "kill", "-KILL", String.valueOf(agentH1.javaPid())).check();
        assertTrue(LabKit.awaitExit(agentH1, Duration.ofSeconds(30)));
        String left = vl2Routes(h1);
        assertTrue("after SIGKILL the host route to the switch is left: " + left,
                left.contains(LabKit.SWITCH_IP + " dev eth0"));

        agentH1 = startH1();
        LabKit.await(agentH1, "the leftovers removed", Pattern.compile("removed 1 of \\d+ routes a previous run left"));
        awaitRoutes(h1, "0.0.0.0/1 via " + G2);
        assertEquals(0, agentH1.stop(Duration.ofSeconds(60)));
        assertEquals("h1's routing tables after SIGKILL, restart and stop", tablesBefore, tables(h1));
    }

    /**
     * A gateway killed with SIGKILL leaves its nftables table and sysctls, recorded in its host-changes journal; its
     * next start undoes them before it turns gateway mode on again (else it would take forwarding=1 for the host's
     * own value and leave it on at its stop).
     */
    @Test
    public void t05ARestartedGatewayUndoesWhatItsKilledPredecessorLeft() throws Exception {
        Lab.run(CMD, "kill", "-KILL", String.valueOf(agentG2.javaPid())).check();
        assertTrue(LabKit.awaitExit(agentG2, Duration.ofSeconds(30)));
        assertTrue("the nftables table is left", Lab.in(g2, CMD, "nft", "list", "tables").out()
                .contains("vl2_gw_vl2tap0"));
        assertEquals("1", forwarding(g2, "up0"));
        String journal;
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(
                kit.lab.work.resolve("g2/data/vl2"))) {
            java.nio.file.Path f = files.filter(p -> p.getFileName().toString().startsWith("host-changes")
                    && !p.getFileName().toString().endsWith(".tmp")).findFirst().orElseThrow();
            journal = java.nio.file.Files.readString(f);
        }
        assertTrue("the journal records the table: " + journal, journal.contains("nft vl2_gw_vl2tap0"));
        assertTrue("and up0's sysctl: " + journal, journal.contains("/up0/forwarding 0"));

        agentG2 = startG2();
        LabKit.await(agentG2, "the leftovers undone",
                Pattern.compile("undid (\\d+) of \\1 gateway changes a previous run left"));
        LabKit.await(agentG2, "g2 in gateway mode", Pattern.compile("gateway mode on vl2tap0"));
        assertEquals(0, agentG2.stop(Duration.ofSeconds(60)));
        assertFalse(Lab.in(g2, CMD, "nft", "list", "tables").out().contains("vl2_gw"));
        assertEquals("the host's own value, not the killed gateway's", "0", forwarding(g2, "up0"));
    }
}
