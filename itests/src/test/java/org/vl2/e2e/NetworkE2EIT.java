package org.vl2.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

/**
 * The vl2 protocol end to end, on real TAP devices in network namespaces: agents join networks of one switch
 * (bin/vl2-switch --network ...) and get their addresses from the network's pool; two networks are isolated;
 * a standard DHCP client (busybox udhcpc) behind a bridged port gets a lease from the switch; an agent behind
 * a NAT (iptables MASQUERADE) works; a killed agent's port expires within 3 keepalive intervals; and after the
 * switch is killed and started again, every agent re-joins by itself and traffic resumes.
 *
 * <pre>
 *   ns sw: bridge ul0 10.78.0.1/24, the switch (networks a1 with pool 10.88.1.0/24 and fd00:88::/64, b2 without)
 *    |-- n1, n2: agents in a1, addresses from the pool
 *    |-- n3: agent in b2 with the static address 10.88.1.50/24 (a1's subnet, but another network)
 *    |-- d: agent in a1 with its TAP in bridge br0; ns dh behind br0 runs udhcpc
 *    `-- rt: NAT router 10.78.0.40 (MASQUERADE) for ns nh 192.168.77.2, an agent in a1
 * </pre>
 *
 * Built on {@link LabKit} (folder {@code network}, the switch on 10.78.0.1).
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class NetworkE2EIT {

    private static final String SWITCH_IP = "10.78.0.1";
    private static final int KEEPALIVE = 2;
    private static final String NET_A = "00000000000000a1";
    private static final Duration BOOT = LabKit.BOOT;
    private static final Duration CMD = LabKit.CMD;
    private static final Pattern POOL_ADDRESS = Pattern.compile("inet (10\\.88\\.1\\.\\d+)/24");
    private static final Pattern PRIVATE_ADDRESS = Pattern.compile("inet (10\\.89\\.3\\.\\d+)/24");

    private static LabKit kit;
    private static Bg switchProcess;
    private static final Map<String, String> ns = new LinkedHashMap<>();
    private static final Map<String, Bg> agents = new LinkedHashMap<>();
    private static final Map<String, String> results = new LinkedHashMap<>();
    private static String n1Address;
    private static String n2Address;
    private static final Map<String, String> agentKeys = new LinkedHashMap<>();
    /** The length of the switch's karaf.log when t08 restarted it (0 before): what the new switch logged follows. */
    private static int restartLog;

    /** An agent's key pair, created where its agent keeps it (DIR/data/vl2/agent-identity); its public key. */
    private static String agentKey(String host) {
        try {
            return org.vl2.crypto.Identity.loadOrCreate(kit.lab.work.resolve(host).resolve("data/vl2/agent-identity"))
                    .fingerprint();
        } catch (IOException e) {
            throw new AssertionError("cannot create " + host + "'s key pair: " + e, e);
        }
    }

    @Rule
    public final TestRule rules = LabKit.rules("NetworkE2EIT", () -> kit);

    @BeforeClass
    public static void setUp() throws Exception {
        LabKit.setUp("NetworkE2EIT", "network", SWITCH_IP, null, results, k -> {
            kit = k;
            kit.switchEnv = kit.env; // the switch as shipped: the floods measure what it withstands
            network();
            start();
        }, "ip", "ping", "iperf3", "busybox", "iptables");
    }

    @AfterClass
    public static void tearDown() {
        if (kit != null) {
            kit.close("NetworkE2EIT", results);
        }
    }

    private static void network() {
        for (String[] h : new String[][] {{"n1", "10.78.0.11"}, {"n2", "10.78.0.12"}, {"n3", "10.78.0.13"},
                {"d", "10.78.0.14"}, {"rt", "10.78.0.40"}, {"rg", "10.78.0.50"}, {"p1", "10.78.0.61"},
                {"p2", "10.78.0.62"}, {"u1", "10.78.0.63"}}) {
            ns.put(h[0], kit.host(h[0], h[1]));
        }
        // d: a bridge without an address; dh hangs off it and asks for one with DHCP
        String d = ns.get("d");
        Lab.ip("-n", d, "link", "add", "br0", "type", "bridge");
        Lab.ip("-n", d, "link", "set", "br0", "up");
        String dh = kit.lab.namespace("dh");
        ns.put("dh", dh);
        Lab.ip("-n", d, "link", "add", "v-dh", "type", "veth", "peer", "name", "eth0", "netns", dh);
        Lab.ip("-n", d, "link", "set", "v-dh", "master", "br0", "up");
        Lab.ip("-n", dh, "link", "set", "eth0", "up");
        // rt: NAT for nh (iptables MASQUERADE out of its underlay interface)
        String rt = ns.get("rt");
        String nh = kit.lab.namespace("nh");
        ns.put("nh", nh);
        Lab.ip("-n", rt, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", nh);
        Lab.ip("-n", rt, "addr", "add", "192.168.77.1/24", "dev", "lan0");
        Lab.ip("-n", rt, "link", "set", "lan0", "up");
        Lab.ip("-n", nh, "addr", "add", "192.168.77.2/24", "dev", "eth0");
        Lab.ip("-n", nh, "link", "set", "eth0", "up");
        Lab.ip("-n", nh, "route", "add", "default", "via", "192.168.77.1");
        Lab.in(rt, CMD, "sysctl", "-qw", "net.ipv4.ip_forward=1").check();
        Lab.in(rt, CMD, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE").check();
    }

    private static void start() {
        // the agents' key pairs exist before anything starts, so the switch can authorize p1 and p2 (not u1)
        for (String host : List.of("p1", "p2", "u1")) {
            agentKeys.put(host, agentKey(host));
        }
        switchProcess = startSwitch("switch");
        agents.put("n1", agent("n1"));
        agents.put("n2", agent("n2"));
        agents.put("n3", agent("n3", "--network", "b2", "--address", "10.88.1.50/24"));
        agents.put("d", agent("d", "--bridge", "br0"));
        agents.put("nh", agent("nh", "--trust-on-first-use")); // no --switch-key: pins what the switch presents
        agents.put("p1", agent("p1", "--network", "c3"));
        agents.put("p2", agent("p2", "--network", "c3"));
        // --no-direct: the console walkthrough watches u1's frames pass the switch; a direct path would take u1's pings
        // straight to p1 (docs/protocol.md, Direct paths), and the switch would see none of them
        agents.put("u1", agent("u1", "--network", "c3", "--no-direct"));
        for (Map.Entry<String, Bg> a : agents.entrySet()) {
            LabKit.await(a.getValue(), a.getKey() + " up", Pattern.compile("Port agent up"));
        }
        n1Address = poolAddress("n1");
        n2Address = poolAddress("n2");
    }

    private static Bg startSwitch(String name) {
        Bg s = kit.startSwitchAs(name, "--listen", SWITCH_IP + ":9990", "--vl2-listen", SWITCH_IP + ":9991",
                "--keepalive", String.valueOf(KEEPALIVE),
                "--network", "id=a1,name=lab,pool=10.88.1.0/24,ipv6=fd00:88::/64,ip.guard=true",
                "--network", "id=b2,name=other", "--network", "id=c3,name=private,pool=10.89.3.0/24,private=true",
                "--member", "c3=" + agentKeys.get("p1"), "--member", "c3=" + agentKeys.get("p2"));
        LabKit.await(s, "listening", Pattern.compile("Transport vl2 .* on " + Pattern.quote(SWITCH_IP) + ":9991 attached"));
        return s;
    }

    private static Bg agent(String host, String... flags) {
        List<String> all = new ArrayList<>(List.of("--switch", SWITCH_IP));
        if (!List.of(flags).contains("--network")) {
            all.addAll(List.of("--network", "a1"));
        }
        all.addAll(List.of(flags));
        return kit.startAgent(host, ns.get(host), all.toArray(new String[0]));
    }

    /** The pool address on {@code host}'s TAP device, once the agent has put it there. */
    private static String poolAddress(String host) {
        return LabKit.awaitAddress(ns.get(host), "vl2tap0", POOL_ADDRESS, agents.get(host));
    }

    /** The address of private network c3 on {@code host}'s TAP device, once the agent has put it there. */
    private static String privateAddress(String host) {
        return LabKit.awaitAddress(ns.get(host), "vl2tap0", PRIVATE_ADDRESS, agents.get(host));
    }

    // ---------------------------------------------------------------------------------------------------------

    @Test
    public void t01AgentsGetTheirAddressesFromThePoolAndTalk() {
        assertNotEquals(n1Address, n2Address);
        String rtt = ping(ns.get("n1"), n2Address, 5);
        results.put("ping n1 -> n2 over pool addresses (min/avg/max/mdev)", rtt);
        String v6 = Lab.in(ns.get("n1"), CMD, "ip", "-o", "-6", "addr", "show", "dev", "vl2tap0").out();
        assertTrue("an IPv6 address from the network's prefix: " + v6, v6.contains("inet6 fd00:88::"));
        String link = Lab.in(ns.get("n1"), CMD, "ip", "-o", "link", "show", "vl2tap0").check().out();
        assertTrue("the network's MTU: " + link, link.contains(" mtu 1400 "));
        String leases = switchCommand("vl2:networks --leases --no-format a1",
                out -> out.contains(n1Address) && out.contains(n2Address));
        assertTrue(leases, leases.contains("member:"));
        results.put("addresses n1 / n2", n1Address + " / " + n2Address);
    }

    @Test
    public void t02NetworksAreIsolated() {
        String ports = switchCommand("vl2:ports --network b2 --no-format", out -> out.contains("10.78.0.13:"));
        assertTrue(ports, ports.contains("10.88.1.50"));
        Result across = Lab.in(ns.get("n3"), CMD, "ping", "-c", "3", "-i", "0.2", "-W", "1", n1Address);
        assertTrue("b2's n3 must not reach a1's n1:\n" + across.out(), across.out().contains(" 0 received"));
        across = Lab.in(ns.get("n1"), CMD, "ping", "-c", "3", "-i", "0.2", "-W", "1", "10.88.1.50");
        assertTrue("nor n1 n3:\n" + across.out(), across.out().contains(" 0 received"));
        ping(ns.get("n1"), n2Address, 2); // within a1 it works (and did all along)
        results.put("ping across networks a1 -> b2", "0 of 3 received (isolated)");
    }

    @Test
    public void t03DhcpClientBehindABridgedPortGetsALease() throws IOException {
        Path script = kit.lab.work.resolve("udhcpc.script");
        Files.writeString(script, "#!/bin/sh\n"
                + "case \"$1\" in bound|renew)\n"
                + "  ip addr flush dev \"$interface\"\n"
                + "  ip addr add \"$ip/$subnet\" dev \"$interface\"\n"
                + "  [ -z \"$mtu\" ] || ip link set dev \"$interface\" mtu \"$mtu\"\n"
                + "  echo \"lease $ip/$subnet mtu $mtu server $serverid\" ;;\n"
                + "esac\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        long t0 = System.nanoTime();
        Result r = Lab.in(ns.get("dh"), Duration.ofSeconds(60), "busybox", "udhcpc", "-f", "-q", "-n", "-t", "10",
                "-T", "2", "-i", "eth0", "-s", script.toString());
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue("udhcpc got a lease:\n" + r.out(), r.ok() && r.out().contains("lease 10.88.1."));
        Matcher m = Pattern.compile("lease (10\\.88\\.1\\.\\d+)/255\\.255\\.255\\.0 mtu 1400 server 10\\.88\\.1\\.254")
                .matcher(r.out());
        assertTrue("address, /24, the network's MTU and the switch as server:\n" + r.out(), m.find());
        String address = m.group(1);
        results.put("udhcpc behind a bridged port: lease", address + " in " + millis + " ms");
        ping(ns.get("dh"), n1Address, 3);
        String mac = Lab.in(ns.get("dh"), CMD, "cat", "/sys/class/net/eth0/address").check().out().trim();
        String leases = switchCommand("vl2:networks --leases --no-format a1", out -> out.contains("mac:" + mac));
        assertTrue(leases, leases.contains(address));

        // a1 has ip.guard: behind its bridged port dh may send from its lease, and from nothing else
        String dh = ns.get("dh");
        Lab.ip("-n", dh, "addr", "add", "10.88.1.199/32", "dev", "eth0");
        try {
            Result forged = Lab.in(dh, CMD, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", "10.88.1.199", n1Address);
            assertTrue("a source the switch did not assign gets nothing through:\n" + forged.out(),
                    forged.out().contains(" 0 received"));
        } finally {
            Lab.ip("-n", dh, "addr", "del", "10.88.1.199/32", "dev", "eth0");
        }
        String stats = switchCommand("vl2:stats --no-format", out -> counter(out, "Drops: IP guard") > 0);
        results.put("ip.guard: ping from an address dh was not leased", "0 of 3 received, "
                + counter(stats, "Drops: IP guard") + " frames dropped by the guard");
        ping(dh, n1Address, 2); // its lease still works
    }

    /** A counter of vl2:stats --no-format, by its row name; -1 if absent. */
    private static long counter(String stats, String row) {
        Matcher m = Pattern.compile(Pattern.quote(row) + "\\s+(\\d+)").matcher(stats);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    @Test
    public void t04AnAgentBehindANatJoinsAndTalks() {
        String address = poolAddress("nh");
        ping(ns.get("nh"), n1Address, 3);
        ping(ns.get("n1"), address, 3);
        String ports = switchCommand("vl2:ports --network a1 --no-format", out -> out.contains(address));
        String natted = ports.lines().filter(l -> l.contains(address)).findFirst().orElse("");
        assertTrue("the switch sees it at the NAT's address: " + natted, natted.contains("10.78.0.40:"));
        results.put("agent behind MASQUERADE", "joined as " + natted.replaceAll("\\s+", " ").trim());
        // it trusted the switch's key on first use: with a WARN, and pinned in its known-switches file
        String key = kit.switchKey;
        String out = agents.get("nh").output();
        assertTrue(out, out.contains("trusting switch " + SWITCH_IP + ":9991 with public key " + key
                + " on first use, NOT verified"));
        try {
            String known = Files.readString(kit.lab.work.resolve("nh/data/vl2/known-switches"));
            assertTrue(known, known.contains(SWITCH_IP + ":9991 " + key));
        } catch (IOException e) {
            throw new AssertionError("no known-switches file: " + e + "\n" + out, e);
        }
        results.put("agent behind MASQUERADE, trust on first use", "pinned the switch's key " + key);
    }

    @Test
    public void t07AKilledAgentsPortExpiresWithinThreeKeepaliveIntervals() {
        Bg n2 = agents.get("n2");
        String before = switchCommand("vl2:ports --no-format", out -> out.contains("10.78.0.12:"));
        assertTrue(before, before.contains(n2Address));
        String port = portId(before, "10.78.0.12");
        int log = kit.switchLogLength();
        long killed = System.currentTimeMillis();
        ProcessHandle.of(n2.javaPid()).ifPresent(ProcessHandle::destroyForcibly); // no LEAVE: a crash
        // when it expired: the time of the switch's "Port N down" line (awaited in its log, 30 s at most), not when a
        // vl2:ports poll (a bin/client JVM each, 1.5 CPU-seconds, seconds on a loaded machine) first saw it gone
        long millis = kit.switchLogTime(log, Pattern.compile("Port " + Pattern.quote(port) + " down")) - killed;
        String after = switchCommand("vl2:ports --no-format", out -> !out.contains("10.78.0.12:"));
        assertFalse("n2's port is gone from vl2:ports:\n" + after, after.contains("10.78.0.12:"));
        results.put("killed agent -> port expired (keepalive " + KEEPALIVE + " s, limit 3 intervals + 0.5 s sweep)",
                millis + " ms");
        assertTrue("within 3 keepalive intervals (plus the 0.5 s sweep and 2 s of slack): " + millis + " ms",
                millis <= 3_000L * KEEPALIVE + 2_500);
        String leases = switchCommand("vl2:networks --leases --no-format a1", out -> !out.contains(n2Address + " "));
        assertFalse("its lease is freed:\n" + leases, leases.matches("(?s).*\\b" + Pattern.quote(n2Address) + "\\s.*"));
    }

    @Test
    public void t08AfterTheSwitchRestartsEveryAgentRejoinsAndTrafficResumes() {
        String nhAddress = poolAddress("nh");
        ping(ns.get("n1"), nhAddress, 1);
        Bg killed = switchProcess;
        ProcessHandle.of(killed.javaPid()).ifPresent(ProcessHandle::destroyForcibly);
        assertTrue("the killed switch's launcher exits", LabKit.awaitExit(killed, Duration.ofSeconds(30)));
        long t0 = System.nanoTime();
        restartLog = kit.switchLogLength();
        switchProcess = startSwitch("switch-restarted");
        long listening = (System.nanoTime() - t0) / 1_000_000;
        assertTrue("n1 -> nh did not resume within 30 s of the restart",
                LabKit.awaitPing(ns.get("n1"), nhAddress, Duration.ofSeconds(30)));
        long resumed = (System.nanoTime() - t0) / 1_000_000;
        results.put("switch killed and restarted: start -> listening / -> ping n1 -> nh resumed",
                listening + " ms / " + resumed + " ms (" + (resumed - listening) + " ms after listening)");
        assertTrue("traffic resumes < 10 s after the switch is back: " + (resumed - listening) + " ms",
                resumed - listening < 10_000);
        assertEquals("n1 kept its address (leases survive the restart)", n1Address, poolAddress("n1"));
        ping(ns.get("dh"), n1Address, 2);
    }

    /**
     * A rogue raw port floods 100k broadcast frames from random source MACs: the MAC table stays bounded (the
     * port's MAC limit refuses all but 256 of them, and their frames are dropped), storm control drops most of its
     * floods, and a ping between two agents running meanwhile loses nothing.
     */
    @Test
    public void t05AMacFloodFromARoguePortLeavesOthersAlone() {
        Bg pinger = kit.lab.start("ping-during-mac-flood", null, Lab.netnsExec(ns.get("n1"), "ping", "-c", "100", "-i",
                "0.05", "-W", "2", n2Address));
        Result flood = flood("macs", "9990", 100_000);
        assertTrue("the flood ran:\n" + flood.out(), flood.ok());
        assertTrue("ping finished", Lab.await(Duration.ofSeconds(30), () -> !pinger.alive()));
        results.put("MAC flood 100k random source MACs from a raw port", flood.out().trim());
        assertTrue("no ping lost during the flood:\n" + pinger.output(), pinger.output().contains(" 100 received"));
        String stats = switchCommand("vl2:stats --no-format", out -> out.contains("Evicted"));
        results.put("after the MAC flood", stats.lines().filter(l -> l.matches(
                "(Entries|Capacity|Evicted|Drops: storm control|Drops: MAC limit).*"))
                .map(l -> l.replaceAll("\\s+", " ")).reduce((x, y) -> x + "; " + y).orElse(stats));
        assertTrue("the port's MAC limit refused the flood's stations:\n" + stats,
                counter(stats, "Drops: MAC limit") > 0 && counter(stats, "Entries") < 1000);
        String table = switchCommand("vl2:mactable --no-format -n a1", out -> true);
        for (String host : List.of("n1", "n2")) {
            String mac = Lab.in(ns.get(host), CMD, "cat", "/sys/class/net/vl2tap0/address").check().out().trim();
            assertTrue(host + "'s MAC " + mac + " is still in the table:\n" + table, table.contains(mac));
        }
        ping(ns.get("n1"), n2Address, 3);
    }

    /** Random, truncated and oversized datagrams to both switch ports during an iperf3 run: the switch keeps forwarding. */
    @Test
    public void t06AGarbageFloodDuringIperf3LeavesTheSwitchForwarding() {
        Bg server = kit.lab.start("iperf3-server", null, Lab.netnsExec(ns.get("n2"), "iperf3", "-s", "-1", "-B",
                n2Address));
        assertTrue("iperf3 server listening", Lab.await(CMD, () -> Lab.in(ns.get("n2"), CMD, "ss", "-Htln").out()
                .contains(":5201")));
        Bg client = kit.lab.start("iperf3-client", null, Lab.netnsExec(ns.get("n1"), "iperf3", "-c", n2Address, "-t", "6",
                "-f", "m"));
        Result flood = flood("garbage", "9990,9991", 200_000);
        assertTrue("the flood ran:\n" + flood.out(), flood.ok());
        assertTrue("iperf3 finished", Lab.await(Duration.ofSeconds(60), () -> !client.alive()));
        Matcher m = Pattern.compile("([\\d.]+) Mbits/sec\\s+\\d*\\s*receiver").matcher(client.output());
        assertTrue("iperf3 completed:\n" + client.output(), client.process.exitValue() == 0 && m.find());
        results.put("iperf3 TCP n1 -> n2 during a garbage flood (" + flood.out().trim() + ")", m.group(1) + " Mbit/s");
        server.stop(Duration.ofSeconds(5));
        ping(ns.get("n1"), n2Address, 3);
        String stats = switchCommand("vl2:stats --no-format", out -> out.contains("malformed"));
        results.put("after the garbage flood", stats.lines().filter(l -> l.matches("Drops: (runt|malformed message|bad session).*"))
                .map(l -> l.replaceAll("\\s+", " ")).reduce((x, y) -> x + "; " + y).orElse(stats));
    }

    /**
     * A private network: members the switch does not know get nothing (no port, no address, "not authorized" in
     * their log); authorized ones join encrypted, get addresses and ping.
     */
    @Test
    public void t09OnAPrivateNetworkOnlyAuthorizedMembersJoin() {
        String p1 = privateAddress("p1");
        String p2 = privateAddress("p2");
        results.put("private network c3: p1 / p2", p1 + " / " + p2);
        String rtt = ping(ns.get("p1"), p2, 5);
        results.put("ping p1 -> p2 on the private network, encrypted (min/avg/max/mdev)", rtt);
        assertNotNull("u1 is told it is not authorized:\n" + agents.get("u1").output(),
                agents.get("u1").awaitOutput(Pattern.compile("not.authorized"), Duration.ofSeconds(30)));
        String ports = switchCommand("vl2:ports --network c3 --no-format", out -> out.contains(p1) && out.contains(p2));
        assertFalse("u1 has no port:\n" + ports, ports.contains("10.78.0.63:"));
        assertTrue("the members' ports are encrypted:\n" + ports, ports.contains("vl2/encrypted"));
        assertFalse("u1 has no address", Lab.in(ns.get("u1"), CMD, "ip", "-o", "-4", "addr", "show", "dev",
                "vl2tap0").out().contains("10.89.3."));
        // u1 is listed (as waiting) once this switch has refused it, which the restarted one (t08) does at u1's next
        // try, up to the agent's 30-s retry away: awaited in its log, where a vl2:members poll cost a bin/client JVM
        // (1.5 CPU-seconds) each time
        Pattern refused = Pattern.compile("Refused member \\S+ \\(10\\.78\\.0\\.63:\\d+\\) on private network");
        assertTrue("the switch refused u1 within " + LabKit.COMMAND_UNTIL.toSeconds() + " s", Lab.await(
                LabKit.COMMAND_UNTIL, () -> refused.matcher(kit.switchLogText().substring(restartLog)).find()));
        String members = switchCommand("vl2:members --no-format c3",
                out -> out.contains(agentKeys.get("p1")) && out.contains(agentKeys.get("u1")));
        // u1 proved its key and was refused: listed only as waiting for an operator (not authorized, no port)
        String[] u1 = members.lines().filter(l -> l.contains(agentKeys.get("u1"))).findFirst().orElse("").split("\t");
        assertTrue("u1 is listed as waiting, not authorized and without a port:\n" + members,
                u1.length > 4 && u1[3].trim().equals("no") && u1[4].trim().equals("-"));
    }

    /**
     * The web console in a headless Chromium (skipped without Debian's chromium and chromium-driver): log in, see
     * p1 and p2 online, authorize the waiting u1 with a click, watch it come online and ping, see the counters move,
     * deauthorize it again ({@link ConsoleWalkthrough}; screenshots in target/e2e/console-screenshots/).
     */
    @Test
    public void t09bTheConsoleInABrowserAuthorizesTheWaitingMember() throws IOException {
        String why = ConsoleBrowser.whyNot();
        if (why != null) {
            System.err.println("[e2e] SKIPPED NetworkE2EIT console in a browser: " + why);
        }
        Assume.assumeTrue(why, why == null);
        new ConsoleWalkthrough(kit, "00000000000000c3", ns, agentKeys, results).run(NetworkE2EIT::privateAddress);
    }

    /** vl2:members -d cuts a member off: the last reply of a running ping comes within 1 s of the command. */
    @Test
    public void t10DeauthorizingAMemberCutsItOffWithinASecond() throws IOException {
        String p2 = privateAddress("p2");
        // -O: a line for every request left unanswered too, so the output's time stamps go on after the replies stop
        Bg pinger = kit.lab.start("ping-during-deauthorize", null, Lab.netnsExec(ns.get("p1"), "ping", "-D", "-O", "-i",
                "0.05", "-c", "4800", "-W", "1", p2));
        assertNotNull("ping runs", pinger.awaitOutput(Pattern.compile("icmp_seq=5 "), Duration.ofSeconds(20)));
        int log = kit.switchLogLength();
        switchCommand("vl2:members -d " + agentKeys.get("p2") + " c3", out -> out.contains("Deauthorized"));
        // the switch's log line (awaited: the log is written a moment after the command returns) has the time
        double cmdSeconds = kit.switchLogTime(log, Pattern.compile("Member \\S+ deauthorized on network")) / 1000.0;
        // the ping goes on until its own clock is 2 s past the command (a reply in the second after the first would
        // show), however long the command took on a loaded machine; then it is stopped (4 minutes at most)
        assertTrue("ping ran on for 2 s after the deauthorization:\n" + pinger.output(), Lab.await(Duration.ofSeconds(
                300), () -> lastStamp(pinger.output()) >= cmdSeconds + 2.0 || !pinger.alive()));
        pinger.stop(Duration.ofSeconds(5));
        assertTrue("ping ran on for 2 s after the deauthorization:\n" + pinger.output(),
                lastStamp(pinger.output()) >= cmdSeconds + 2.0);
        double lastReply = 0;
        Matcher r = Pattern.compile("\\[(\\d+\\.\\d+)] \\d+ bytes from").matcher(pinger.output());
        while (r.find()) {
            lastReply = Double.parseDouble(r.group(1));
        }
        double after = lastReply - cmdSeconds;
        results.put("deauthorize -> last ping reply from the cut-off member", String.format("%.3f s", after));
        assertTrue("replies stop within 1 s of the deauthorization: " + after + " s\n" + pinger.output(), after < 1.0);
        String ports = switchCommand("vl2:ports --no-format", out -> !out.contains("10.78.0.62:"));
        assertFalse("p2's port is gone:\n" + ports, ports.contains("10.78.0.62:"));
    }

    /**
     * A flood of handshake initiations with a valid mac1 (anyone who knows the switch's public key can send them,
     * from spoofed addresses): the switch answers with cookies instead of Diffie-Hellman, and an agent that starts
     * during the flood still joins (with a cookie).
     */
    @Test
    public void t11AHandshakeFloodLeavesJoinsWorking() {
        String key = kit.switchKey;
        Path source = Path.of(System.getProperty("vl2.e2e.floodSource", "src/test/tools/Flood.java")).toAbsolutePath();
        // a count it never reaches: the flood lasts until it is stopped below, however long the late agent takes to
        // start on this machine (a fixed count ran out before the agent joined on a loaded one)
        List<String> command = new ArrayList<>(kit.javaTool(source));
        command.addAll(List.of("initiations", SWITCH_IP, "9991", String.valueOf(Long.MAX_VALUE), key));
        Bg flood = kit.lab.start("handshake-flood", null, Lab.netnsExec(ns.get("rg"), command.toArray(new String[0])));
        Bg late = null;
        try {
            assertTrue("the switch notices the flood:\n" + flood.output(), Lab.await(Duration.ofSeconds(60),
                    () -> kit.switchLogText().contains("Handshake flood")));
            long t0 = System.nanoTime();
            late = kit.startAgent("late", ns.get("n3"), "--switch", SWITCH_IP, "--switch-key", key, "--network", "b2",
                    "--tap", "vl2tap1");
            assertNotNull("an agent started during the flood joins:\n" + late.output(),
                    late.awaitOutput(Pattern.compile("Port agent joined network"), BOOT));
            long millis = (System.nanoTime() - t0) / 1_000_000;
            boolean floodOn = flood.alive();
            String out = late.output();
            results.put("agent start -> joined during a handshake flood", millis + " ms (flood "
                    + (floodOn ? "still running" : "over by then") + "; cookie asked: "
                    + out.contains("asked for a cookie") + ")");
            assertTrue("the agent joined while the flood ran (" + millis + " ms after its start):\n" + out, floodOn);
            assertTrue("under the flood the join needed a cookie:\n" + out, out.contains("asked for a cookie"));
        } finally {
            if (late != null) {
                late.stop(Duration.ofSeconds(15));
            }
            flood.stop(Duration.ofSeconds(5));
        }
        results.put("handshake flood (stopped once the late agent had joined)", flood.output().trim());
        // the agents that were up all along kept their sessions, or (keepalives lost in the flood) re-joined with a
        // cookie: the switch forwards between them (n2 was killed by t07, so n1 -> nh, as t08 does)
        String nhAddress = poolAddress("nh");
        assertTrue("n1 reaches nh after the flood", LabKit.awaitPing(ns.get("n1"), nhAddress, Duration.ofSeconds(30)));
        ping(ns.get("n1"), nhAddress, 3);
    }

    /** The time stamp (ping -D) of the last line of {@code pingOutput}, 0 if none has one. */
    private static double lastStamp(String pingOutput) {
        double last = 0;
        Matcher m = Pattern.compile("(?m)^\\[(\\d+\\.\\d+)] ").matcher(pingOutput);
        while (m.find()) {
            last = Double.parseDouble(m.group(1));
        }
        return last;
    }

    /** The rogue port in namespace rg: Flood.java ({@link LabKit#javaTool}, the test JVM's java). */
    private static Result flood(String mode, String ports, int count) {
        Path source = Path.of(System.getProperty("vl2.e2e.floodSource", "src/test/tools/Flood.java")).toAbsolutePath();
        List<String> command = new ArrayList<>(kit.javaTool(source));
        command.addAll(List.of(mode, SWITCH_IP, ports, String.valueOf(count)));
        return Lab.in(ns.get("rg"), Duration.ofSeconds(90), command.toArray(new String[0]));
    }

    // ---------------------------------------------------------------------------------------------------------

    private static String ping(String namespace, String target, int count) {
        return LabKit.ping(namespace, target, count);
    }

    private static String switchCommand(String command, Predicate<String> done) {
        return kit.switchCommand(command, done);
    }

    /** The id of the switch port whose remote address starts with {@code underlay}, from vl2:ports --no-format. */
    private static String portId(String ports, String underlay) {
        for (String line : ports.split("\n")) {
            String[] cells = line.trim().split("\t");
            if (cells.length > 4 && cells[4].trim().startsWith(underlay + ":")) {
                return cells[0].trim();
            }
        }
        throw new AssertionError("no port at " + underlay + " in vl2:ports:\n" + ports);
    }
}
