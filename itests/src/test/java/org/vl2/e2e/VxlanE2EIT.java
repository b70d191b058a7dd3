package org.vl2.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestRule;
import org.junit.runners.MethodSorters;
import org.vl2.e2e.Lab.Bg;

/**
 * End to end, VXLAN interop: Linux kernel VXLAN devices as ports of the vl2 switch ({@code bin/vl2-switch --vxlan}),
 * next to a vl2 agent, in network namespaces. Plain JUnit 4 run by failsafe, as root; skipped (with the reason)
 * otherwise.
 *
 * <pre>
 *                       underlay 10.77.0.0/24: bridge ul0 in &lt;p&gt;-sw
 *   &lt;p&gt;-sw  vl2-switch --vxlan 10.77.0.1:4789 --network id=2a,plaintext=true --network id=2b,plaintext=true
 *           --vxlan-vni 42=2a --vxlan-vni 43=2b --vxlan-remote 43=10.77.0.32
 *   &lt;p&gt;-k1  vx0: kernel VTEP, VNI 42 (= network 2a), 10.42.0.31/24, mtu 1400    underlay 10.77.0.31
 *           vx1: kernel VTEP, VNI 43 (= network 2b), 10.43.0.31/24, mtu 1400
 *   &lt;p&gt;-k2  vx1: kernel VTEP, VNI 43 (= network 2b), 10.43.0.32/24, mtu 1400    underlay 10.77.0.32
 *   &lt;p&gt;-a1  vl2-agent --network 2a, TAP vl2tap0 10.42.0.101/24 (mtu 1400)       underlay 10.77.0.41
 * </pre>
 *
 * Network 2a: a kernel VTEP and a vl2 agent (ping both ways, ARP, IPv6 link-local). Network 2b: two kernel VTEPs
 * and no vl2 agent at all, k2 a static remote (--vxlan-remote). VNIs map to networks by --vxlan-vni (VNI 42 =
 * network 0x2a): no VNI is a network implicitly, and both networks are opened to plaintext (VTEPs carry no identity). Each kernel VTEP is {@code ip link add vxN type vxlan id VNI remote 10.77.0.1 local IP dstport 4789 dev
 * eth0}: everything it does not know goes to the switch.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class VxlanE2EIT {

    private static final String SWITCH_IP = LabKit.SWITCH_IP;
    private static final int VXLAN_PORT = 4789;
    private static final String K1_UNDERLAY = "10.77.0.31";
    private static final String K2_UNDERLAY = "10.77.0.32";
    private static final String A1_UNDERLAY = "10.77.0.41";
    private static final String K1_MAC42 = "02:76:78:00:00:31";
    private static final String K1_MAC43 = "02:76:78:00:01:31";
    private static final String K2_MAC43 = "02:76:78:00:01:32";
    private static final String A1_MAC = "02:76:6c:32:00:41";
    private static final String K1_IP42 = "10.42.0.31";
    private static final String K1_IP43 = "10.43.0.31";
    private static final String K2_IP43 = "10.43.0.32";
    private static final String A1_IP = "10.42.0.101";
    private static final Duration CMD = LabKit.CMD;

    private static LabKit kit;
    private static String k1;
    private static String k2;
    private static String a1;
    private static Bg agent;
    private static final Map<String, String> results = new LinkedHashMap<>();

    @Rule
    public final TestRule rules = LabKit.rules("VxlanE2EIT", () -> kit);

    @BeforeClass
    public static void setUp() throws Exception {
        LabKit.setUp("VxlanE2EIT", "vxlan", SWITCH_IP, VxlanE2EIT::probeVxlan, results, k -> {
            kit = k;
            network();
            start();
        }, "ip", "ping", "tar", "ss");
    }

    /** Whether the kernel can create a vxlan device at all (tried in a scratch namespace); null if it can. */
    private static String probeVxlan() {
        String ns = "vl2e-vxprobe-" + ProcessHandle.current().pid();
        try {
            Lab.run(Lab.SHORT, "ip", "netns", "add", ns);
            Lab.Result r = Lab.run(Lab.SHORT, "ip", "-n", ns, "link", "add", "vx0", "type", "vxlan", "id", "1",
                    "dstport", "4789");
            return r.ok() ? null : "this kernel cannot create vxlan devices: " + r.out().trim();
        } finally {
            Lab.run(Lab.SHORT, "ip", "netns", "del", ns);
        }
    }

    @AfterClass
    public static void tearDown() {
        if (kit == null) {
            return;
        }
        if (kit.switchProcess != null && kit.switchProcess.alive()) {
            results.put("RSS switch", LabKit.rss(kit.switchProcess.javaPid()));
        }
        kit.close("VxlanE2EIT", results);
    }

    private static void network() {
        k1 = kit.host("k1", K1_UNDERLAY);
        k2 = kit.host("k2", K2_UNDERLAY);
        a1 = kit.host("a1", A1_UNDERLAY);
        kernelVtep(k1, "vx0", 42, K1_UNDERLAY, K1_MAC42, K1_IP42);
        kernelVtep(k1, "vx1", 43, K1_UNDERLAY, K1_MAC43, K1_IP43);
        kernelVtep(k2, "vx1", 43, K2_UNDERLAY, K2_MAC43, K2_IP43);
    }

    /** A Linux VXLAN device: everything it has no FDB entry for goes to the switch's VTEP. */
    private static void kernelVtep(String ns, String dev, int vni, String local, String mac, String address) {
        Lab.ip("-n", ns, "link", "add", dev, "type", "vxlan", "id", String.valueOf(vni), "remote", SWITCH_IP,
                "local", local, "dstport", String.valueOf(VXLAN_PORT), "dev", "eth0");
        Lab.ip("-n", ns, "link", "set", dev, "address", mac, "mtu", "1400");
        Lab.ip("-n", ns, "addr", "add", address + "/24", "dev", dev);
        Lab.ip("-n", ns, "link", "set", dev, "up");
    }

    private static void start() {
        // --api off: nothing here uses the HTTP API, and its Pax Web was ~2.3 of a switch boot's 8-10 CPU-seconds
        Bg sw = kit.startSwitch("--api", "off", "--vxlan", SWITCH_IP + ":" + VXLAN_PORT, "--listen", SWITCH_IP + ":9990",
                "--vl2-listen", SWITCH_IP + ":9991", "--network", "id=2a,name=vx42,plaintext=true", "--network",
                "id=2b,name=vx43,plaintext=true", "--vxlan-vni", "42=2a", "--vxlan-vni", "43=2b",
                "--vxlan-remote", "43=" + K2_UNDERLAY);
        agent = kit.startAgent("a1", a1, "--switch", SWITCH_IP, "--network", "2a", "--address", A1_IP + "/24",
                "--mac", A1_MAC);
        LabKit.await(sw, "the VXLAN transport attached", Pattern.compile(
                "Transport vxlan \\(vxlan mode, ranking 0\\) on " + Pattern.quote(SWITCH_IP + ":" + VXLAN_PORT)
                        + " attached"));
        results.put("switch boot to VXLAN transport attached", (System.nanoTime() - sw.startNanos) / 1_000_000 + " ms");
        LabKit.await(agent, "the agent joined network 2a", Pattern.compile("Port agent up"));
        results.put("agent a1 boot to 'Port agent up'", (System.nanoTime() - agent.startNanos) / 1_000_000 + " ms");
        boolean tap = Lab.await(LabKit.BOOT, () -> Lab.run(Lab.SHORT, "ip", "-n", a1, "link", "show", "vl2tap0").ok());
        assertTrue("a1's TAP device vl2tap0 is up", tap);
    }

    // ---------------------------------------------------------------------------------------------------------

    /** --vxlan, --vxlan-remote: the feature boots, the configuration holds the flags, the switch listens on 4789. */
    @Test
    public void t01LauncherStartsTheVxlanTransportFromItsFlags() throws Exception {
        Path etc = kit.lab.work.resolve("sw/etc");
        String cfg = Files.readString(etc.resolve("org.vl2.transport.vxlan.cfg"));
        assertTrue(cfg, cfg.contains("bind.address = " + SWITCH_IP) && cfg.contains("port = " + VXLAN_PORT)
                && cfg.contains("remotes = 43=" + K2_UNDERLAY) && cfg.contains("vni = 42=2a,43=2b"));
        String features = Files.readString(etc.resolve("org.apache.karaf.features.cfg"));
        assertTrue(features, features.contains("vl2-transport-vxlan/"));
        String udp = Lab.in(kit.sw, CMD, "ss", "-Hlun").check().out();
        assertTrue("the switch listens on " + SWITCH_IP + ":" + VXLAN_PORT + ":\n" + udp,
                udp.contains(SWITCH_IP + ":" + VXLAN_PORT));
        String list = kit.switchCommand("feature:list -i --no-format", out -> out.contains("vl2-transport-vxlan"));
        assertTrue(list, list.contains("vl2-transport-vxlan"));
        // the static remote is a port of network 2b before it has sent anything
        String ports = kit.switchCommand("vl2:ports --no-format --network 2b",
                out -> out.contains(K2_UNDERLAY + ":" + VXLAN_PORT));
        assertTrue(ports, ports.lines().anyMatch(l -> l.contains(K2_UNDERLAY + ":" + VXLAN_PORT) && l.contains("vxlan")));
    }

    @Test
    public void t02KernelVtepAndAgentPingBothWaysAndResolveEachOther() {
        String rtt = LabKit.ping(k1, A1_IP, 5);
        results.put("ping RTT kernel VTEP k1 -> agent a1 (min/avg/max/mdev)", rtt);
        rtt = LabKit.ping(a1, K1_IP42, 5);
        results.put("ping RTT agent a1 -> kernel VTEP k1 (min/avg/max/mdev)", rtt);
        String neigh = Lab.in(k1, CMD, "ip", "neigh", "show", A1_IP, "dev", "vx0").check().out();
        assertTrue("k1 resolved " + A1_IP + " to a1's TAP MAC " + A1_MAC + ": " + neigh,
                neigh.toLowerCase(Locale.ROOT).contains("lladdr " + A1_MAC));
        neigh = Lab.in(a1, CMD, "ip", "neigh", "show", K1_IP42, "dev", "vl2tap0").check().out();
        assertTrue("a1 resolved " + K1_IP42 + " to k1's vx0 MAC " + K1_MAC42 + ": " + neigh,
                neigh.toLowerCase(Locale.ROOT).contains("lladdr " + K1_MAC42));
        // the kernel learnt a1's MAC behind the switch's VTEP
        String fdb = Lab.in(k1, CMD, "bridge", "fdb", "show", "dev", "vx0").out();
        results.put("k1 vx0 FDB entry for a1", fdb.lines().filter(l -> l.contains(A1_MAC)).findFirst().orElse("(none)"));
        // the switch: k1 is a vxlan port of network 2a, a1 a vl2 port of the same network, both MACs learnt there
        String table = kit.switchCommand("vl2:mactable --no-format --network 2a",
                out -> out.contains(K1_MAC42) && out.contains(A1_MAC));
        assertTrue(table, table.contains(K1_MAC42) && table.contains(A1_MAC));
        String ports = kit.switchCommand("vl2:ports --no-format --network 2a",
                out -> out.contains(K1_UNDERLAY + ":" + VXLAN_PORT));
        assertTrue(ports, ports.lines().anyMatch(l -> l.contains(K1_UNDERLAY + ":" + VXLAN_PORT) && l.contains("vxlan")));
        assertTrue(ports, ports.lines().anyMatch(l -> l.contains(A1_UNDERLAY + ":") && l.contains("vl2")));
    }

    @Test
    public void t03Ipv6LinkLocalPingBothWays() {
        String llK1 = LabKit.linkLocal(k1, "vx0");
        String llA1 = LabKit.linkLocal(a1, "vl2tap0");
        String rtt = LabKit.ping(a1, llK1 + "%vl2tap0", 3, "-6");
        results.put("IPv6 link-local ping a1 -> k1 (min/avg/max/mdev)", rtt);
        LabKit.ping(k1, llA1 + "%vx0", 3, "-6");
        String neigh = Lab.in(a1, CMD, "ip", "-6", "neigh", "show", llK1, "dev", "vl2tap0").check().out();
        assertTrue("neighbour discovery found k1's MAC: " + neigh, neigh.toLowerCase(Locale.ROOT).contains(K1_MAC42));
    }

    /** A full-size packet at MTU 1400 both ways (don't fragment): the encapsulations fit. */
    @Test
    public void t04FullSizePacketsAtMtu1400() {
        // 1400 - 20 (IPv4) - 8 (ICMP) = 1372 bytes of payload
        LabKit.ping(k1, A1_IP, 3, "-M", "do", "-s", "1372");
        LabKit.ping(a1, K1_IP42, 3, "-M", "do", "-s", "1372");
        results.put("ping with 1400-byte packets, DF set", "k1 <-> a1 ok");
    }

    /** Network 2b: two kernel VTEPs through the switch, no vl2 agent in that network. */
    @Test
    public void t05TwoKernelVtepsThroughTheSwitchWithoutAnyAgent() {
        String rtt = LabKit.ping(k1, K2_IP43, 5);
        results.put("ping RTT kernel VTEP k1 -> kernel VTEP k2 through the switch (min/avg/max/mdev)", rtt);
        rtt = LabKit.ping(k2, K1_IP43, 5);
        results.put("ping RTT kernel VTEP k2 -> kernel VTEP k1 through the switch (min/avg/max/mdev)", rtt);
        String neigh = Lab.in(k1, CMD, "ip", "neigh", "show", K2_IP43, "dev", "vx1").check().out();
        assertTrue("k1 resolved k2's MAC: " + neigh, neigh.toLowerCase(Locale.ROOT).contains("lladdr " + K2_MAC43));
        String ports = kit.switchCommand("vl2:ports --no-format --network 2b",
                out -> out.contains(K1_UNDERLAY + ":" + VXLAN_PORT) && out.contains(K2_UNDERLAY + ":" + VXLAN_PORT));
        long vxlanPorts = ports.lines().filter(l -> l.contains(":" + VXLAN_PORT) && l.contains("vxlan")).count();
        assertEquals("network 2b has exactly the two kernel VTEPs as ports:\n" + ports, 2, vxlanPorts);
        assertTrue("no vl2 agent in network 2b:\n" + ports, ports.lines().noneMatch(l -> l.contains(A1_UNDERLAY)));
        // k1 is a port of each network it has a VTEP in: one per (VTEP, VNI)
        String all = kit.switchCommand("vl2:ports --no-format", out -> true);
        long k1Ports = all.lines().filter(l -> l.contains(K1_UNDERLAY + ":" + VXLAN_PORT)).count();
        assertEquals("k1 is one port in 2a and one in 2b:\n" + all, 2, k1Ports);
        // isolation: k1's VNI 43 device cannot reach the agent, which is in network 2a
        Lab.Result cross = Lab.in(k1, CMD, "ping", "-c", "2", "-i", "0.2", "-W", "1", "-I", "vx1", A1_IP);
        assertTrue("network 2b does not reach network 2a:\n" + cross.out(), !cross.ok());
        // the kernels' RTT without the switch, for comparison: k1 -> k2 over the underlay
        Matcher m = Pattern.compile("= ([\\d./]+) ms").matcher(Lab.in(k1, CMD, "ping", "-c", "5", "-i", "0.2",
                K2_UNDERLAY).out());
        results.put("ping RTT k1 -> k2 on the underlay, no VXLAN (min/avg/max/mdev)", m.find() ? m.group(1) + " ms" : "?");
    }

    /** Round trips once the JIT has compiled the forwarding paths (the first pings after boot are slower). */
    @Test
    public void t06WarmRoundTrips() {
        for (String[] path : new String[][] {{k1, A1_IP, "kernel VTEP k1 -> agent a1"},
                {a1, K1_IP42, "agent a1 -> kernel VTEP k1"}, {k1, K2_IP43, "kernel VTEP k1 -> kernel VTEP k2"}}) {
            Lab.Result warm = Lab.in(path[0], CMD, "ping", "-q", "-c", "20", "-i", "0.05", "-W", "2", path[1]);
            Matcher m = Pattern.compile("(\\d+) received.*= ([\\d./]+) ms", Pattern.DOTALL).matcher(warm.out());
            assertTrue(path[2] + ": at least 18 of 20 replies:\n" + warm.out(),
                    m.find() && Integer.parseInt(m.group(1)) >= 18);
            results.put("ping RTT " + path[2] + ", warm (min/avg/max/mdev)", m.group(2) + " ms, " + m.group(1)
                    + " of 20 replies");
        }
    }

    /**
     * A switch whose VXLAN port is taken (here by k2's kernel VTEP, which holds UDP 4789 in k2): one ERROR saying
     * why, and the launcher stops with exit status 1 rather than run without its VXLAN transport.
     */
    @Test
    public void t07SwitchWhoseVxlanPortIsTakenSaysWhyAndExits1() throws Exception {
        Bg bad = kit.lab.start("k2-switch", kit.switchEnv, Lab.netnsExec(k2, kit.dist.resolve("bin/vl2-switch").toString(),
                "--vxlan", String.valueOf(VXLAN_PORT), "--api", "off", "--data",
                kit.lab.work.resolve("k2-switch").toString()));
        try {
            Matcher error = LabKit.await(bad, "an ERROR saying why", Pattern.compile(
                    "ERROR .*VXLAN transport: cannot listen on UDP 0\\.0\\.0\\.0:" + VXLAN_PORT + ".*"));
            results.put("switch with its VXLAN port taken", error.group(0).replaceFirst("^.*ERROR", "ERROR"));
            assertTrue("the launcher stops by itself:\n" + bad.output(),
                    bad.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals("exit status 1:\n" + bad.output(), 1, bad.process.exitValue());
            assertTrue(bad.output(), bad.output().contains("did not start"));
        } finally {
            bad.stop(Duration.ofSeconds(30));
        }
        LabKit.ping(k1, K2_IP43, 1); // k2's VTEP is untouched
    }
}
