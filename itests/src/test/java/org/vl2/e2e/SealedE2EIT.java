package org.vl2.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

/**
 * Secure by default, end to end (issue 14): a switch started with the default flags exposes no plaintext listener on
 * the underlay, and nothing without an identity reaches the encrypted agents' LAN. Two encrypted agents in the
 * default network (the setup a newcomer gets), a raw-mode sender on the underlay and two raw ports on the switch's
 * own loopback (where the raw listener is), and a Linux VXLAN VTEP whose VNIs the switch maps to the sealed default
 * network and to a private network.
 *
 * <pre>
 *                       underlay 10.77.0.0/24: bridge ul0 in &lt;p&gt;-sw
 *   &lt;p&gt;-sw  vl2-switch --vxlan 10.77.0.1:4789 --vxlan-vni 42=0 --vxlan-vni 44=c3
 *           --network id=c3,name=secret,private=true --member c3=KEY(b)        (no --listen: raw on 127.0.0.1)
 *   &lt;p&gt;-a   vl2-agent --trust-on-first-use, TAP vl2tap0 10.1.1.101/24, network 0     underlay 10.77.0.11
 *   &lt;p&gt;-b   vl2-agent, network 0 (TAP vl2d 10.1.1.102/24) and c3 (TAP vl2c, from c3's pool)   10.77.0.12
 *   &lt;p&gt;-r   raw sender (RawProbe.java) to 10.77.0.1:9990                               10.77.0.21
 *   &lt;p&gt;-k   kernel VTEPs vx42 (VNI 42, 10.1.1.31/24) and vx44 (VNI 44, 10.9.3.31/24)  10.77.0.31
 * </pre>
 *
 * Built on {@link LabKit} (folder {@code sealed}). A negative check needs a window: the probes listen for a fixed
 * time while the agents' traffic (ARP, broadcast ping, unicast ping) runs, and a positive control in the same window
 * (the two loopback raw ports hear each other) shows that the window was long enough to hear anything.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class SealedE2EIT {

    private static final String SWITCH_IP = LabKit.SWITCH_IP;
    private static final String A_IP = "10.1.1.101";
    private static final String B_IP = "10.1.1.102";
    private static final String K_IP42 = "10.1.1.31";
    private static final String K_IP44 = "10.9.3.31";
    private static final int VXLAN_PORT = 4789;
    /** How long the probes listen while the agents' traffic runs. */
    private static final int WINDOW_SECONDS = 12;
    private static final Duration CMD = LabKit.CMD;

    private static LabKit kit;
    private static boolean haveGcc;
    private static boolean haveVxlan;
    private static String a;
    private static String b;
    private static String r;
    private static String k;
    private static Bg agentA;
    private static Bg agentB;
    /** b's address on the private network c3, from its pool. */
    private static String bPrivateIp;
    private static final Map<String, String> results = new LinkedHashMap<>();

    @Rule
    public final TestRule rules = LabKit.rules("SealedE2EIT", () -> kit);

    @BeforeClass
    public static void setUp() throws Exception {
        LabKit.setUp("SealedE2EIT", "sealed", SWITCH_IP, null, results, lab -> {
            kit = lab;
            haveGcc = kit.compileTools();
            start();
        }, "ip", "ping", "tar", "ss");
    }

    @AfterClass
    public static void tearDown() {
        if (kit != null) {
            kit.close("SealedE2EIT", results);
        }
    }

    private static void start() throws IOException {
        a = kit.host("a", "10.77.0.11");
        b = kit.host("b", "10.77.0.12");
        r = kit.host("r", "10.77.0.21");
        k = kit.host("k", "10.77.0.31");
        haveVxlan = Lab.run(Lab.SHORT, "ip", "-n", k, "link", "add", "vx42", "type", "vxlan", "id", "42", "remote",
                SWITCH_IP, "local", "10.77.0.31", "dstport", String.valueOf(VXLAN_PORT), "dev", "eth0").ok();
        if (haveVxlan) {
            vtepAddress("vx42", K_IP42);
            Lab.ip("-n", k, "link", "add", "vx44", "type", "vxlan", "id", "44", "remote", SWITCH_IP, "local",
                    "10.77.0.31", "dstport", String.valueOf(VXLAN_PORT), "dev", "eth0");
            vtepAddress("vx44", K_IP44);
        }
        // b's key pair exists before anything starts, so the switch can authorize b on the private network
        String keyB = org.vl2.crypto.Identity.loadOrCreate(kit.lab.work.resolve("b").resolve("data/vl2/agent-identity"))
                .fingerprint();
        Bg sw = kit.startSwitch("--vxlan", SWITCH_IP + ":" + VXLAN_PORT, "--vxlan-vni", "42=0", "--vxlan-vni", "44=c3",
                "--network", "id=c3,name=secret,pool=10.9.3.0/24,private=true", "--member", "c3=" + keyB);
        agentA = kit.startAgent("a", a, "--switch", SWITCH_IP, "--trust-on-first-use", "--address", A_IP + "/24");
        agentB = kit.startAgent("b", b, "--switch", SWITCH_IP, "--network", "id=0,tap=vl2d,address=" + B_IP + "/24",
                "--network", "id=c3,tap=vl2c");
        LabKit.await(sw, "the VXLAN transport attached", Pattern.compile("Transport vxlan .* attached"));
        LabKit.await(agentA, "a joined", Pattern.compile("Port agent up"));
        LabKit.await(agentB, "b joined the default network", Pattern.compile("\\[0\\] Port agent joined network"));
        LabKit.await(agentB, "b joined c3", Pattern.compile("\\[c3\\] Port agent joined network"));
        bPrivateIp = LabKit.awaitAddress(b, "vl2c", Pattern.compile("inet (10\\.9\\.3\\.\\d+)/24"), agentB);
        assertTrue("a and b talk, encrypted", LabKit.awaitPing(a, B_IP, Duration.ofSeconds(60)));
    }

    private static void vtepAddress(String dev, String ip) {
        Lab.ip("-n", k, "link", "set", dev, "mtu", "1400");
        Lab.ip("-n", k, "addr", "add", ip + "/24", "dev", dev);
        Lab.ip("-n", k, "link", "set", dev, "up");
    }

    // ---------------------------------------------------------------------------------------------------------

    /** No flags: the raw listener is on 127.0.0.1 only, and the launcher's line says so. */
    @Test
    public void t01NoPlaintextListenerOnTheUnderlay() {
        String udp = Lab.in(kit.sw, CMD, "ss", "-Hlun").check().out();
        assertTrue("raw mode on loopback:\n" + udp, udp.contains("127.0.0.1:9990"));
        assertFalse("nothing on the underlay or all addresses at 9990:\n" + udp,
                udp.contains("0.0.0.0:9990") || udp.contains(SWITCH_IP + ":9990") || udp.contains("*:9990"));
        assertNotNull(kit.switchProcess.output(), kit.switchProcess.awaitOutput(
                Pattern.compile("raw UDP 127\\.0\\.0\\.1:9990 \\(this host only; network ffffffffffffffff 'raw'\\)"),
                CMD));
        String networks = kit.switchCommand("vl2:networks --no-format", out -> out.contains("ffffffffffffffff"));
        assertTrue(networks, networks.matches("(?s).*0000000000000000\\s+default\\s+sealed.*"));
        assertTrue(networks, networks.matches("(?s).*ffffffffffffffff\\s+raw\\s+plaintext.*"));
        assertTrue(networks, networks.matches("(?s).*00000000000000c3\\s+secret\\s+private.*"));
    }

    /**
     * While a and b exchange ARP, broadcast pings and unicast pings: a raw sender on the underlay (at the switch, and
     * straight at agent b's port) and two raw ports on the switch's loopback get none of it, and none of their frames
     * reaches a or b. The two loopback ports hear each
     * other (they share the raw network): the window was long enough to hear anything.
     */
    @Test
    public void t02RawSendersGetNothingOfTheEncryptedLanAndCannotInject() throws Exception {
        Path probe = Path.of(System.getProperty("vl2.e2e.rawProbeSource", "src/test/tools/RawProbe.java"))
                .toAbsolutePath();
        List<String> java = kit.javaTool(probe);
        List<Bg> probes = new ArrayList<>();
        probes.add(kit.lab.start("raw-underlay", null, Lab.netnsExec(r, with(java, SWITCH_IP, "9990",
                String.valueOf(WINDOW_SECONDS), "02:00:00:00:66:01"))));
        // straight at agent b's own UDP port (the port of its socket to the switch, where its peer socket listens for
        // direct paths, docs/protocol.md): raw frames from anyone there reach no TAP and get no answer either
        String bSockets = Lab.in(b, CMD, "ss", "-Hun", "dst", SWITCH_IP + ":9991").out();
        Matcher bPort = Pattern.compile("10\\.77\\.0\\.12:(\\d+)").matcher(bSockets);
        assertTrue("agent b's UDP socket to the switch:\n" + bSockets, bPort.find());
        probes.add(kit.lab.start("raw-at-agent-b", null, Lab.netnsExec(r, with(java, "10.77.0.12", bPort.group(1),
                String.valueOf(WINDOW_SECONDS), "02:00:00:00:66:04"))));
        probes.add(kit.lab.start("raw-loopback-1", null, Lab.netnsExec(kit.sw, with(java, "127.0.0.1",
                "9990", String.valueOf(WINDOW_SECONDS), "02:00:00:00:66:02"))));
        probes.add(kit.lab.start("raw-loopback-2", null, Lab.netnsExec(kit.sw, with(java, "127.0.0.1",
                "9990", String.valueOf(WINDOW_SECONDS), "02:00:00:00:66:03"))));
        List<Bg> taps = new ArrayList<>();
        if (haveGcc) { // the agents' TAPs count the probes' frames (l2probe's format) that reach them
            taps.add(kit.lab.start("inject-at-a", null, Lab.netnsExec(a, kit.tools.resolve("l2probe").toString(),
                    "recv", "vl2tap0", String.valueOf(WINDOW_SECONDS), "inject")));
            taps.add(kit.lab.start("inject-at-b", null, Lab.netnsExec(b, kit.tools.resolve("l2probe").toString(),
                    "recv", "vl2d", String.valueOf(WINDOW_SECONDS), "inject")));
        }
        for (Bg p : probes) {
            LabKit.await(p, "probe ready", Pattern.compile("ready"));
        }
        for (Bg t : taps) {
            LabKit.await(t, "l2probe ready", Pattern.compile("ready"));
        }
        traffic();
        Map<String, String> heard = new LinkedHashMap<>();
        for (Bg p : probes) {
            Matcher m = LabKit.await(p, "probe done", Pattern.compile(
                    "sent (\\d+) probes (\\d+) other (\\d+) unreachable \\d+ types (.*)"));
            heard.put(p.name, m.group(0));
            assertTrue(p.name + " sent its frames: " + m.group(0), Integer.parseInt(m.group(1)) > 5);
            assertEquals(p.name + " received none of the agents' frames: " + m.group(0), "0", m.group(3));
            if (p.name.startsWith("raw-loopback")) {
                assertTrue(p.name + " heard the other loopback port (positive control): " + m.group(0),
                        Integer.parseInt(m.group(2)) > 0);
            } else {
                assertEquals(p.name + " heard nothing at all: " + m.group(0), "0", m.group(2));
            }
        }
        results.put("raw senders during ARP, broadcast and unicast pings between a and b", heard.toString());
        for (Bg t : taps) {
            Matcher m = LabKit.await(t, "l2probe count", Pattern.compile("count (\\d+)"));
            assertEquals(t.name + ": raw frames reached an encrypted agent", "0", m.group(1));
        }
    }

    /**
     * The VTEP's VNI 42 maps to the sealed default network, VNI 44 to the private network c3: its ARP requests and
     * pings reach neither a nor b, and it receives nothing of their traffic; the switch counts the drops.
     */
    @Test
    public void t03AVxlanVtepGetsNothingInOrOutOfSealedAndPrivateNetworks() {
        Assume.assumeTrue("this kernel cannot create vxlan devices", haveVxlan);
        long rxBefore = rxPackets(k, "vx42") + rxPackets(k, "vx44");
        Bg privateTraffic = kit.lab.start("b-private-broadcast", null, Lab.netnsExec(b, "ping", "-b", "-c", "10", "-i",
                "0.3", "-W", "1", "10.9.3.255"));
        Lab.Result toA = Lab.in(k, CMD, "ping", "-c", "3", "-i", "0.3", "-W", "1", A_IP);
        Lab.Result toB = Lab.in(k, CMD, "ping", "-c", "3", "-i", "0.3", "-W", "1", "-I", "vx44", bPrivateIp);
        traffic();
        assertTrue("b's broadcasts on c3 ran", LabKit.awaitExit(privateTraffic, Duration.ofSeconds(30)));
        assertFalse("the VTEP reaches a in the sealed default network:\n" + toA.out(), toA.ok());
        assertFalse("the VTEP reaches b in private network c3:\n" + toB.out(), toB.ok());
        assertEquals("the VTEP received frames of the sealed and private networks", rxBefore,
                rxPackets(k, "vx42") + rxPackets(k, "vx44"));
        String neigh = Lab.in(a, CMD, "ip", "neigh", "show").out() + Lab.in(b, CMD, "ip", "neigh", "show").out();
        assertFalse("the VTEP's ARP requests reached an agent:\n" + neigh,
                neigh.contains(K_IP42 + " ") || neigh.contains(K_IP44 + " "));
        String stats = kit.switchCommand("vl2:stats --no-format", out -> out.matches(
                "(?s).*Drops: sealed network\\s+[1-9].*"));
        String ports = kit.switchCommand("vl2:ports --no-format", out -> true);
        assertFalse("the VTEP is no port of the switch:\n" + ports, ports.contains("10.77.0.31"));
        results.put("VTEP into sealed (VNI 42) and private (VNI 44)", stats.lines()
                .filter(l -> l.startsWith("Drops: sealed")).findFirst().orElse("?").replaceAll("\\s+", " "));
    }

    /** ARP, a broadcast ping and unicast pings between the two encrypted agents, both ways. */
    private static void traffic() {
        Lab.in(a, CMD, "ip", "neigh", "flush", "dev", "vl2tap0");
        Lab.in(b, CMD, "ip", "neigh", "flush", "dev", "vl2d");
        LabKit.ping(a, B_IP, 3);
        LabKit.ping(b, A_IP, 3);
        Lab.in(a, CMD, "ping", "-b", "-c", "3", "-i", "0.3", "-W", "1", "10.1.1.255");
    }

    private static long rxPackets(String ns, String dev) {
        String n = Lab.in(ns, CMD, "cat", "/sys/class/net/" + dev + "/statistics/rx_packets").check().out().trim();
        return Long.parseLong(n);
    }

    /** {@code command} followed by {@code args}, for {@link Lab#netnsExec}. */
    private static String[] with(List<String> command, String... args) {
        List<String> all = new ArrayList<>(command);
        all.addAll(List.of(args));
        return all.toArray(new String[0]);
    }
}
