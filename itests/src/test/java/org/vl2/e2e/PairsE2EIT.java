package org.vl2.e2e;

import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
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
import org.vl2.e2e.Lab.Result;

/**
 * Pair keys end to end (docs/protocol.md, "Pair keys"): between two encrypted agents on the default settings, unicast
 * goes on pair keys (the switch forwards it without opening it), TCP and ping work over them, and a station that
 * moves to another agent's bridge is reached there: the pairs towards its old port end.
 *
 * <pre>
 *                       underlay 10.77.0.0/24: bridge ul0 in &lt;p&gt;-sw
 *   &lt;p&gt;-sw  vl2-switch (defaults: encrypted, pairs on)
 *   &lt;p&gt;-a   vl2-agent --bridge br0 (br0 10.1.1.101/24)   underlay 10.77.0.11;  station m (10.1.1.150) behind br0
 *   &lt;p&gt;-b   vl2-agent, TAP 10.1.1.102/24                  underlay 10.77.0.12
 *   &lt;p&gt;-c   vl2-agent --bridge br0 (br0 10.1.1.103/24)   underlay 10.77.0.13;  where m moves to
 * </pre>
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class PairsE2EIT {

    private static final String A_IP = "10.1.1.101";
    private static final String B_IP = "10.1.1.102";
    private static final String C_IP = "10.1.1.103";
    private static final String M_IP = "10.1.1.150";
    private static final String M_MAC = "02:76:6c:32:00:96";
    private static final Duration CMD = LabKit.CMD;

    private static LabKit kit;
    private static String a;
    private static String b;
    private static String c;
    private static String m;
    private static final Map<String, String> results = new LinkedHashMap<>();

    @Rule
    public final TestRule rules = LabKit.rules("PairsE2EIT", () -> kit);

    @BeforeClass
    public static void setUp() throws Exception {
        LabKit.setUp("PairsE2EIT", "pairs", LabKit.SWITCH_IP, null, results, lab -> {
            kit = lab;
            start();
        }, "ip", "ping", "iperf3", "ss");
    }

    @AfterClass
    public static void tearDown() {
        if (kit != null) {
            kit.close("PairsE2EIT", results);
        }
    }

    private static void start() throws IOException {
        a = kit.host("a", "10.77.0.11");
        b = kit.host("b", "10.77.0.12");
        c = kit.host("c", "10.77.0.13");
        for (String[] h : new String[][] {{a, A_IP}, {c, C_IP}}) {
            Lab.ip("-n", h[0], "link", "add", "br0", "type", "bridge");
            Lab.ip("-n", h[0], "addr", "add", h[1] + "/24", "dev", "br0");
            Lab.ip("-n", h[0], "link", "set", "br0", "up");
        }
        // station m hangs off a's bridge through a veth pair; its bridge end moves to c's bridge later
        m = kit.lab.namespace("m");
        Lab.ip("-n", a, "link", "add", "v-m", "type", "veth", "peer", "name", "eth0", "netns", m);
        Lab.ip("-n", a, "link", "set", "v-m", "master", "br0", "up");
        Lab.ip("-n", m, "link", "set", "eth0", "address", M_MAC);
        Lab.ip("-n", m, "addr", "add", M_IP + "/24", "dev", "eth0");
        Lab.ip("-n", m, "link", "set", "eth0", "up");

        kit.startSwitch();
        Bg agentA = kit.startAgent("a", a, "--switch", LabKit.SWITCH_IP, "--bridge", "br0");
        Bg agentB = kit.startAgent("b", b, "--switch", LabKit.SWITCH_IP, "--address", B_IP + "/24");
        Bg agentC = kit.startAgent("c", c, "--switch", LabKit.SWITCH_IP, "--bridge", "br0");
        for (Bg agent : new Bg[] {agentA, agentB, agentC}) {
            LabKit.await(agent, "the agent up", Pattern.compile("Port agent up"));
        }
        assertTrue("b reaches a", LabKit.awaitPing(b, A_IP, Duration.ofSeconds(60)));
        assertTrue("b reaches c", LabKit.awaitPing(b, C_IP, Duration.ofSeconds(60)));
    }

    /** A counter of {@code vl2:stats --no-format} ("Pair frames 123"), -1 if missing. */
    private static long stat(String stats, String name) {
        Matcher mt = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\s+(\\d+)\\s*$").matcher(stats);
        return mt.find() ? Long.parseLong(mt.group(1)) : -1;
    }

    private static String stats(Predicate<String> until) {
        return kit.switchCommand("vl2:stats --no-format", until);
    }

    @Test
    public void t01UnicastBetweenTwoAgentsGoesOnPairKeysAndCarriesTcp() {
        long sentBytes = 0;
        LabKit.ping(b, A_IP, 10);
        String before = stats(s -> stat(s, "Pairs made") >= 2);
        assertTrue("both directions of b <-> a keyed (Pairs made >= 2):\n" + before, stat(before, "Pairs made") >= 2);

        Bg server = kit.lab.start("iperf3-server", null, Lab.netnsExec(a, "iperf3", "-s", "-1", "-B", A_IP, "-p",
                "5201"));
        try {
            assertTrue("iperf3 server listening", Lab.await(CMD,
                    () -> Lab.in(a, Lab.SHORT, "ss", "-Hltn", "sport = :5201").out().contains("5201")));
            Result r = Lab.in(b, Duration.ofSeconds(40), "iperf3", "-c", A_IP, "-p", "5201", "-t", "3", "-f", "m",
                    "--connect-timeout", "5000");
            Matcher mt = Pattern.compile("([\\d.]+) MBytes\\s+([\\d.]+) Mbits/sec\\s+(\\d+)\\s+sender")
                    .matcher(r.out());
            assertTrue("iperf3 b -> a completed:\n" + r.out(), r.ok() && mt.find());
            sentBytes = (long) (Double.parseDouble(mt.group(1)) * 1024 * 1024);
            results.put("iperf3 TCP b -> a on pair keys, 3 s", mt.group(2) + " Mbit/s, " + mt.group(3)
                    + " retransmits");
        } finally {
            server.stop(Duration.ofSeconds(5));
        }
        // at least one frame per full-sized segment the transfer needed went on the pair (the ACKs come on top), at
        // whatever speed the machine ran it
        long segments = sentBytes / 1400;
        long framesBefore = stat(before, "Pair frames");
        String after = stats(s -> stat(s, "Pair frames") >= framesBefore + segments);
        long frames = stat(after, "Pair frames") - framesBefore;
        results.put("frames the switch forwarded on pairs during iperf3", frames + " (" + segments
                + " segments of 1400 bytes sent)");
        assertTrue("the TCP transfer went on pair keys (" + frames + " frames forwarded unopened for " + segments
                + " segments):\n" + after, segments > 0 && frames >= segments);
        assertTrue("no pair drops in a steady flow:\n" + after, stat(after, "Drops: pair") == 0);
        String listed = kit.switchCommand("vl2:pairs --no-format", o -> o.contains("\tactive\t"));
        results.put("vl2:pairs", listed.lines().count() + " pairs");
        assertTrue("vl2:pairs lists the active pairs:\n" + listed, listed.contains("\tactive\t"));
    }

    @Test
    public void t02AStationThatMovesToAnotherAgentIsReachedThereAndItsOldPairsEnd() {
        assertTrue("b reaches m behind a", LabKit.awaitPing(b, M_IP, Duration.ofSeconds(30)));
        LabKit.ping(b, M_IP, 5); // b -> m keyed towards a's port
        String before = stats(s -> stat(s, "Pairs made") >= 4);
        long ended = stat(before, "Pairs ended");

        // m's cable moves from a's bridge to c's; m speaks first (as a moved host does: gratuitous ARP, here a ping)
        Lab.ip("-n", a, "link", "set", "v-m", "netns", c);
        Lab.ip("-n", c, "link", "set", "v-m", "master", "br0", "up");
        assertTrue("m reaches b from behind c", LabKit.awaitPing(m, B_IP, Duration.ofSeconds(30)));
        String after = stats(s -> stat(s, "Pairs ended") > ended);
        assertTrue("the pairs towards m's old port ended:\n" + after, stat(after, "Pairs ended") > ended);
        assertTrue("b reaches m behind c", LabKit.awaitPing(b, M_IP, Duration.ofSeconds(30)));
        String table = kit.switchCommand("vl2:mactable --no-format", out -> out.contains(M_MAC));
        results.put("m's entry after the move", table.lines().filter(l -> l.contains(M_MAC)).findFirst().orElse(""));
    }
}
