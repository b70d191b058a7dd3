package org.vl2.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
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
import org.vl2.e2e.Lab.Result;

/**
 * End to end, one agent process in two networks ({@code bin/vl2-agent --network id=2a,... --network id=2b,...}:
 * two factory configurations, a TAP device and a session each), next to one single-network agent in each network.
 * Plain JUnit 4 run by failsafe, as root; skipped (with the reason) otherwise.
 *
 * <pre>
 *                      underlay 10.77.0.0/24: bridge ul0 in &lt;p&gt;-sw
 *   &lt;p&gt;-sw  vl2-switch --network id=2a --network id=2b --api-tls self-signed   (API https://127.0.0.1:8181)
 *   &lt;p&gt;-a   vl2-agent --network 2a: vl2tap0 10.42.0.11/24                       underlay 10.77.0.11
 *   &lt;p&gt;-b   vl2-agent --network 2b: vl2tap0 10.43.0.12/24                       underlay 10.77.0.12
 *   &lt;p&gt;-d   vl2-agent --network id=2a,tap=vl2a,address=10.42.0.13/24
 *                 --network id=2b,tap=vl2b,address=10.43.0.13/24 (one JVM)      underlay 10.77.0.13
 *                 --api 127.0.0.1:8182
 * </pre>
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class MultiNetworkAgentE2EIT {

    private static final String A_IP = "10.42.0.11";
    private static final String B_IP = "10.43.0.12";
    private static final String D_IP_A = "10.42.0.13";
    private static final String D_IP_B = "10.43.0.13";
    private static final String NET_A = "000000000000002a";
    private static final String NET_B = "000000000000002b";
    /** The shell of agent d (agents have none unless asked). */
    private static final int AGENT_SSH = 8103;
    /** The HTTP API of agent d, on its namespace's loopback. */
    private static final int AGENT_API = 8182;
    private static final Duration CMD = LabKit.CMD;

    private static LabKit kit;
    private static String a;
    private static String b;
    private static String d;
    private static Bg agentA;
    private static Bg agentB;
    private static Bg dual;
    private static final Map<String, String> results = new LinkedHashMap<>();

    @Rule
    public final TestRule rules = LabKit.rules("MultiNetworkAgentE2EIT", () -> kit);

    @BeforeClass
    public static void setUp() throws Exception {
        LabKit.setUp("MultiNetworkAgentE2EIT", "multinet", LabKit.SWITCH_IP, null, results, k -> {
            kit = k;
            kit.agentEnv = kit.env; // the agents as shipped: its RSS figures go into bench/RESULTS.md
            start();
        }, "ip", "ping", "tar", "curl");
    }

    private static void start() {
        a = kit.host("a", "10.77.0.11");
        b = kit.host("b", "10.77.0.12");
        d = kit.host("d", "10.77.0.13");
        Bg sw = kit.startSwitch("--listen", LabKit.SWITCH_IP + ":9990", "--vl2-listen", LabKit.SWITCH_IP + ":9991",
                "--network", "id=2a,name=left", "--network", "id=2b,name=right", "--api-tls", "self-signed");
        // a and b with a shell too (each in its own namespace: the same loopback port), so that t05 compares agents
        // booted the same way: without --ssh-port an agent boots pre-resolved, without shell, at about half the RSS
        agentA = kit.startAgent("a", a, "--switch", LabKit.SWITCH_IP, "--network", "2a", "--address", A_IP + "/24",
                "--ssh-port", String.valueOf(AGENT_SSH));
        agentB = kit.startAgent("b", b, "--switch", LabKit.SWITCH_IP, "--network", "2b", "--address", B_IP + "/24",
                "--ssh-port", String.valueOf(AGENT_SSH));
        dual = kit.startAgent("d", d, "--switch", LabKit.SWITCH_IP, "--network",
                "id=2a,tap=vl2a,address=" + D_IP_A + "/24", "--network", "id=2b,tap=vl2b,address=" + D_IP_B + "/24",
                "--ssh-port", String.valueOf(AGENT_SSH), "--api", "127.0.0.1:" + AGENT_API);
        // each wait has its own bound: a loaded machine boots the switch after the agents
        LabKit.await(sw, "the switch's vl2 transport attached", Pattern.compile("Transport vl2 .* on "
                + Pattern.quote(LabKit.SWITCH_IP + ":9991") + " attached"));
        LabKit.await(agentA, "a joined network 2a", Pattern.compile("Port agent joined network " + NET_A));
        LabKit.await(agentB, "b joined network 2b", Pattern.compile("Port agent joined network " + NET_B));
        LabKit.await(dual, "d joined network 2a", Pattern.compile("\\[2a\\] Port agent joined network " + NET_A));
        LabKit.await(dual, "d joined network 2b", Pattern.compile("\\[2b\\] Port agent joined network " + NET_B));
        results.put("dual agent d boot to both joined", (System.nanoTime() - dual.startNanos) / 1_000_000 + " ms");
    }

    @AfterClass
    public static void tearDown() {
        if (kit == null) {
            return;
        }
        kit.close("MultiNetworkAgentE2EIT", results);
    }

    /** One factory configuration per network, each with its TAP; both TAP devices exist in the one namespace. */
    @Test
    public void t01OneProcessTwoConfigurationsTwoTapDevices() throws Exception {
        Path etc = kit.lab.work.resolve("d/etc");
        for (String[] n : new String[][] {{"2a", "vl2a", D_IP_A}, {"2b", "vl2b", D_IP_B}}) {
            String cfg = Files.readString(etc.resolve("org.vl2.agent-" + n[0] + ".cfg"));
            assertTrue(cfg, cfg.contains("network = " + n[0]) && cfg.contains("tap.name = " + n[1])
                    && cfg.contains("address = " + n[2] + "/24"));
            Result link = Lab.in(d, CMD, "ip", "-o", "addr", "show", "dev", n[1]).check();
            assertTrue(link.out(), link.out().contains(n[2] + "/24"));
        }
        assertFalse("no plain configuration beside the factory ones", Files.exists(etc.resolve("org.vl2.agent.cfg")));
        // both TAP devices are held by the one JVM (a tun file descriptor's fdinfo names its device)
        String fds = Lab.run(CMD, "sh", "-c", "cat /proc/" + dual.javaPid() + "/fdinfo/*").out();
        assertTrue("d's JVM holds vl2a and vl2b:\n" + fds, fds.contains("iff:\tvl2a") && fds.contains("iff:\tvl2b"));
        String threads = Lab.run(CMD, "sh", "-c", "cat /proc/" + dual.javaPid() + "/task/*/comm").out();
        for (String t : List.of("vl2-agent-2a-ta", "vl2-agent-2b-ta")) { // comm is cut to 15 characters
            assertTrue("thread " + t + " in d's JVM:\n" + threads, threads.contains(t));
        }
    }

    /** The dual agent reaches a member of each network, and each member reaches it. */
    @Test
    public void t02DualAgentPingsAMemberOfEachNetwork() {
        results.put("ping RTT d -> a in network 2a (min/avg/max/mdev)", LabKit.ping(d, A_IP, 5));
        results.put("ping RTT d -> b in network 2b (min/avg/max/mdev)", LabKit.ping(d, B_IP, 5));
        LabKit.ping(a, D_IP_A, 3);
        LabKit.ping(b, D_IP_B, 3);
        String macA = LabKit.mac(d, "vl2a");
        String macB = LabKit.mac(d, "vl2b");
        String tableA = kit.switchCommand("vl2:mactable --no-format --network 2a", out -> out.contains(macA));
        String tableB = kit.switchCommand("vl2:mactable --no-format --network 2b", out -> out.contains(macB));
        assertFalse("d's network-2b MAC is not in network 2a:\n" + tableA, tableA.contains(macB));
        assertFalse("d's network-2a MAC is not in network 2b:\n" + tableB, tableB.contains(macA));
    }

    /**
     * Nothing crosses: frames d sends into network 2a for b's address (ARP on vl2a) never reach b, whose TAP device
     * counts no more frames than the network-2b traffic it sees anyway; a cannot reach b at all.
     */
    @Test
    public void t03NothingCrossesBetweenTheNetworks() {
        LabKit.ping(d, B_IP, 1); // both paths work before the probe
        Lab.in(d, CMD, "ip", "route", "add", B_IP + "/32", "dev", "vl2a").check();
        try {
            long before = rxPackets(b, "vl2tap0");
            Result probe = Lab.in(d, CMD, "ping", "-c", "5", "-i", "0.2", "-W", "1", B_IP);
            assertFalse("b's address is not reachable through network 2a:\n" + probe.out(), probe.ok());
            long after = rxPackets(b, "vl2tap0");
            // 5 ARP requests (more with retries) would have arrived had they crossed; background IPv6 chatter is less
            assertTrue("b's TAP received " + (after - before) + " frames during the probe", after - before < 3);
            results.put("frames reaching b while d probed through network 2a", String.valueOf(after - before));
        } finally {
            Lab.in(d, CMD, "ip", "route", "del", B_IP + "/32", "dev", "vl2a");
        }
        Lab.in(a, CMD, "ip", "route", "add", B_IP + "/32", "dev", "vl2tap0").check();
        Result cross = Lab.in(a, CMD, "ping", "-c", "2", "-i", "0.2", "-W", "1", B_IP);
        assertFalse("network 2a does not reach network 2b:\n" + cross.out(), cross.ok());
        String neigh = Lab.in(d, CMD, "ip", "neigh", "show", B_IP, "dev", "vl2a").out();
        assertFalse("no MAC for b behind d's network-2a TAP: " + neigh, neigh.contains("lladdr"));
        LabKit.ping(d, B_IP, 1); // and the real path still works
    }

    /** vl2:agent in the dual agent shows a table per network, both RUNNING. */
    @Test
    public void t04AgentCommandShowsBothInstances() {
        String out = kit.command(d, "d", "vl2:agent --no-format",
                o -> o.contains(NET_A) && o.contains(NET_B) && o.split("RUNNING", -1).length == 3);
        for (String tap : List.of("vl2a", "vl2b")) { // --no-format: name (padded), tab, value
            assertTrue(out, out.lines().anyMatch(l -> l.matches("TAP\\s*\\t" + tap + "\\s*")));
        }
        String one = kit.command(d, "d", "vl2:agent --no-format --network 2b", o -> o.contains(NET_B));
        assertFalse(one, one.contains(NET_A));
    }

    /**
     * What a second network costs: the dual agent's RSS against the two single-network agents'. d also runs the HTTP
     * API (Pax Web, t06), so its figure bounds the cost of the second network from above.
     */
    @Test
    public void t05ResidentSetSizes() {
        long dRss = rssKiB(dual.javaPid());
        long aRss = rssKiB(agentA.javaPid());
        long bRss = rssKiB(agentB.javaPid());
        results.put("RSS dual-network agent d (with --api)", dRss / 1024 + " MiB");
        results.put("RSS single-network agents a + b", aRss / 1024 + " + " + bRss / 1024 + " = " + (aRss + bRss) / 1024
                + " MiB");
        assertTrue("the dual agent (" + dRss + " KiB) takes less than the two single ones (" + (aRss + bRss) + " KiB)",
                dRss < aRss + bRss);
    }

    /**
     * The switch's API answers over HTTPS only, with the certificate the launcher made (DIR/api-tls.crt); a token
     * made in its shell reads /metrics, which counts the handshakes of the four sessions; agent d's own API shows
     * its two instances and their metrics.
     */
    @Test
    public void t06ApiOverTlsWithATokenAndTheAgentsApi() throws Exception {
        String crt = kit.lab.work.resolve("sw/api-tls.crt").toString();
        String login = "karaf:" + password("sw");
        awaitHttp(kit.sw, "--cacert", crt, "https://127.0.0.1:8181/api/switch");
        awaitHttp(d, "http://127.0.0.1:" + AGENT_API + "/api/agents");
        String sw = curl(kit.sw, 200, "--cacert", crt, "-u", login, "https://127.0.0.1:8181/api/switch");
        assertTrue(sw, sw.contains("\"publicKey\":\"" + kit.switchKey + "\""));
        Result plain = Lab.in(kit.sw, CMD, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-u", login,
                "http://127.0.0.1:8181/api/switch");
        assertFalse("no plain HTTP beside HTTPS: " + plain.out(), plain.ok() && plain.out().trim().equals("200"));
        Result untrusted = Lab.in(kit.sw, CMD, "curl", "-sS", "-o", "/dev/null", "-u", login,
                "https://127.0.0.1:8181/api/switch");
        assertFalse("the certificate is not one the system trusts: " + untrusted.out(), untrusted.ok());

        String token = kit.switchCommand("vl2:token-create e2e-metrics", o -> o.contains("created")).lines()
                .map(String::trim).filter(l -> l.startsWith("vl2_")).findFirst().orElseThrow();
        String metrics = curl(kit.sw, 200, "--cacert", crt, "-H", "Authorization: Bearer " + token,
                "https://127.0.0.1:8181/metrics");
        java.util.regex.Matcher hs = Pattern.compile("(?m)^vl2_switch_handshakes_total (\\S+)$").matcher(metrics);
        assertTrue(metrics, hs.find());
        assertTrue("four sessions (a, b, d twice): " + hs.group(1), Double.parseDouble(hs.group(1)) >= 4);
        assertTrue(metrics, metrics.contains("vl2_transport_transmit_errors_total{transport=\"vl2\"}"));
        assertTrue(metrics, metrics.contains("vl2_network_leases_free{network=\"000000000000002a\"}"));
        results.put("switch /metrics over TLS with a token", metrics.length() + " bytes");
        kit.switchCommand("vl2:token-revoke e2e-metrics", o -> o.contains("revoked"));
        curl(kit.sw, 401, "--cacert", crt, "-H", "Authorization: Bearer " + token, "https://127.0.0.1:8181/metrics");

        String agentLogin = "karaf:" + password("d");
        String agents = curl(d, 200, "-u", agentLogin, "http://127.0.0.1:" + AGENT_API + "/api/agents");
        assertTrue(agents, agents.contains("\"vl2a\"") && agents.contains("\"vl2b\""));
        String agentMetrics = curl(d, 200, "-u", agentLogin, "http://127.0.0.1:" + AGENT_API + "/metrics");
        for (String tap : List.of("vl2a", "vl2b")) {
            assertTrue(agentMetrics, Pattern.compile("(?m)^vl2_agent_state\\{state=\"RUNNING\",tap=\"" + tap
                    + "\"\\} 1(\\.0)?$").matcher(agentMetrics).find());
        }
        curl(d, 401, "http://127.0.0.1:" + AGENT_API + "/api/agents");
    }

    /**
     * Until the API in {@code ns} answers (any status but 404: 401 without a login), {@link LabKit#BOOT} at most. The
     * HTTP server answers 404 for the moment between its start and the registration of the API's servlet.
     */
    private static void awaitHttp(String ns, String... args) throws InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"));
        cmd.addAll(List.of(args));
        long end = System.nanoTime() + LabKit.BOOT.toNanos();
        Result r;
        do {
            r = Lab.in(ns, CMD, cmd.toArray(new String[0]));
            String status = r.out().trim();
            if (r.ok() && !status.equals("000") && !status.equals("404")) {
                return;
            }
            Thread.sleep(500); // between polls of a condition
        } while (System.nanoTime() < end);
        throw new AssertionError(String.join(" ", args) + " did not answer within " + LabKit.BOOT.toSeconds()
                + " s: " + r.out());
    }

    /** curl in {@code ns}: the body, after checking the HTTP status. */
    private static String curl(String ns, int status, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("curl", "-sS", "-w", "\n%{http_code}"));
        cmd.addAll(List.of(args));
        Result r = Lab.in(ns, CMD, cmd.toArray(new String[0]));
        String out = r.out().stripTrailing();
        int nl = out.lastIndexOf('\n');
        assertEquals(String.join(" ", args) + " (exit " + r.exit() + "):\n" + out, String.valueOf(status),
                out.substring(nl + 1).trim());
        return nl < 0 ? "" : out.substring(0, nl);
    }

    /** The password an instance's launcher generated (DIR/client/users.properties). */
    private static String password(String instance) throws java.io.IOException {
        return Files.readAllLines(kit.lab.work.resolve(instance + "/client/users.properties")).stream()
                .filter(l -> l.startsWith("karaf = ")).map(l -> l.substring(8).trim()).findFirst().orElseThrow();
    }

    private static long rxPackets(String ns, String dev) {
        return Long.parseLong(Lab.in(ns, CMD, "cat", "/sys/class/net/" + dev + "/statistics/rx_packets").check().out()
                .trim());
    }

    private static long rssKiB(long pid) {
        String v = LabKit.rss(pid);
        assertTrue("VmRSS of " + pid + ": " + v, v.endsWith("kB"));
        return Long.parseLong(v.replace("kB", "").trim());
    }
}
