package org.vl2.e2e;

import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.vl2.e2e.Lab.Bg;
import org.vl2.e2e.Lab.Result;

/**
 * What the end-to-end tests VxlanE2EIT and HotSwapE2EIT share: the skip check, the unpacked distribution, a
 * switch and agents started with the launchers in namespaces on one underlay bridge, shell commands through
 * {@code bin/client}, pings, and the diagnostics printed on failure. One instance per test class; each class works
 * in its own folder under {@code vl2.e2e.workDir} (so its {@link Lab} never removes another class's run).
 */
final class LabKit {

    static final Duration BOOT = Duration.ofSeconds(150);
    static final Duration CMD = Duration.ofSeconds(30);
    static final String SWITCH_IP = "10.77.0.1";
    static final int SWITCH_SSH = 8102;

    final Lab lab;
    final Path dist;
    final String sw;
    final Map<String, String> env = Map.of("JAVA_HOME", System.getProperty("java.home"));
    Bg switchProcess;

    private LabKit(Lab lab, Path dist, String sw) {
        this.lab = lab;
        this.dist = dist;
        this.sw = sw;
    }

    /**
     * Why the end-to-end tests cannot run here (not root, no /dev/net/tun, a tool missing, no namespaces), or null.
     */
    static String whyNot(String... tools) {
        Result id = Lab.run(Lab.SHORT, "id", "-u");
        if (!id.ok() || !id.out().trim().equals("0")) {
            return "not running as root (network namespaces and TAP devices need CAP_NET_ADMIN)";
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            return "/dev/net/tun is missing (modprobe tun)";
        }
        for (String tool : tools) {
            if (!Lab.onPath(tool)) {
                return "'" + tool + "' is not installed (Debian: apt-get install iproute2 iputils-ping iperf3)";
            }
        }
        String probe = "vl2e-probe-" + ProcessHandle.current().pid();
        Result add = Lab.run(Lab.SHORT, "ip", "netns", "add", probe);
        Lab.run(Lab.SHORT, "ip", "netns", "del", probe);
        if (!add.ok()) {
            return "cannot create network namespaces here: " + add.out().trim();
        }
        return null;
    }

    /**
     * A lab in {@code <vl2.e2e.workDir>/<folder>}, the distribution unpacked there, and the switch's namespace
     * {@code <prefix>-sw} with the underlay bridge {@code ul0} (10.77.0.1/24).
     */
    static LabKit create(String folder) throws IOException {
        Path workRoot = Path.of(System.getProperty("vl2.e2e.workDir", "target/e2e")).toAbsolutePath().resolve(folder);
        Files.createDirectories(workRoot);
        Lab lab = new Lab(workRoot);
        try {
            Path tarball = Path.of(System.getProperty("vl2.assembly", "../karaf-assembly/target/vl2-karaf.tar.gz"));
            assertTrue("the distribution is missing: " + tarball + " (build karaf-assembly first)",
                    Files.isRegularFile(tarball));
            Path dist = workRoot.resolve("dist");
            Lab.deleteTree(dist);
            Files.createDirectories(dist);
            Lab.run(Duration.ofSeconds(120), "tar", "-xzf", tarball.toString(), "-C", dist.toString(),
                    "--strip-components=1").check();
            String sw = lab.namespace("sw");
            Lab.ip("-n", sw, "link", "add", "ul0", "type", "bridge");
            Lab.ip("-n", sw, "addr", "add", SWITCH_IP + "/24", "dev", "ul0");
            Lab.ip("-n", sw, "link", "set", "ul0", "up");
            return new LabKit(lab, dist, sw);
        } catch (IOException | RuntimeException | Error e) {
            lab.close();
            throw e;
        }
    }

    /** A namespace {@code <prefix>-<name>} with eth0 on the underlay bridge at {@code underlay}/24. */
    String host(String name, String underlay) {
        String ns = lab.namespace(name);
        // created inside the switch's namespace, the peer moved straight into the host's: no name in the root one
        Lab.ip("-n", sw, "link", "add", "u-" + name, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Lab.ip("-n", sw, "link", "set", "u-" + name, "master", "ul0", "up");
        Lab.ip("-n", ns, "addr", "add", underlay + "/24", "dev", "eth0");
        Lab.ip("-n", ns, "link", "set", "eth0", "up");
        return ns;
    }

    /** The switch's public key, which the agents pin (created before the switch starts). */
    String switchKey;

    /** Starts bin/vl2-switch in the switch's namespace (instance directory {@code <work>/sw}). */
    Bg startSwitch(String... flags) {
        switchKey = Lab.switchKey(lab.work.resolve("sw"));
        List<String> cmd = new ArrayList<>(List.of(dist.resolve("bin/vl2-switch").toString(),
                "--data", lab.work.resolve("sw").toString()));
        cmd.addAll(List.of(flags));
        switchProcess = lab.start("switch", env, Lab.netnsExec(sw, cmd.toArray(new String[0])));
        return switchProcess;
    }

    /** Starts bin/vl2-agent in {@code ns} (instance directory {@code <work>/<name>}). */
    Bg startAgent(String name, String ns, String... flags) {
        List<String> cmd = new ArrayList<>(List.of(dist.resolve("bin/vl2-agent").toString(),
                "--data", lab.work.resolve(name).toString()));
        cmd.addAll(List.of(flags));
        cmd.addAll(Lab.keyFlags(switchKey == null ? Lab.switchKey(lab.work.resolve("sw")) : switchKey, List.of(flags)));
        return lab.start(name, env, Lab.netnsExec(ns, cmd.toArray(new String[0])));
    }

    /** Waits for {@code pattern} in a process's console output (up to {@link #BOOT}); fails with the output. */
    static Matcher await(Bg bg, String what, Pattern pattern) {
        Matcher m = bg.awaitOutput(pattern, BOOT);
        assertNotNull(bg.name + ": " + what + " (no /" + pattern + "/ within " + BOOT.toSeconds() + " s):\n"
                + bg.output(), m);
        return m;
    }

    /** The switch's karaf.log. */
    Path switchLog() {
        return lab.work.resolve("sw/data/log/karaf.log");
    }

    /** How many characters the switch's karaf.log has now (for {@link #awaitSwitchLog}). */
    int switchLogLength() {
        return readSwitchLog().length();
    }

    private String readSwitchLog() {
        try {
            return Files.exists(switchLog()) ? Files.readString(switchLog()) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Waits (up to {@link #CMD}) for {@code pattern} in what the switch logged after the first {@code from}
     * characters of its karaf.log. The log file, not the console: what a shell command's thread logs goes to that
     * command's session (Karaf redirects System.out per thread), not to the switch's console.
     */
    Matcher awaitSwitchLog(int from, Pattern pattern) {
        Matcher[] found = new Matcher[1];
        Lab.await(CMD, () -> {
            String log = readSwitchLog();
            Matcher m = pattern.matcher(log.substring(Math.min(from, log.length())));
            return m.find() && (found[0] = m) != null;
        });
        assertNotNull("the switch did not log /" + pattern + "/ within " + CMD.toSeconds() + " s; its log since:\n"
                + tail(readSwitchLog().substring(Math.min(from, readSwitchLog().length())), 40), found[0]);
        return found[0];
    }

    /** {@code bin/client} in the switch's namespace: one shell command on the switch (as user karaf). */
    Result client(String command) {
        return Lab.run(CMD, command + "\n", Lab.netnsExec(sw, dist.resolve("bin/client").toString(), "-h", "127.0.0.1",
                "-a", String.valueOf(SWITCH_SSH), "-u", "karaf", "-p", "karaf", "-b"), env);
    }

    /**
     * Runs a switch command until it succeeds and its output satisfies {@code until} (commands register
     * asynchronously; tables change); 45 s at most, then fails with the last output.
     */
    String switchCommand(String command, Predicate<String> until) {
        long end = System.nanoTime() + Duration.ofSeconds(45).toNanos();
        Result r;
        do {
            r = client(command);
            if (r.ok() && !r.out().contains("Command not found") && until.test(r.out())) {
                return r.out();
            }
        } while (System.nanoTime() < end);
        throw new AssertionError("'" + command + "' on the switch did not give the expected output within 45 s; "
                + "last (exit " + r.exit() + "):\n" + r.out());
    }

    /** Pings until all {@code count} replies come back (3 attempts); returns the rtt summary "min/avg/max/mdev ms". */
    static String ping(String ns, String target, int count, String... options) {
        String want = " " + count + " received";
        List<String> cmd = new ArrayList<>(List.of("ping"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-c", String.valueOf(count), "-i", "0.2", "-W", "2", target));
        Result r = null;
        for (int i = 0; i < 3; i++) {
            r = Lab.in(ns, CMD, cmd.toArray(new String[0]));
            if (r.out().contains(want)) {
                break;
            }
        }
        assertTrue(ns + " -> " + target + ": " + count + " replies expected:\n" + r.out(), r.out().contains(want));
        Matcher m = Pattern.compile("= ([\\d./]+) ms").matcher(r.out());
        return m.find() ? m.group(1) + " ms" : "?";
    }

    /** The MAC address of {@code dev} in {@code ns}. */
    static String mac(String ns, String dev) {
        String out = Lab.in(ns, CMD, "ip", "-o", "link", "show", dev).check().out();
        Matcher m = Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(out);
        assertTrue("no MAC for " + dev + " in " + ns + ": " + out, m.find());
        return m.group(1);
    }

    /** The IPv6 link-local address of {@code dev}, once duplicate address detection is done. */
    static String linkLocal(String ns, String dev) {
        Pattern p = Pattern.compile("inet6 (fe80::[0-9a-f:]+)/64 scope link(?! tentative)");
        String[] found = new String[1];
        Lab.await(Duration.ofSeconds(10), () -> {
            Matcher m = p.matcher(Lab.in(ns, CMD, "ip", "-o", "-6", "addr", "show", "dev", dev).out());
            return m.find() && (found[0] = m.group(1)) != null;
        });
        assertNotNull("no usable IPv6 link-local address on " + dev + " in " + ns + ":\n"
                + Lab.in(ns, CMD, "ip", "-6", "addr", "show", "dev", dev).out(), found[0]);
        return found[0];
    }

    /** The resident set size of a process, as /proc says. */
    static String rss(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                    .filter(l -> l.startsWith("VmRSS:")).map(l -> l.substring(6).trim()).findFirst().orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    /** On failure: each instance's console and karaf.log (tails), the namespaces' addresses, the switch's tables. */
    void dumpDiagnostics(String title) {
        StringBuilder sb = new StringBuilder("\n[e2e] ======== " + title + " diagnostics (" + lab.prefix + ", "
                + lab.work + ") ========\n");
        for (Bg bg : lab.processes()) {
            sb.append("---- ").append(bg.name).append(" (pid ").append(bg.pid()).append(bg.alive() ? ", running" : ", exited")
                    .append(") console, last 60 lines:\n").append(tail(bg.output(), 60));
            Path karafLog = lab.work.resolve(bg.name.equals("switch") ? "sw" : bg.name).resolve("data/log/karaf.log");
            if (Files.exists(karafLog)) {
                try {
                    sb.append("---- ").append(karafLog).append(", last 40 lines:\n")
                            .append(tail(Files.readString(karafLog), 40));
                } catch (IOException e) {
                    sb.append("(cannot read ").append(karafLog).append(")\n");
                }
            }
        }
        for (String ns : lab.namespaces()) {
            sb.append("---- ip -n ").append(ns).append(" -br addr:\n")
                    .append(Lab.run(Lab.SHORT, "ip", "-n", ns, "-br", "addr").out());
        }
        if (switchProcess != null && switchProcess.alive()) {
            sb.append("---- vl2:ports:\n").append(client("vl2:ports").out());
            sb.append("---- vl2:mactable:\n").append(client("vl2:mactable").out());
        }
        System.err.println(sb);
    }

    static String tail(String text, int lines) {
        String[] all = text.split("\n");
        StringBuilder sb = new StringBuilder();
        for (int i = Math.max(0, all.length - lines); i < all.length; i++) {
            sb.append(all[i]).append('\n');
        }
        return sb.toString();
    }

    /**
     * Stops everything and removes the namespaces; fails if a namespace is left behind. Prints the summary lines
     * in any case.
     */
    void close(String title, Map<String, String> results) {
        try {
            lab.close();
            List<String> left = new ArrayList<>();
            String existing = Lab.run(Lab.SHORT, "ip", "netns", "list").out();
            for (String ns : lab.namespaces()) {
                if (existing.contains(ns)) {
                    left.add(ns);
                }
            }
            assertTrue("namespaces left behind: " + left, left.isEmpty());
        } finally {
            System.out.println("[e2e] ---- " + title + " summary (" + lab.prefix + ") ----");
            results.forEach((k, v) -> System.out.println("[e2e] " + k + ": " + v));
        }
    }
}
