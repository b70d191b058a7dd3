package org.vl2.e2e;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
 * End to end, the TCP/TLS transport ({@code bin/vl2-switch --tcp}, {@code bin/vl2-agent [--transport tcp]}): an
 * agent with the default transport (auto) whose namespace drops all UDP to the switch falls back to TCP/TLS and pings
 * an agent on UDP in the same network; a third agent that reaches the switch only through an HTTP proxy (tinyproxy)
 * joins with {@code --transport tcp --proxy}; the feature is uninstalled and installed again while the switch runs,
 * and the TCP agents come back by themselves; UDP unblocked, the auto agent goes back to UDP with its session and
 * port; the proxied agent killed, its port is freed within seconds of its connection's end. Plain JUnit 4 run by
 * failsafe, as root; skipped (with the reason) otherwise.
 *
 * <pre>
 *                       underlay 10.77.0.0/24: bridge ul0 in &lt;p&gt;-sw
 *   &lt;p&gt;-sw  vl2-switch --tcp 10.77.0.1:8443 --vl2-listen 10.77.0.1:9991
 *   &lt;p&gt;-u   vl2-agent (UDP), TAP 10.1.1.101/24                              underlay 10.77.0.61
 *   &lt;p&gt;-t   vl2-agent (auto), TAP 10.1.1.102/24; nft drops UDP            underlay 10.77.0.62
 *   &lt;p&gt;-x   vl2-agent --transport tcp --proxy http://10.77.0.65:8888, TAP 10.1.1.103/24;
 *           nft drops everything to 10.77.0.1                                 underlay 10.77.0.63
 *   &lt;p&gt;-px  tinyproxy on 10.77.0.65:8888                                     underlay 10.77.0.65
 * </pre>
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class TcpE2EIT {

    private static final String SWITCH_IP = LabKit.SWITCH_IP;
    private static final int TCP_PORT = 8443;
    private static final String U_UNDERLAY = "10.77.0.61";
    private static final String T_UNDERLAY = "10.77.0.62";
    private static final String X_UNDERLAY = "10.77.0.63";
    private static final String PROXY_IP = "10.77.0.65";
    private static final String U_IP = "10.1.1.101";
    private static final String T_IP = "10.1.1.102";
    private static final String X_IP = "10.1.1.103";
    private static final Duration CMD = LabKit.CMD;

    private static LabKit kit;
    private static String u;
    private static String t;
    private static String x;
    private static Bg agentT;
    private static Bg agentX;
    private static Bg proxy;
    private static final Map<String, String> results = new LinkedHashMap<>();

    @Rule
    public final TestRule rules = LabKit.rules("TcpE2EIT", () -> kit);

    @BeforeClass
    public static void setUp() throws Exception {
        LabKit.setUp("TcpE2EIT", "tcp", SWITCH_IP, null, results, k -> {
            kit = k;
            kit.switchEnv = kit.env; // the switch as shipped too: TLS on its side of the fallback
            kit.agentEnv = kit.env; // the agents as shipped: TLS on both sides of the fallback, as users run it
            network();
            start();
        }, "ip", "ping", "tar", "ss", "nft", "tinyproxy", "iperf3");
    }

    @AfterClass
    public static void tearDown() {
        if (kit != null) {
            kit.close("TcpE2EIT", results);
        }
    }

    private static void network() throws Exception {
        u = kit.host("u", U_UNDERLAY);
        t = kit.host("t", T_UNDERLAY);
        x = kit.host("x", X_UNDERLAY);
        String px = kit.host("px", PROXY_IP);
        // t: a network that lets no UDP out to the switch (hotel Wi-Fi); x: nothing at all but the proxy
        nft(t, "add rule inet vl2e out ip daddr " + SWITCH_IP + " meta l4proto udp drop");
        nft(x, "add rule inet vl2e out ip daddr " + SWITCH_IP + " drop");
        Path conf = kit.lab.work.resolve("tinyproxy.conf");
        Files.writeString(conf, "Port 8888\nListen " + PROXY_IP + "\nTimeout 600\nAllow 10.77.0.0/24\n"
                + "MaxClients 20\nLogLevel Connect\n");
        proxy = kit.lab.start("tinyproxy", null, Lab.netnsExec(px, "tinyproxy", "-d", "-c", conf.toString()));
    }

    /** A table inet vl2e with an output chain in {@code ns}, and {@code rule} in it. */
    private static void nft(String ns, String rule) {
        Lab.in(ns, CMD, "nft", "add table inet vl2e").check();
        Lab.in(ns, CMD, "nft", "add chain inet vl2e out { type filter hook output priority 0 ; }").check();
        Lab.in(ns, CMD, "nft", rule).check();
    }

    private static void start() {
        Bg sw = kit.startSwitch("--tcp", SWITCH_IP + ":" + TCP_PORT, "--vl2-listen", SWITCH_IP + ":9991");
        // u is the UDP peer: forced to UDP, so a switch slow to answer its first JOIN on a loaded machine cannot
        // send it over TCP for a while (auto would, and t01 checks u's port is on the UDP transport)
        Bg agentU = kit.startAgent("u", u, "--switch", SWITCH_IP, "--address", U_IP + "/24", "--transport", "udp");
        // no --transport: auto is the default
        agentT = kit.startAgent("t", t, "--switch", SWITCH_IP, "--address", T_IP + "/24",
                "--tcp-port", String.valueOf(TCP_PORT), "--ssh-port", "8103");
        agentX = kit.startAgent("x", x, "--switch", SWITCH_IP, "--address", X_IP + "/24", "--transport", "tcp",
                "--proxy", "http://" + PROXY_IP + ":8888");
        LabKit.await(sw, "the TCP transport attached", Pattern.compile(
                "Transport tcp \\(vl2 mode, ranking 0\\) on " + Pattern.quote(SWITCH_IP + ":" + TCP_PORT)
                        + " attached"));
        LabKit.await(agentU, "u joined", Pattern.compile("Port agent up"));
        LabKit.await(agentT, "t joined over TCP", Pattern.compile("Port agent up"));
        results.put("agent t (TCP/TLS) boot to 'Port agent up'", (System.nanoTime() - agentT.startNanos) / 1_000_000
                + " ms");
        LabKit.await(agentX, "x joined through the proxy", Pattern.compile("Port agent up"));
    }

    // ---------------------------------------------------------------------------------------------------------

    @Test
    public void t01TheAutoAgentFallsBackToTlsAndPingsTheUdpAgent() {
        Pattern fallback = Pattern.compile("no answer from switch \\S+ over UDP for ([^:]+): now over TCP/TLS");
        // "Port agent up" comes at start, before the fallback: wait for the fallback's line (bounded)
        assertTrue(agentT.output(), Lab.await(Duration.ofSeconds(120), () -> fallback.matcher(logOf("t")).find()));
        results.put("agent t: UDP unanswered before the fallback to TCP", firstGroup(fallback, logOf("t")));
        String rtt = LabKit.ping(t, U_IP, 5);
        results.put("ping RTT t (TCP/TLS) -> u (UDP) (min/avg/max/mdev)", rtt);
        rtt = LabKit.ping(u, T_IP, 5);
        results.put("ping RTT u (UDP) -> t (TCP/TLS) (min/avg/max/mdev)", rtt);
        String status = kit.command(t, "t", "vl2:agent", out -> out.contains("over TCP/TLS"));
        assertTrue(status, status.contains(SWITCH_IP + ":" + TCP_PORT + " over TCP/TLS port " + TCP_PORT));
        // the switch: t is an ordinary port of the default network, on transport tcp, named by its connection
        String ports = kit.switchCommand("vl2:ports --no-format", out -> out.contains(T_UNDERLAY + ":"));
        assertTrue(ports, ports.lines().anyMatch(l -> l.contains(T_UNDERLAY + ":") && l.contains("tcp")));
        assertTrue(ports, ports.lines().anyMatch(l -> l.contains(U_UNDERLAY + ":") && l.contains("vl2")));
        String tcp = Lab.in(kit.sw, CMD, "ss", "-Htn", "state", "established", "sport", "= :" + TCP_PORT).check().out();
        assertTrue(tcp, tcp.contains(T_UNDERLAY + ":"));
        iperf3(t, u, U_IP, "iperf3 TCP t (TCP/TLS) -> u (UDP), 3 s");
    }

    /**
     * A 3 s iperf3 TCP transfer from {@code ns} to the agent at {@code target} in {@code serverNs} completes; its
     * rate is recorded.
     */
    private static void iperf3(String ns, String serverNs, String target, String what) {
        Bg server = kit.lab.start("iperf3-server", null, Lab.netnsExec(serverNs, "iperf3", "-s", "-1", "-B", target,
                "-p", "5201"));
        try {
            assertTrue("iperf3 server listening", Lab.await(CMD,
                    () -> Lab.in(serverNs, Lab.SHORT, "ss", "-Hltn", "sport = :5201").out().contains("5201")));
            Lab.Result r = Lab.in(ns, Duration.ofSeconds(60), "iperf3", "-c", target, "-p", "5201", "-t", "3",
                    "-f", "m", "--connect-timeout", "5000");
            java.util.regex.Matcher m = Pattern.compile("([\\d.]+) Mbits/sec\\s+(\\d+)\\s+sender").matcher(r.out());
            assertTrue("iperf3 completed:\n" + r.out(), r.ok() && m.find());
            results.put(what, m.group(1) + " Mbit/s, " + m.group(2) + " retransmits");
        } finally {
            server.stop(Duration.ofSeconds(5));
        }
    }

    private static String logOf(String instance) {
        try {
            return Files.readString(kit.lab.work.resolve(instance + "/data/log/karaf.log"));
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static String firstGroup(Pattern p, String text) {
        java.util.regex.Matcher m = p.matcher(text);
        return m.find() ? m.group(1) : "?";
    }

    @Test
    public void t02ThroughAnHttpConnectProxy() {
        String rtt = LabKit.ping(x, U_IP, 3);
        results.put("ping RTT x (TCP/TLS via HTTP proxy) -> u (min/avg/max/mdev)", rtt);
        LabKit.ping(x, T_IP, 3);
        assertTrue(proxy.output(), proxy.output().contains(SWITCH_IP));
        String ports = kit.switchCommand("vl2:ports --no-format", out -> out.contains(PROXY_IP + ":"));
        assertTrue("x's port is the proxy's connection:\n" + ports,
                ports.lines().anyMatch(l -> l.contains(PROXY_IP + ":") && l.contains("tcp")));
    }

    /** The feature goes and comes back while the switch runs; the TCP agents connect again by themselves. */
    @Test
    public void t03TheFeatureUninstallsAndInstallsAtRuntime() {
        int from = kit.switchLogLength();
        kit.client("feature:uninstall vl2-transport-tcp").check();
        boolean down = Lab.await(Duration.ofSeconds(60), () -> !Lab.in(kit.sw, CMD, "ss", "-Htln").out()
                .contains(SWITCH_IP + ":" + TCP_PORT));
        assertTrue("the TCP listener is gone", down);
        // the TCP ports are kept, detached, for the transport's return: the switch says so when it detaches (a
        // vl2:ports run after it races the ports' expiry, 30 s of silence, which a loaded machine can lose)
        kit.awaitSwitchLog(from, Pattern.compile("Transport tcp detached; its 2 ports are kept"));
        String ports = kit.switchCommand("vl2:ports --no-format", out -> out.contains(U_UNDERLAY + ":"));
        assertTrue("the UDP agent's port stays:\n" + ports,
                ports.lines().anyMatch(l -> l.contains(U_UNDERLAY + ":") && l.contains("vl2")));
        assertFalse("t cannot reach u without the TCP transport",
                Lab.in(t, CMD, "ping", "-c", "2", "-W", "1", U_IP).ok());
        long t0 = System.nanoTime();
        kit.client("feature:install vl2-transport-tcp").check();
        assertTrue("t reaches u again over TCP", LabKit.awaitPing(t, U_IP, Duration.ofSeconds(90)));
        results.put("feature:install to the first ping over TCP again", (System.nanoTime() - t0) / 1_000_000 + " ms");
        LabKit.ping(t, U_IP, 3);
    }

    /**
     * UDP unblocked: the auto agent probes it, goes back to UDP (the same TAP device) and pings over it; its port on
     * the switch moves from the TCP transport to the UDP one with the session (no new handshake, the same port).
     */
    @Test
    public void t04UnblockedTheAutoAgentGoesBackToUdpWithItsSession() {
        String onTcp = kit.switchCommand("vl2:ports --no-format", out -> portOf(out, T_UNDERLAY, "tcp") != null);
        String port = portOf(onTcp, T_UNDERLAY, "tcp");
        int from = kit.switchLogLength();
        int agentFrom = logOf("t").length();
        String before = Lab.in(t, CMD, "ip", "-o", "link", "show", "vl2tap0").check().out();
        // pings through the switch-over (5 per second), counted at the end
        Bg pings = kit.lab.start("pings-t-u", null, Lab.netnsExec(t, "ping", "-n", "-i", "0.2", "-w", "60", U_IP));
        LabKit.await(pings, "the first reply over TCP", Pattern.compile("bytes from"));
        long t0 = System.nanoTime();
        Lab.in(t, CMD, "nft", "delete table inet vl2e").check();
        String status = kit.command(t, "t", "vl2:agent", out -> out.contains("Switch resolved")
                && !out.contains("over TCP"));
        results.put("UDP unblocked to 'Switch resolved' without TCP", (System.nanoTime() - t0) / 1_000_000 + " ms");
        assertTrue(status, status.contains(SWITCH_IP + ":9991"));
        assertTrue("t reaches u over UDP", LabKit.awaitPing(t, U_IP, Duration.ofSeconds(60)));
        results.put("UDP unblocked to the first ping over UDP", (System.nanoTime() - t0) / 1_000_000 + " ms");
        LabKit.ping(t, U_IP, 3);
        String after = Lab.in(t, CMD, "ip", "-o", "link", "show", "vl2tap0").check().out();
        assertTrue(before + after, after.substring(0, after.indexOf(':')).equals(before.substring(0, before.indexOf(':'))));
        // the session moved with the agent: the same port, now on the vl2 (UDP) transport, and none left on tcp
        kit.awaitSwitchLog(from, Pattern.compile("Port " + port + " \\(member \\S+\\) moved from "
                + Pattern.quote(T_UNDERLAY) + ":\\d+ to " + Pattern.quote(T_UNDERLAY) + ":\\d+ \\(transport tcp -> vl2\\)"));
        String ports = kit.switchCommand("vl2:ports --no-format", out -> portOf(out, T_UNDERLAY, "vl2") != null);
        assertTrue(ports, port.equals(portOf(ports, T_UNDERLAY, "vl2")));
        assertTrue(ports, portOf(ports, T_UNDERLAY, "tcp") == null);
        try { // SIGINT: ping prints its summary and ends (SIGTERM would end it without one)
            new ProcessBuilder("kill", "-INT", String.valueOf(pings.pid())).start().waitFor(5, TimeUnit.SECONDS);
        } catch (java.io.IOException e) {
            throw new AssertionError("kill -INT " + pings.pid() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Lab.await(Duration.ofSeconds(10), () -> pings.output().contains("packets transmitted"));
        pings.stop(Duration.ofSeconds(5));
        java.util.regex.Matcher lost = Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(
                pings.output());
        results.put("pings t -> u every 0.2 s across the move back to UDP (transmitted, received)",
                lost.find() ? lost.group(1) + ", " + lost.group(2) : "no summary: " + pings.output());
        String agentLog = logOf("t").substring(agentFrom);
        assertFalse("no new handshake over UDP:\n" + agentLog, agentLog.contains("re-joined network"));
    }

    /**
     * A TCP agent that dies (SIGKILL: no LEAVE, no keepalive any more) frees its port on the switch within seconds of
     * its connection's end, not after the session timeout.
     */
    @Test
    public void t05ADeadTcpAgentFreesItsPortPromptly() {
        String ports = kit.switchCommand("vl2:ports --no-format", out -> portOf(out, PROXY_IP, "tcp") != null);
        String port = portOf(ports, PROXY_IP, "tcp");
        int from = kit.switchLogLength();
        long t0 = System.currentTimeMillis();
        ProcessHandle.of(agentX.javaPid()).ifPresent(ProcessHandle::destroyForcibly);
        long down = kit.switchLogTime(from, Pattern.compile("Port " + port + " down \\(tcp " + Pattern.quote(PROXY_IP)
                + ":\\d+\\): its tcp connection from \\S+ closed \\d+ s ago and it did not come back"));
        // the log line's reason (its connection closed, not the session timing out) is what is checked; the time
        // is printed, not asserted: speed belongs in bench/, and a loaded machine stretches any bound
        results.put("TCP agent x killed (SIGKILL) to its port freed on the switch", (down - t0) + " ms");
        String after = kit.switchCommand("vl2:ports --no-format", out -> portOf(out, PROXY_IP, "tcp") == null);
        assertTrue(after, portOf(after, PROXY_IP, "tcp") == null);
    }

    /** The id of the port on {@code transport} whose remote is at {@code address} in vl2:ports' output, or null. */
    private static String portOf(String ports, String address, String transport) {
        Pattern line = Pattern.compile("(?m)^\\s*(\\d+)\\W+\\S+\\W+" + transport + "\\W+\\S+\\W+"
                + Pattern.quote(address) + ":\\d+");
        java.util.regex.Matcher m = line.matcher(ports);
        return m.find() ? m.group(1) : null;
    }
}
