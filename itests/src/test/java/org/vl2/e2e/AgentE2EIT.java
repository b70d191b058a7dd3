package org.vl2.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestRule;
import org.junit.runners.MethodSorters;
import org.vl2.e2e.Lab.Bg;
import org.vl2.e2e.Lab.Result;
import org.vl2.e2e.LabKit.Probe;

/**
 * End to end: the vl2 distribution, started the way users start it ({@code bin/vl2-switch}, {@code bin/vl2-agent}),
 * on hosts made of network namespaces. Not Pax Exam: plain JUnit 4 run by failsafe, as root.
 *
 * <pre>
 *                       underlay 10.77.0.0/24: bridge ul0 in &lt;p&gt;-sw
 *   &lt;p&gt;-sw  vl2-switch --listen 10.77.0.1:9990 --raw-network 0 --network id=0,plaintext=true   (ssh 8102)
 *   &lt;p&gt;-h1  vl2-agent, TAP vl2tap0 10.1.1.101/24         underlay 10.77.0.11
 *   &lt;p&gt;-h2  vl2-agent, TAP vl2tap0 10.1.1.102/24         underlay 10.77.0.12
 *   &lt;p&gt;-h3  vl2-agent, TAP vl2tap0 in bridge br0 (10.1.1.103/24), behind it
 *           &lt;p&gt;-b1 (10.1.1.111) and &lt;p&gt;-b2 (10.1.1.112)   underlay 10.77.0.13
 *   &lt;p&gt;-h4  vl2-agent, TAP lan0 10.1.1.104/24, mtu 1400 (the one the last test stops)   10.77.0.14
 *   &lt;p&gt;-v1  seed VPort (tools/seed-vport/vport.c), TAP vl2tap0 10.1.1.121/24        10.77.0.21
 * </pre>
 *
 * Built on {@link LabKit} (folder {@code agent}). One unpacked distribution, one instance directory per host
 * ({@code --data}). Everything boots once, in
 * {@link #setUp()}; the tests run in name order because the last one stops an agent and shortens the switch's
 * port idle timeout. Skipped (with the reason) unless root with {@code /dev/net/tun}, {@code ip}, {@code ping},
 * {@code iperf3}; the tests that need {@code gcc} (broadcast probe, VLAN on kernels without 802.1Q, seed VPort)
 * are skipped without it.
 *
 * <p>Why the idle timeout is shortened only at the end: a raw-mode port exists on the switch only while it
 * sends (its first frame creates it, {@code port.idle.timeout.seconds} of silence removes it), and a removed
 * port receives nothing, not even the ARP request that would wake it up. With a 3-second timeout from the
 * start, any host silent for 3 s would be unreachable.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class AgentE2EIT {

    private static final String SWITCH_IP = LabKit.SWITCH_IP;
    private static final int SWITCH_PORT = 9990;
    private static final String SWITCH = SWITCH_IP + ":" + SWITCH_PORT;
    /** The vl2-protocol endpoint agents join by default (vl2 mode). */
    private static final String SWITCH_VL2 = SWITCH_IP + ":9991";
    private static final int AGENT_SSH = 8103;
    private static final int IDLE_TIMEOUT = 600;
    private static final Duration BOOT = LabKit.BOOT;
    private static final Duration CMD = LabKit.CMD;

    /** A port host and its agent (or VPort). */
    static final class Host {
        final String name;
        final String ns;
        final String tap;
        final String mac;
        final String address;
        final String underlay;
        Bg process;
        long tapUpMillis = -1;
        long agentUpMillis = -1;

        Host(String name, String ns, String tap, String mac, String address, String underlay) {
            this.name = name;
            this.ns = ns;
            this.tap = tap;
            this.mac = mac;
            this.address = address;
            this.underlay = underlay;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static LabKit kit;
    private static boolean haveGcc;
    private static Bg switchProcess;
    private static Host h1;
    private static Host h2;
    private static Host h3;
    private static Host h4;
    private static Host v1;
    private static String b1;
    private static String b2;
    private static final List<Host> hosts = new ArrayList<>();
    private static final Map<String, String> results = new LinkedHashMap<>();
    private static long firstPingMillis = -1;

    @Rule
    public final TestRule rules = LabKit.rules("AgentE2EIT", () -> kit);

    // ---------------------------------------------------------------------------------------------------------
    // Set-up and tear-down

    @BeforeClass
    public static void setUp() throws Exception {
        LabKit.setUp("AgentE2EIT", "agent", SWITCH_IP, null, results, k -> {
            kit = k;
            haveGcc = kit.compileTools();
            network();
            start();
        }, "ip", "ping", "iperf3", "tar", "ss");
    }

    @AfterClass
    public static void tearDown() {
        if (kit == null) {
            return;
        }
        for (Host h : hosts) {
            if (h.process != null && h.process.alive()) {
                results.put("RSS " + h.name + " (" + (h == v1 ? "C VPort" : "agent") + ")",
                        LabKit.rss(h.process.javaPid()));
            }
        }
        if (switchProcess != null && switchProcess.alive()) {
            results.put("RSS switch", LabKit.rss(switchProcess.javaPid()));
        }
        kit.close("AgentE2EIT", results);
    }

    /** The namespaces on the underlay bridge, the Linux bridge on h3 and the hosts behind it. */
    private static void network() {
        h1 = host("h1", "vl2tap0", "02:76:6c:32:00:01", "10.1.1.101", "10.77.0.11");
        h2 = host("h2", "vl2tap0", "02:76:6c:32:00:02", "10.1.1.102", "10.77.0.12");
        h3 = host("h3", "vl2tap0", "02:76:6c:32:00:03", "10.1.1.103", "10.77.0.13");
        h4 = host("h4", "lan0", "02:76:6c:32:00:04", "10.1.1.104", "10.77.0.14");
        if (haveGcc) {
            v1 = host("v1", "vl2tap0", null, "10.1.1.121", "10.77.0.21");
        }

        // h3: a Linux bridge holding h3's own address; b1 and b2 hang off it through veth pairs
        Lab.ip("-n", h3.ns, "link", "add", "br0", "type", "bridge");
        Lab.ip("-n", h3.ns, "addr", "add", h3.address + "/24", "dev", "br0");
        Lab.ip("-n", h3.ns, "link", "set", "br0", "up");
        b1 = behindBridge("b1", "10.1.1.111");
        b2 = behindBridge("b2", "10.1.1.112");
    }

    private static Host host(String name, String tap, String mac, String address, String underlay) {
        Host h = new Host(name, kit.host(name, underlay), tap, mac, address, underlay);
        hosts.add(h);
        return h;
    }

    private static String behindBridge(String name, String address) {
        String ns = kit.lab.namespace(name);
        Lab.ip("-n", h3.ns, "link", "add", "v-" + name, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Lab.ip("-n", h3.ns, "link", "set", "v-" + name, "master", "br0", "up");
        Lab.ip("-n", ns, "addr", "add", address + "/24", "dev", "eth0");
        Lab.ip("-n", ns, "link", "set", "eth0", "up");
        return ns;
    }

    /** The switch, the agents and the VPort, all at once, as users start them; waits until all are up. */
    private static void start() {
        // the documented step for raw ports (h3, the seed VPort v1) on the encrypted agents' LAN: open the raw listener,
        // point it at the default network and open that network to plaintext (docs/operating.md#raw-mode)
        switchProcess = kit.startSwitch("--listen", SWITCH, "--raw-network", "0", "--network", "id=0,plaintext=true",
                "--idle-timeout", String.valueOf(IDLE_TIMEOUT));
        // h1 with its shell (agents have none unless asked: h2 to h4 listen on no TCP port)
        h1.process = agent(h1, "--address", h1.address + "/24", "--mac", h1.mac, "--address6", "fd00:1::101/64",
                "--ssh-port", String.valueOf(AGENT_SSH));
        h2.process = agent(h2, "--address", h2.address + "/24", "--mac", h2.mac, "--address6", "fd00:1::102/64");
        // h3 in raw mode: raw ports and vl2 members share the default network (opened to plaintext above)
        h3.process = agent(h3, "--mode", "raw", "--bridge", "br0", "--mac", h3.mac);
        h4.process = agent(h4, "--address", h4.address + "/24", "--mac", h4.mac, "--tap", h4.tap, "--mtu", "1300");
        if (v1 != null) {
            v1.process = kit.lab.start("v1", null, Lab.netnsExec(v1.ns, kit.tools.resolve("vport").toString(),
                    SWITCH_IP, String.valueOf(SWITCH_PORT), v1.tap));
        }

        LabKit.await(switchProcess, "listening on " + SWITCH,
                Pattern.compile("Transport udp .* on " + Pattern.quote(SWITCH) + " attached"));
        results.put("switch boot to listening", (System.nanoTime() - switchProcess.startNanos) / 1_000_000 + " ms");
        for (Host h : hosts) {
            // seen once is enough: an agent re-creates its TAP when the switch's WELCOME brings another MTU (1454 ->
            // 1400 here), so a second look can fall into that gap
            boolean[] seen = {false};
            Lab.await(BOOT, () -> (seen[0] = tapExists(h)) || !h.process.alive());
            if (!seen[0]) {
                fail(h + ": TAP " + h.tap + " did not appear within " + BOOT.toSeconds() + " s (" + h.process.state()
                        + ")");
            }
            h.tapUpMillis = (System.nanoTime() - h.process.startNanos) / 1_000_000;
            if (h == v1) {
                Lab.ip("-n", v1.ns, "addr", "add", v1.address + "/24", "dev", v1.tap);
                Lab.ip("-n", v1.ns, "link", "set", v1.tap, "up");
                continue;
            }
            LabKit.await(h.process, "'Port agent up'", Pattern.compile("Port agent up"));
            h.agentUpMillis = (System.nanoTime() - h.process.startNanos) / 1_000_000;
            results.put("agent " + h.name + " boot to TAP up / to 'Port agent up'",
                    h.tapUpMillis + " ms / " + h.agentUpMillis + " ms");
        }
        // boot to forwarding: from the start of the processes to the first ping that went through
        if (LabKit.awaitPing(h1.ns, h2.address, Duration.ofSeconds(30))) {
            firstPingMillis = (System.nanoTime() - h2.process.startNanos) / 1_000_000;
        }
        results.put("boot to first ping h1 -> h2 (all JVMs booting at once on " + Runtime.getRuntime().availableProcessors()
                + " cores)", firstPingMillis + " ms");
        assertTrue("h1 cannot ping h2 within 30 s of all agents being up", firstPingMillis > 0);
    }

    private static Bg agent(Host h, String... flags) {
        List<String> all = new ArrayList<>(List.of("--switch", SWITCH_IP));
        all.addAll(List.of(flags));
        return kit.startAgent(h.name, h.ns, all.toArray(new String[0]));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Tests

    /** The launchers mapped their flags onto the configuration; the agent is not a switch; JNA from its bundle. */
    @Test
    public void t01LaunchersConfiguredWhatTheFlagsSay() throws IOException {
        String link1 = Lab.in(h1.ns, CMD, "ip", "-o", "link", "show", "vl2tap0").check().out();
        assertTrue("MTU of the default network (vl2 mode): " + link1, link1.contains(" mtu 1400 "));
        assertTrue("MAC from --mac: " + link1, link1.contains("link/ether " + h1.mac));
        assertTrue("up: " + link1, link1.contains("UP"));
        String addr1 = Lab.in(h1.ns, CMD, "ip", "-o", "-4", "addr", "show", "dev", "vl2tap0").check().out();
        assertTrue("address from --address: " + addr1, addr1.contains("inet " + h1.address + "/24"));
        String addr6 = Lab.in(h1.ns, CMD, "ip", "-o", "-6", "addr", "show", "dev", "vl2tap0").check().out();
        assertTrue("address from --address6: " + addr6, addr6.contains("inet6 fd00:1::101/64"));
        String link4 = Lab.in(h4.ns, CMD, "ip", "-o", "link", "show", h4.tap).check().out();
        assertTrue("--tap lan0 --mtu 1300: " + link4, link4.contains(" mtu 1300 "));
        String link3mtu = Lab.in(h3.ns, CMD, "ip", "-o", "link", "show", "vl2tap0").check().out();
        assertTrue("raw mode's default MTU 1454: " + link3mtu, link3mtu.contains(" mtu 1454 "));
        String link3 = Lab.in(h3.ns, CMD, "ip", "-o", "link", "show", "vl2tap0").check().out();
        assertTrue("--bridge br0: " + link3, link3.contains(" master br0 "));

        // an agent runs no switch: nothing listens on UDP in its namespace
        String udp = Lab.in(h1.ns, CMD, "ss", "-Hlun").check().out();
        assertFalse("the agent listens on UDP:\n" + udp, udp.contains(":" + SWITCH_PORT) || udp.contains(":9991"));
        assertNotNull("the switch got --idle-timeout " + IDLE_TIMEOUT + ":\n" + switchProcess.output(),
                switchProcess.awaitOutput(Pattern.compile("port\\.idle\\.timeout\\.seconds=" + IDLE_TIMEOUT + "\\b"), CMD));

        // JNA's native part comes from the bundle (unpacked by the framework into the instance), not ~/.cache
        String maps = Files.readString(Path.of("/proc/" + h1.process.javaPid() + "/maps"));
        String jni = maps.lines().filter(l -> l.contains("jnidispatch")).findFirst().orElse("(not loaded)");
        assertTrue("libjnidispatch is loaded from the instance's bundle cache: " + jni,
                jni.contains(kit.lab.work.resolve("h1").resolve("data/cache").toString()));
    }

    @Test
    public void t02PingBothWaysAndArpLearnsThePeersTapMac() {
        String rtt = ping(h1.ns, h2.address, 5);
        ping(h2.ns, h1.address, 5);
        results.put("ping RTT h1 -> h2 (min/avg/max/mdev)", rtt);
        String neigh = Lab.in(h1.ns, CMD, "ip", "neigh", "show", h2.address, "dev", "vl2tap0").check().out();
        assertTrue("h1 resolved " + h2.address + " to h2's TAP MAC " + h2.mac + ": " + neigh,
                neigh.toLowerCase(Locale.ROOT).contains("lladdr " + h2.mac));
        neigh = Lab.in(h2.ns, CMD, "ip", "neigh", "show", h1.address, "dev", "vl2tap0").check().out();
        assertTrue("h2 resolved " + h1.address + " to h1's TAP MAC " + h1.mac + ": " + neigh,
                neigh.toLowerCase(Locale.ROOT).contains("lladdr " + h1.mac));
    }

    /** Marked broadcast frames from h1: exactly N at every other port (and the hosts behind h3's bridge), 0 back at h1. */
    @Test
    public void t03BroadcastReachesEveryOtherPortButNotTheSender() {
        Assume.assumeTrue("gcc is not installed (needed for the l2probe tool)", haveGcc);
        // a raw port exists once it has sent a frame: make sure every host has
        for (Host h : hosts) {
            if (h != h1 && h.process.alive()) {
                ping(h.ns, h1.address, 1);
            }
        }
        int count = 5;
        Map<String, Probe> receivers = new LinkedHashMap<>();
        receivers.put("h1 (sender) vl2tap0", new Probe(h1.ns, "vl2tap0", null, false));
        receivers.put("h2 vl2tap0", new Probe(h2.ns, "vl2tap0", null, true));
        receivers.put("h3 br0", new Probe(h3.ns, "br0", null, true));
        receivers.put("b1 eth0 (behind h3's bridge)", new Probe(b1, "eth0", null, true));
        receivers.put("b2 eth0 (behind h3's bridge)", new Probe(b2, "eth0", null, true));
        if (h4.process.alive()) {
            receivers.put("h4 lan0", new Probe(h4.ns, h4.tap, null, true));
        }
        receivers.put("v1 vl2tap0 (seed VPort)", new Probe(v1.ns, "vl2tap0", null, true));
        Map<String, Integer> counts = kit.probeRound(h1.ns, "vl2tap0", count, -1, null, receivers);
        results.put("broadcast frames received (" + count + " sent by h1)", counts.toString());
        counts.forEach((where, n) -> assertEquals(where + " (all: " + counts + ")",
                where.startsWith("h1") ? 0 : count, n.intValue()));
    }

    @Test
    public void t04Ipv6LinkLocalPing() {
        String ll2 = LabKit.linkLocal(h2.ns, "vl2tap0");
        LabKit.linkLocal(h1.ns, "vl2tap0");
        LabKit.ping(h1.ns, ll2 + "%vl2tap0", 3, "-6"); // IPv6 link-local ping h1 -> h2
        String neigh = Lab.in(h1.ns, CMD, "ip", "-6", "neigh", "show", ll2, "dev", "vl2tap0").check().out();
        assertTrue("neighbour discovery found h2's MAC: " + neigh, neigh.toLowerCase(Locale.ROOT).contains(h2.mac));
        // and the global addresses of --address6 (after duplicate address detection)
        assertTrue("fd00:1::102 usable on h2", Lab.await(Duration.ofSeconds(10), () -> !Lab.in(h2.ns, CMD, "ip", "-6",
                "addr", "show", "dev", "vl2tap0", "tentative").out().contains("fd00:1::102")));
        ping(h1.ns, "fd00:1::102", 3);
    }

    /**
     * 802.1Q through the switch. With kernel VLAN support: VLAN sub-interfaces vl2tap0.42 on h1 and h2 ping each
     * other. Without it (CONFIG_VLAN_8021Q off, as on some CI kernels): tagged frames written by l2probe, both
     * ways, arrive tagged with their VLAN ID; a unicast frame to a MAC learnt in VLAN 42 reaches only its port.
     * Either way the switch learnt both MACs in VLAN 42.
     */
    @Test
    public void t05Vlan42TaggedFramesBetweenTwoTaps() {
        Result vlan = Lab.run(Lab.SHORT, "ip", "-n", h1.ns, "link", "add", "link", "vl2tap0", "name", "vl2tap0.42",
                "type", "vlan", "id", "42");
        try {
            if (vlan.ok()) {
                Lab.ip("-n", h2.ns, "link", "add", "link", "vl2tap0", "name", "vl2tap0.42", "type", "vlan", "id", "42");
                for (Host h : List.of(h1, h2)) {
                    Lab.ip("-n", h.ns, "addr", "add", (h == h1 ? "10.42.0.1" : "10.42.0.2") + "/24", "dev", "vl2tap0.42");
                    Lab.ip("-n", h.ns, "link", "set", "vl2tap0.42", "up");
                }
                ping(h1.ns, "10.42.0.2", 3);
                ping(h2.ns, "10.42.0.1", 3);
                results.put("VLAN 42", "ping between VLAN sub-interfaces");
            } else {
                Assume.assumeTrue("no 802.1Q support in this kernel (" + vlan.out().trim()
                        + ") and no gcc for the tagged-frame probe", haveGcc);
                System.out.println("[e2e] no 802.1Q devices in this kernel (" + vlan.out().trim()
                        + "): VLAN 42 tested with tagged frames");
                // h2 -> broadcast in VLAN 42: h1 gets them tagged 42 (and none untagged); the switch learns h2 in 42
                Map<String, Integer> first = kit.probeRound(h2.ns, "vl2tap0", 3, 42, null, Map.of(
                        "h1 vl2tap0, VLAN 42", new Probe(h1.ns, "vl2tap0", "42", true),
                        "h1 vl2tap0, untagged", new Probe(h1.ns, "vl2tap0", null, false)));
                assertEquals("h2's tagged broadcast at h1: " + first, Map.of("h1 vl2tap0, VLAN 42", 3,
                        "h1 vl2tap0, untagged", 0), first);
                // h1 -> h2's MAC in VLAN 42: known unicast, only h2's port gets it, tagged
                Map<String, Integer> second = kit.probeRound(h1.ns, "vl2tap0", 3, 42, h2.mac, Map.of(
                        "h2 vl2tap0, VLAN 42", new Probe(h2.ns, "vl2tap0", "42", true),
                        "b1 eth0 (other port), VLAN 42", new Probe(b1, "eth0", "42", false)));
                assertEquals("h1's tagged unicast to h2: " + second, Map.of("h2 vl2tap0, VLAN 42", 3,
                        "b1 eth0 (other port), VLAN 42", 0), second);
                results.put("VLAN 42", "tagged frames (no 802.1Q in this kernel): " + first + " " + second);
            }
            String table = switchCommand("vl2:mactable --no-format --vlan 42",
                    out -> out.contains(h1.mac) && out.contains(h2.mac));
            assertTrue("the switch learnt h1 and h2 in VLAN 42:\n" + table, table.contains(h1.mac) && table.contains(h2.mac));
        } finally {
            for (Host h : List.of(h1, h2)) {
                Lab.run(Lab.SHORT, "ip", "-n", h.ns, "link", "del", "vl2tap0.42");
            }
        }
    }

    /** h3's TAP is a port of Linux bridge br0 with b1 and b2 behind it: everybody reaches everybody. */
    @Test
    public void t06HostsBehindABridgedTapReachEveryoneAndShareItsPort() {
        String b1Ip = "10.1.1.111";
        String b2Ip = "10.1.1.112";
        for (String target : List.of(h1.address, h2.address, h3.address, b2Ip)) {
            ping(b1, target, 2);
        }
        for (String target : List.of(b1Ip, b2Ip, h3.address)) {
            ping(h1.ns, target, 2);
        }
        ping(b2, h2.address, 2);
        ping(h2.ns, b1Ip, 2);

        String br0 = LabKit.mac(h3.ns, "br0");
        String mb1 = LabKit.mac(b1, "eth0");
        String mb2 = LabKit.mac(b2, "eth0");
        String port = portOf(h3);
        String table = switchCommand("vl2:mactable --no-format",
                out -> macsOnPort(out, port).containsAll(Set.of(br0, mb1, mb2)));
        Set<String> macs = macsOnPort(table, port);
        results.put("MACs on h3's port " + port, macs.toString());
        assertTrue("port " + port + " (h3) carries br0 " + br0 + ", b1 " + mb1 + " and b2 " + mb2 + ":\n" + table,
                macs.containsAll(Set.of(br0, mb1, mb2)));
    }

    @Test
    public void t07Iperf3TcpTransferCompletes() {
        Bg server = kit.lab.start("iperf3-server", null, Lab.netnsExec(h2.ns, "iperf3", "-s", "-1", "-B", h2.address,
                "-p", "5201"));
        try {
            assertTrue("iperf3 server listening", Lab.await(CMD,
                    () -> Lab.in(h2.ns, Lab.SHORT, "ss", "-Hltn", "sport = :5201").out().contains("5201")));
            Result r = Lab.in(h1.ns, Duration.ofSeconds(40), "iperf3", "-c", h2.address, "-p", "5201", "-t", "3",
                    "-f", "m", "--connect-timeout", "5000");
            Matcher m = Pattern.compile("([\\d.]+) Mbits/sec\\s+\\S*\\s*receiver").matcher(r.out());
            assertTrue("iperf3 h1 -> h2 completed:\n" + r.out(), r.ok() && m.find());
            results.put("iperf3 TCP h1 -> h2, 3 s", m.group(1) + " Mbit/s");
        } finally {
            server.stop(Duration.ofSeconds(5));
        }
        // round trips once the JIT has compiled the forwarding paths (the first pings after boot are slower)
        Result warm = Lab.in(h1.ns, CMD, "ping", "-q", "-c", "20", "-i", "0.05", "-W", "2", h2.address);
        Matcher rtt = Pattern.compile("= ([\\d./]+) ms").matcher(warm.out());
        results.put("ping RTT h1 -> h2 after iperf3, 20 pings (min/avg/max/mdev)", rtt.find() ? rtt.group(1) + " ms" : warm.out());
    }

    @Test
    public void t08AgentCommandShowsTheAgent() {
        String out = kit.command(h1.ns, h1.name, "vl2:agent", o -> o.contains("RUNNING"));
        assertTrue("vl2:agent on h1 shows it RUNNING with its TAP and switch:\n" + out,
                out.contains("RUNNING") && out.contains("vl2tap0") && out.contains(SWITCH_VL2) && out.contains(h1.mac)
                        && out.contains("0000000000000000"));
    }

    /**
     * A TAP device the agent cannot create (its name is taken by h1's agent): one clear ERROR on the console, the
     * launcher stops by itself with exit status 1, and h1's TAP device is left alone.
     */
    @Test
    public void t09AgentThatCannotCreateItsTapSaysWhy() {
        Bg bad = kit.startAgent("h1-taken", h1.ns, "--switch", SWITCH_IP, "--tap", "vl2tap0");
        try {
            Matcher error = bad.awaitOutput(Pattern.compile("ERROR .*Port agent not started: (.*)"), BOOT);
            assertNotNull("an ERROR line saying why:\n" + bad.output(), error);
            results.put("agent with a taken TAP name", error.group(0).replaceFirst("^.*ERROR", "ERROR"));
            assertTrue("it names the device and the fix: " + error.group(1),
                    error.group(1).contains("vl2tap0") && error.group(1).contains("exists"));
            assertFalse("no stack trace on the console:\n" + bad.output(), bad.output().contains("\tat "));
            assertTrue("the launcher stops by itself:\n" + bad.output(), LabKit.awaitExit(bad, Duration.ofSeconds(60)));
            assertEquals("exit status 1:\n" + bad.output(), 1, bad.process.exitValue());
        } finally {
            bad.stop(Duration.ofSeconds(30));
        }
        assertTrue("h1's TAP device is still there", tapExists(h1));
        ping(h1.ns, h2.address, 1);
    }

    /** Raw-mode compatibility: a seed-design VPort and a vl2 agent on one switch. */
    @Test
    public void t10SeedVPortAndAgentPingEachOther() {
        Assume.assumeTrue("gcc is not installed (needed for tools/seed-vport/vport.c)", haveGcc);
        ping(v1.ns, h1.address, 3);
        ping(h1.ns, v1.address, 3);
    }

    /**
     * Nothing unauthenticated stops or resets an encrypted agent. From the switch's namespace, datagrams spoofed from
     * the switch's address and vl2 port (raw socket) to h1's agent: an ERROR in protocol version 2, unsupported-version
     * and bad-request ERRORs, and an unknown-port naming h1's session index, read off the wire as anyone on the path
     * can. h1 is not stopped, starts no new handshake (its sealed KEEPALIVE asks the switch, whose ACK settles it;
     * the test sees that KEEPALIVE, so the spoofed datagrams did reach h1) and keeps forwarding.
     */
    @Test
    public void t10bForgedErrorsFromTheSwitchsAddressLeaveAnAgentForwarding() {
        Assume.assumeTrue("gcc is not installed (needed for src/test/c/udpforge.c)", haveGcc);
        String forge = kit.tools.resolve("udpforge").toString();
        Bg sniff = kit.lab.start("sniff-h1", null, Lab.netnsExec(kit.sw, forge, "index", h1.underlay, "9991", "60"));
        Matcher seen;
        try {
            Lab.await(Duration.ofSeconds(60), () -> {
                Lab.in(h1.ns, CMD, "ping", "-c", "1", "-W", "1", h2.address); // traffic to read the index off
                return !sniff.alive();
            });
            seen = sniff.awaitOutput(Pattern.compile("index ([0-9a-f]{8}) port (\\d+)"), Duration.ofSeconds(5));
        } finally {
            sniff.stop(Duration.ofSeconds(5));
        }
        assertNotNull("no sealed message from h1 on the wire:\n" + sniff.output(), seen);
        String agentPort = seen.group(2);
        int before = h1.process.output().length();
        List<String> forged = List.of(
                "56020700" + "0003" + "0000" + "00000000" + "0000000000000000", // ERROR in version 2
                "56010700" + "0003" + "0000" + "00000000" + "0000000000000000", // unsupported-version
                "56010700" + "0007" + "0000" + "00000000" + "0000000000000000", // bad-request
                "56010700" + "0005" + "0000" + seen.group(1) + "0000000000000000"); // unknown-port, h1's session
        // the agent answers the forged unknown-port with a sealed KEEPALIVE to the switch (the proof that the spoofed
        // datagrams reach it): watch for it from the moment they go
        Bg keepalive = kit.lab.start("sniff-h1-keepalive", null,
                Lab.netnsExec(kit.sw, forge, "index", h1.underlay, "9991", "30", "4"));
        try {
            assertNotNull("the sniffer did not start:\n" + keepalive.output(),
                    keepalive.awaitOutput(Pattern.compile("ready"), CMD));
            for (String hex : forged) {
                Lab.in(kit.sw, CMD, forge, "send", SWITCH_IP, "9991", h1.underlay, agentPort, hex).check();
            }
            assertNotNull("h1 sent no sealed KEEPALIVE after the forged unknown-port:\n" + keepalive.output(),
                    keepalive.awaitOutput(Pattern.compile("index [0-9a-f]{8} port " + agentPort), CMD));
        } finally {
            keepalive.stop(Duration.ofSeconds(5));
        }
        // what must not happen is watched for a while: a stop, or a new handshake (before: "new handshake" at once)
        Pattern harm = Pattern.compile("does not know the session|new handshake|re-join|Port agent down|ERROR");
        boolean harmed = Lab.await(Duration.ofSeconds(5),
                () -> !h1.process.alive() || harm.matcher(h1.process.output().substring(before)).find());
        assertFalse("h1 reacted to forged datagrams:\n" + h1.process.output().substring(before), harmed);
        ping(h1.ns, h2.address, 3);
        ping(h2.ns, h1.address, 3);
        results.put("forged ERRORs (version 2, unsupported-version, bad-request, unknown-port of its session) to an"
                + " encrypted agent", "ignored: no stop, no new handshake, ping OK");
    }

    /**
     * SIGTERM stops the agent cleanly: the JVM exits, the TAP device is gone, and its LEAVE removes its port and MAC
     * entries from the switch at once (a vl2 member; a raw port would stay until its idle timeout).
     */
    @Test
    public void t11StoppedAgentLeavesTheSwitchAndRemovesItsTap() {
        ping(h4.ns, h1.address, 2);
        String port = portOf(h4);
        switchCommand("vl2:mactable --no-format", out -> out.contains(h4.mac));

        long t0 = System.nanoTime();
        int exit = h4.process.stop(Duration.ofSeconds(30));
        long stopMillis = (System.nanoTime() - t0) / 1_000_000;
        results.put("agent h4 SIGTERM to exit", stopMillis + " ms (exit " + exit + ")");
        assertFalse("h4's agent exited after SIGTERM", h4.process.alive());
        assertEquals("h4's agent exit status after SIGTERM (0: clean stop)", 0, exit);
        assertTrue("h4 logged its clean stop:\n" + h4.process.output(), h4.process.output().contains("Port agent down"));
        assertTrue("TAP " + h4.tap + " removed", Lab.await(Duration.ofSeconds(5), () -> !tapExists(h4)));

        String ports = switchCommand("vl2:ports --no-format", out -> !out.contains(h4.underlay + ":"));
        assertFalse("h4's port " + port + " is gone (it left):\n" + ports, ports.contains(h4.underlay + ":"));
        String table = switchCommand("vl2:mactable --no-format", out -> !out.contains(h4.mac));
        assertFalse("h4's MAC left the switch's table:\n" + table, table.contains(h4.mac));
        // the line is logged when the port is removed, a moment after vl2:ports stops showing it: awaited
        assertNotNull("the switch logged the LEAVE:\n" + switchProcess.output(), switchProcess.awaitOutput(
                Pattern.compile("Port " + Pattern.quote(port) + " down.*left"), CMD));
    }

    /**
     * No well-known login (docs/security.md, "Local access and credentials"): karaf/karaf is refused by the switch's
     * shell and by h1's (an agent started with --ssh-port), while bin/vl2-client (root, with the password the
     * instance generated) gets in; that password is stored 0600 and users.properties (0600, also the installation's)
     * holds its SHA-256 only, no plaintext; an agent without --ssh-port listens on no TCP port, and the switch and
     * h1 on their loopback shell only (no JMX, RMI or shutdown port), the switch also on its loopback HTTP API.
     */
    @Test
    public void t12NoWellKnownLoginAndNoListenerUnlessAsked() throws Exception {
        String token = "vl2-login-" + System.nanoTime();
        for (String[] shell : List.of(new String[] {kit.sw, "sw", String.valueOf(LabKit.SWITCH_SSH)},
                new String[] {h1.ns, h1.name, String.valueOf(AGENT_SSH)})) {
            String ns = shell[0];
            // the documented way in works: a refusal below is the password's, not a shell that is down
            kit.command(ns, shell[1], "shell:echo " + token, o -> o.contains(token));
            Result refused = Lab.run(CMD, "shell:echo " + token + "\n", Lab.netnsExec(ns,
                    kit.dist.resolve("bin/client").toString(), "-h", "127.0.0.1", "-a", shell[2], "-u", "karaf", "-p",
                    "karaf", "-b"), kit.clientEnv); // a JVM for one command, as LabKit.client runs it
            assertTrue(shell[1] + ": karaf/karaf is refused (exit " + refused.exit() + "):\n" + refused.out(),
                    refused.exit() != 0 && !refused.out().contains(token));
            results.put("bin/client -u karaf -p karaf on " + shell[1], "refused: "
                    + refused.out().lines().filter(l -> l.contains("authentication")).findFirst().orElse("exit "
                    + refused.exit()));
            String tcp = Lab.in(ns, CMD, "ss", "-Htln").check().out().strip();
            // the switch also runs its HTTP API by default, on loopback too (docs/api.md)
            boolean sw = shell[1].equals("sw");
            assertTrue(shell[1] + " listens on its loopback shell only" + (sw ? " and API" : "") + ":\n" + tcp,
                    tcp.lines().count() == (sw ? 2 : 1)
                    && tcp.matches("(?s).*127\\.0\\.0\\.1\\]?:" + shell[2] + "\\s.*")
                    && (!sw || tcp.matches("(?s).*127\\.0\\.0\\.1\\]?:8181\\s.*")));
        }
        for (Host h : List.of(h2, h3)) {
            String tcp = Lab.in(h.ns, CMD, "ss", "-Htln").check().out().strip();
            assertEquals(h + ": an agent without --ssh-port listens on no TCP port:\n" + tcp, "", tcp);
        }
        Result noShell = Lab.run(CMD, "", Lab.netnsExec(h2.ns, kit.dist.resolve("bin/vl2-client").toString(),
                "--data", kit.lab.work.resolve(h2.name).toString(), "-b"), kit.clientEnv);
        assertEquals(noShell.out(), 1, noShell.exit());
        assertTrue(noShell.out(), noShell.out().contains("runs without a shell: start it with --ssh-port N"));

        for (String instance : List.of("sw", h1.name, h2.name)) {
            Path dir = kit.lab.work.resolve(instance);
            Path secret = dir.resolve("client/users.properties");
            Path users = dir.resolve("etc/users.properties");
            for (Path p : List.of(secret, users, dir.resolve("etc/keys.properties"))) {
                assertEquals(p + " is the instance user's only", "rw-------", perms(p));
            }
            for (Path p : List.of(dir.resolve("client"), dir.resolve("etc"))) {
                assertEquals(p + " is the instance user's only", "rwx------", perms(p));
            }
            Matcher password = Pattern.compile("(?m)^karaf = ([0-9a-f]{48})$").matcher(Files.readString(secret));
            assertTrue("a generated password in " + secret, password.find());
            String text = Files.readString(users);
            assertFalse(users + " does not hold the password", text.contains(password.group(1)));
            String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(password.group(1).getBytes(StandardCharsets.US_ASCII)));
            assertTrue(users + " holds its SHA-256:\n" + text, text.contains("karaf = {CRYPT}" + sha256 + "{CRYPT},"));
            assertNoPlaintextPassword(users);
        }
        Path installed = kit.dist.resolve("etc/users.properties");
        assertEquals("the installation's " + installed, "rw-------", perms(installed));
        assertFalse("the installation ships no user:\n" + Files.readString(installed),
                Pattern.compile("(?m)^[ \\t]*[^#!_ \\t\\r\\n]").matcher(Files.readString(installed)).find());
    }

    /** Every user line of a users.properties holds a hashed password ({CRYPT}...{CRYPT}), none in plaintext. */
    private static void assertNoPlaintextPassword(Path users) throws IOException {
        for (String line : Files.readAllLines(users)) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#") || l.startsWith("!") || l.startsWith("_g_")) {
                continue;
            }
            assertTrue(users + ": a hashed password only: " + l.replaceAll("=.*", "= ..."),
                    l.matches("[^=:]+[=:]\\s*\\{CRYPT\\}[0-9A-Fa-f]{64}\\{CRYPT\\}(,.*)?"));
        }
    }

    private static String perms(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers

    private static String ping(String ns, String target, int count) {
        return LabKit.ping(ns, target, count);
    }

    private static boolean tapExists(Host h) {
        return LabKit.linkExists(h.ns, h.tap);
    }

    /** The switch's port id of {@code h} (from vl2:ports, by its underlay address). */
    private static String portOf(Host h) {
        String ports = switchCommand("vl2:ports --no-format", out -> out.contains(h.underlay + ":"));
        for (String line : ports.split("\n")) {
            String[] cells = line.trim().split("\t");
            if (cells.length > 4 && cells[4].trim().startsWith(h.underlay + ":")) {
                return cells[0].trim();
            }
        }
        throw new AssertionError("no port of " + h + " (" + h.underlay + ") in vl2:ports:\n" + ports);
    }

    /** The MACs that vl2:mactable --no-format lists on {@code port}. */
    private static Set<String> macsOnPort(String table, String port) {
        Set<String> macs = new TreeSet<>();
        for (String line : table.split("\n")) {
            String[] cells = line.trim().split("\t");
            if (cells.length > 3 && cells[3].trim().equals(port)) {
                macs.add(cells[0].trim().toLowerCase(Locale.ROOT));
            }
        }
        return macs;
    }

    private static String switchCommand(String command, Predicate<String> until) {
        return kit.switchCommand(command, until);
    }
}
