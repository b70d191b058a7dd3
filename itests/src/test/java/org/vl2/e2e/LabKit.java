package org.vl2.e2e;

import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Assume;
import org.junit.rules.RuleChain;
import org.junit.rules.TestRule;
import org.junit.rules.TestWatcher;
import org.junit.rules.Timeout;
import org.junit.runner.Description;
import org.vl2.e2e.Lab.Bg;
import org.vl2.e2e.Lab.Result;

/**
 * What every end-to-end test class (AgentE2EIT, NetworkE2EIT, VxlanE2EIT, HotSwapE2EIT) builds on: the skip check,
 * the unpacked distribution, a switch and agents started with the launchers in namespaces on one underlay bridge,
 * shell commands through {@code bin/client}, pings, the C tools, and the diagnostics printed on failure. One
 * instance per test class; each class works in its own folder under {@code vl2.e2e.workDir} (so its {@link Lab}
 * never removes another class's run), and {@link Lab} lists its namespaces in {@code <folder>/<run>/namespaces}
 * for {@code .ci/run}.
 *
 * <p>Nothing here waits for a fixed time: every wait polls its condition and has a bound.
 */
final class LabKit {

    /**
     * How long a launcher may take to start (a bound, not a wait: a start is awaited on its log line). Generous: a
     * class boots up to nine JVMs at once, on a machine that other builds may load. 300 s was too short there: a
     * switch alone (client compiler) listened after about 390 s at a load of 40-50 on 2 cores; an idle machine
     * never gets near either bound, so the longer one costs nothing but the time a wedged boot takes to fail.
     */
    static final Duration BOOT = Duration.ofSeconds(600);
    static final Duration CMD = Duration.ofSeconds(30);
    /**
     * The bound of one {@code bin/vl2-client} command: a JVM start, an ssh login and the command. Twice {@link #CMD}:
     * on a machine loaded many times over (other builds, the other end-to-end class running beside this one) a start
     * alone has taken over 30 s, and a client killed at the bound only starts the next one from scratch.
     */
    static final Duration CLIENT = Duration.ofSeconds(60);
    /** How long a shell command is repeated until its output is the expected one (a bin/client JVM each time). */
    static final Duration COMMAND_UNTIL = Duration.ofSeconds(120);
    /** The time limit of one test (a bound against a hang; the tests wait on conditions, each bounded itself). */
    static final int TEST_SECONDS = 300;
    /** The default underlay address of the switch (bridge ul0 in its namespace). */
    static final String SWITCH_IP = "10.77.0.1";
    static final int SWITCH_SSH = 8102;
    private static final Pattern LOG_TIME = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d,\\d{3})");

    final Lab lab;
    final Path dist;
    final String sw;
    final String switchIp;
    final Map<String, String> env = Map.of("JAVA_HOME", System.getProperty("java.home"));
    /**
     * {@link #env} for {@code bin/vl2-client}: a JVM that lives for one command (a suite starts about a hundred)
     * spends most of its CPU in the optimizing compiler and the parallel collector's threads, which it never gets
     * to use; the client compiler only and the serial collector make each start cheaper, which leaves more of a
     * loaded machine to the instances under test. The switch runs as users run it.
     */
    final Map<String, String> clientEnv = Map.of("JAVA_HOME", System.getProperty("java.home"),
            "EXTRA_JAVA_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
    /**
     * The environment of {@link #startAgent}: the agents' own JVM options (bin/vl2-agent) with the client compiler
     * only. An agent keeps C2 for its users (the AES/GHASH intrinsics and inlined checksums, for throughput), but an
     * agent here lives for a minute, carries a few pings and boots beside
     * four others on two cores: C2 doubled the CPU of its boot (7-9 instead of 4 CPU-seconds until its features are
     * installed, docs/testing.md "Wall time") and its boots are most of a class's time. What the agent does is the
     * same under either compiler. A class that measures the agent as shipped (its RSS, its TCP/TLS fallback) sets
     * this to {@link #env} before it starts the agents.
     */
    Map<String, String> agentEnv = Map.of("JAVA_HOME", System.getProperty("java.home"),
            "EXTRA_JAVA_OPTS", "-XX:TieredStopAtLevel=1");
    /**
     * The environment of {@link #startSwitch}: the client compiler only, like {@link #agentEnv}. A switch boot is the
     * most CPU a class spends at once (14.8-25.5 CPU-seconds as shipped, 8.7-13.4 with C1 only, docs/testing.md "Wall
     * time"), and the integration tests run two classes on two cores, so the CPU a boot saves is wall time for both.
     * What the switch does is the same under either compiler; no test here asserts on its speed. A class that loads
     * the switch (NetworkE2EIT's floods), measures it (HotSwapE2EIT's longest gap) or runs TLS as users do (TcpE2EIT)
     * sets this to {@link #env} before it starts the switch.
     */
    Map<String, String> switchEnv = Map.of("JAVA_HOME", System.getProperty("java.home"),
            "EXTRA_JAVA_OPTS", "-XX:TieredStopAtLevel=1");
    /**
     * Class data sharing for {@code bin/vl2-client} (the JDK's dynamic archive): the first call of a class dumps the
     * classes its JVM loaded into {@code <work>/client.jsa}, every later call maps them instead of loading and
     * verifying them again (1.4-1.7 instead of 2.1-2.2 CPU-seconds a call on the client's side, docs/testing.md "Wall
     * time"). A call while the first one is still writing runs without it; the archive is moved into place only after
     * its JVM has exited, so no call ever maps half a file; a call that failed leaves the dump to the next one.
     */
    private boolean clientArchiveTaken;
    /**
     * Whether an agent of this class was started that may write the installation's class archive (bin/vl2-agent,
     * {@code var/cds}): every agent that starts before the archive exists dumps one when it stops (~0.8 CPU-seconds),
     * and the last clean stop's replaces the others'. A class's agents start together and stop together, so only its
     * first agent dumps; the later ones get an empty {@code -XX:ArchiveClassesAtExit=}, which cancels the launcher's
     * (EXTRA_JAVA_OPTS come last) and leaves the rest of the launcher's logic as users run it. Not for agents as
     * shipped ({@code agentEnv == env}: MultiNetworkAgentE2EIT's RSS figures, TcpE2EIT).
     */
    private boolean agentArchiveTaken;
    /** This class's CPU seconds and client calls, for its summary. */
    final ClassCost cost = new ClassCost();
    Bg switchProcess;
    /** The compiled C tools ({@link #compileTools}), null without gcc. */
    Path tools;

    private LabKit(Lab lab, Path dist, String sw, String switchIp) {
        this.lab = lab;
        this.dist = dist;
        this.sw = sw;
        this.switchIp = switchIp;
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

    /** What an end-to-end class builds on its lab in its {@code @BeforeClass}: namespaces, switch, agents. */
    @FunctionalInterface
    interface Build {
        void on(LabKit kit) throws Exception;
    }

    /**
     * The {@code @BeforeClass} of an end-to-end class: skipped (a JUnit assumption, the reason printed) unless this
     * machine can run it ({@link #whyNot} with {@code tools}, then {@code alsoNeeded}, which may be null and gives
     * a reason or null); then a lab in {@code folder} with the switch's underlay on {@code switchIp}, and
     * {@code build} on it. A build that fails prints the diagnostics and removes everything (printing
     * {@code results}) before the failure is rethrown.
     */
    static LabKit setUp(String title, String folder, String switchIp, Supplier<String> alsoNeeded,
                        Map<String, String> results, Build build, String... tools) throws Exception {
        String why = whyNot(tools);
        if (why == null && alsoNeeded != null) {
            why = alsoNeeded.get();
        }
        if (why != null) {
            System.err.println("[e2e] SKIPPED " + title + ": " + why);
        }
        Assume.assumeTrue(title + " skipped: " + why, why == null);
        ClassTurns.share(); // beside another class, unless that one runs alone
        LabKit kit = create(folder, switchIp);
        try {
            build.on(kit);
            return kit;
        } catch (Exception | Error e) {
            System.err.println("[e2e] " + title + " set-up failed: " + e);
            kit.dumpDiagnostics(title);
            kit.close(title, results);
            throw e;
        }
    }

    /**
     * The rules of an end-to-end class's tests: on a failure, the diagnostics of its lab ({@code kit} may give
     * null: set-up skipped or failed); around each test, a time limit of {@link #TEST_SECONDS}.
     */
    static TestRule rules(String title, Supplier<LabKit> kit) {
        TestWatcher diagnostics = new TestWatcher() {
            @Override
            protected void failed(Throwable e, Description description) {
                System.err.println("[e2e] " + title + "." + description.getMethodName() + " failed: " + e);
                LabKit k = kit.get();
                if (k != null) {
                    k.dumpDiagnostics(title);
                }
            }
        };
        return RuleChain.outerRule(diagnostics).around(Timeout.seconds(TEST_SECONDS));
    }

    private boolean closed;

    /** More for {@link #dumpDiagnostics} to print (a test's own processes), each under its title. */
    final Map<String, Supplier<String>> moreDiagnostics = new LinkedHashMap<>();

    /** {@link #create(String, String)} with the switch on {@link #SWITCH_IP}. */
    static LabKit create(String folder) throws IOException {
        return create(folder, SWITCH_IP);
    }

    /**
     * A lab in {@code <vl2.e2e.workDir>/<folder>}, the distribution unpacked there, and the switch's namespace
     * {@code <prefix>-sw} with the underlay bridge {@code ul0} ({@code switchIp}/24).
     */
    static LabKit create(String folder, String switchIp) throws IOException {
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
            for (String launcher : List.of("bin/vl2-agent", "bin/vl2-switch")) {
                assertTrue(launcher + " is not executable in the distribution", Files.isExecutable(dist.resolve(launcher)));
            }
            String sw = lab.namespace("sw");
            Lab.ip("-n", sw, "link", "add", "ul0", "type", "bridge");
            Lab.ip("-n", sw, "addr", "add", switchIp + "/24", "dev", "ul0");
            Lab.ip("-n", sw, "link", "set", "ul0", "up");
            return new LabKit(lab, dist, sw, switchIp);
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

    /**
     * Compiles the C tools (the seed VPort, tools/seed-vport/vport.c, and the frame probe, src/test/c/l2probe.c)
     * into {@code <work>/bin}; false (and {@link #tools} null) without gcc: the tests that need them are skipped.
     */
    boolean compileTools() throws IOException {
        if (!Lab.onPath("gcc")) {
            System.err.println("[e2e] gcc is not installed: the tests that need the C tools will be skipped");
            return false;
        }
        Path bin = lab.work.resolve("bin");
        Files.createDirectories(bin);
        Path vport = Path.of(System.getProperty("vl2.e2e.vportSource", "../tools/seed-vport/vport.c"));
        Path probe = Path.of(System.getProperty("vl2.e2e.probeSource", "src/test/c/l2probe.c"));
        Lab.run(Duration.ofSeconds(60), "gcc", "-O2", "-pthread", "-o", bin.resolve("vport").toString(),
                vport.toString()).check();
        Lab.run(Duration.ofSeconds(60), "gcc", "-O2", "-o", bin.resolve("l2probe").toString(), probe.toString())
                .check();
        Path forge = Path.of(System.getProperty("vl2.e2e.forgeSource", "src/test/c/udpforge.c"));
        Lab.run(Duration.ofSeconds(60), "gcc", "-O2", "-o", bin.resolve("udpforge").toString(), forge.toString())
                .check();
        tools = bin;
        return true;
    }

    /**
     * The command that runs the Java tool in {@code source} (one source file, src/test/tools), compiled once per
     * class into {@code <work>/bin/java} by this JVM's compiler: a single-file source launch ({@code java Flood.java})
     * compiled it again at every start, 1.2-1.4 CPU-seconds each.
     */
    synchronized List<String> javaTool(Path source) {
        String name = source.getFileName().toString().replaceFirst("\\.java$", "");
        Path classes = lab.work.resolve("bin/java");
        if (!Files.exists(classes.resolve(name + ".class"))) {
            javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
            assertNotNull("no Java compiler in " + System.getProperty("java.home") + " (a JDK is needed)", javac);
            assertTrue("cannot compile " + source, javac.run(null, null, null, "-d", classes.toString(),
                    source.toString()) == 0);
        }
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", classes.toString(),
                name);
    }

    /** The switch's public key, which the agents pin (created before the switch starts). */
    String switchKey;

    /** Starts bin/vl2-switch in the switch's namespace (instance directory {@code <work>/sw}). */
    Bg startSwitch(String... flags) {
        return startSwitchAs("switch", flags);
    }

    /** {@link #startSwitch(String...)} as process {@code name} (its console in {@code <work>/<name>.out}). */
    Bg startSwitchAs(String name, String... flags) {
        switchKey = Lab.switchKey(lab.work.resolve("sw"));
        List<String> cmd = new ArrayList<>(List.of(dist.resolve("bin/vl2-switch").toString(),
                "--data", lab.work.resolve("sw").toString()));
        cmd.addAll(List.of(flags));
        switchProcess = lab.start(name, switchEnv, Lab.netnsExec(sw, cmd.toArray(new String[0])));
        return switchProcess;
    }

    /** Starts bin/vl2-agent in {@code ns} (instance directory {@code <work>/<name>}). */
    Bg startAgent(String name, String ns, String... flags) {
        List<String> cmd = new ArrayList<>(List.of(dist.resolve("bin/vl2-agent").toString(),
                "--data", lab.work.resolve(name).toString()));
        cmd.addAll(List.of(flags));
        cmd.addAll(Lab.keyFlags(switchKey == null ? Lab.switchKey(lab.work.resolve("sw")) : switchKey, List.of(flags)));
        Map<String, String> startEnv = agentEnv;
        synchronized (this) {
            if (agentEnv != env && agentArchiveTaken) {
                startEnv = new HashMap<>(agentEnv);
                startEnv.put("EXTRA_JAVA_OPTS", agentEnv.get("EXTRA_JAVA_OPTS") + " -XX:ArchiveClassesAtExit=");
            }
            agentArchiveTaken = true;
        }
        return lab.start(name, startEnv, Lab.netnsExec(ns, cmd.toArray(new String[0])));
    }

    /** Waits for {@code pattern} in a process's console output (up to {@link #BOOT}); fails with the output. */
    static Matcher await(Bg bg, String what, Pattern pattern) {
        Matcher m = bg.awaitOutput(pattern, BOOT);
        if (m == null) {
            throw new AssertionError(bg.name + ": " + what + " (no /" + pattern + "/ within " + BOOT.toSeconds()
                    + " s; " + bg.state() + "):\n" + bg.output());
        }
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

    /** The switch's karaf.log as it is now, "" if it does not exist yet. */
    String switchLogText() {
        return readSwitchLog();
    }

    /**
     * The time (epoch milliseconds) of the first karaf.log line after the first {@code from} characters that
     * matches {@code pattern}, waiting for it as {@link #awaitSwitchLog} does.
     */
    long switchLogTime(int from, Pattern pattern) {
        Matcher m = awaitSwitchLog(from, Pattern.compile("(?m)^.*" + pattern.pattern() + ".*$"));
        Matcher time = LOG_TIME.matcher(m.group());
        assertTrue("no time stamp on the switch's log line: " + m.group(), time.find());
        return LocalDateTime.parse(time.group(1).replace(',', '.')).atZone(ZoneId.systemDefault()).toInstant()
                .toEpochMilli();
    }

    /** {@code bin/vl2-client} in the switch's namespace: one shell command on the switch (as its own user). */
    Result client(String command) {
        return client(sw, "sw", command);
    }

    /**
     * {@code bin/vl2-client} in {@code ns}: one shell command on the instance in {@code <work>/<instance>} (its
     * --data), logged in with the password that instance generated (the documented way for root).
     */
    Result client(String ns, String instance, String command) {
        Path archive = lab.work.resolve("client.jsa");
        Path dump = null;
        String cds = "";
        synchronized (this) {
            if (Files.exists(archive)) {
                cds = " -XX:SharedArchiveFile=" + archive + " -Xlog:cds*=error";
            } else if (!clientArchiveTaken) {
                clientArchiveTaken = true;
                dump = lab.work.resolve("client.jsa.dump");
                cds = " -XX:ArchiveClassesAtExit=" + dump + " -Xlog:cds*=error";
            }
        }
        cost.clientCalls.incrementAndGet();
        Map<String, String> callEnv = new HashMap<>(clientEnv);
        callEnv.put("EXTRA_JAVA_OPTS", clientEnv.get("EXTRA_JAVA_OPTS") + cds);
        Result r = Lab.run(CLIENT, command + "\n", Lab.netnsExec(ns, dist.resolve("bin/vl2-client").toString(),
                "--data", lab.work.resolve(instance).toString(), "-b"), callEnv);
        // only the archive of a JVM that ended by itself (one killed at the bound may have written part of it)
        if (dump != null && r.ok() && Files.exists(dump)) {
            try {
                Files.move(dump, archive, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                System.out.println("[e2e] bin/vl2-client runs without its class archive: " + e);
            }
        } else if (dump != null) {
            synchronized (this) {
                clientArchiveTaken = false; // the next call dumps again
            }
        }
        return r;
    }

    /** {@link #command} on the switch. */
    String switchCommand(String command, Predicate<String> until) {
        return command(sw, "sw", command, until);
    }

    /** The line {@link #switchCommands} puts between two commands' outputs (shell:echo; a leading dash is an option). */
    private static final String NEXT = "vl2e.next.command";

    /**
     * Several shell commands on the switch in one {@code bin/vl2-client} call (its batch mode runs the lines of its
     * input in turn), repeated as {@link #command} until {@code until} holds for their outputs (in order): one JVM
     * start instead of one per command (1.4-1.7 CPU-seconds each), for reads that go together.
     */
    List<String> switchCommands(List<String> commands, Predicate<List<String>> until) {
        String out = switchCommand(String.join("\nshell:echo " + NEXT + "\n", commands), o -> {
            List<String> parts = outputs(o);
            return parts.size() == commands.size() && until.test(parts);
        });
        return outputs(out);
    }

    /** The outputs of {@link #switchCommands}' commands in {@code out}. */
    private static List<String> outputs(String out) {
        return List.of(out.split("(?m)^" + Pattern.quote(NEXT) + "\r?\n?", -1));
    }

    /**
     * Runs a shell command on the instance in {@code <work>/<instance>} (in namespace {@code ns}) until it succeeds
     * and its output satisfies {@code until} (commands register asynchronously; tables change);
     * {@link #COMMAND_UNTIL} at most, then fails with the last output.
     */
    String command(String ns, String instance, String command, Predicate<String> until) {
        long end = System.nanoTime() + COMMAND_UNTIL.toNanos();
        Result r;
        boolean again = false;
        do {
            if (again) {
                cost.pollRepeats.incrementAndGet();
            }
            again = true;
            r = client(ns, instance, command);
            if (r.ok() && !r.out().contains("Command not found") && until.test(r.out())) {
                return r.out();
            }
        } while (System.nanoTime() < end);
        throw new AssertionError("'" + command + "' on " + ns + " (" + instance + ") did not give the expected output"
                + " within " + COMMAND_UNTIL.toSeconds() + " s; last (exit " + r.exit() + "):\n" + r.out());
    }

    /**
     * Pings {@code target} from {@code ns} once a second until a reply comes back, for at most {@code timeout}:
     * whether one did. For "reachable yet?" and for timing how long until it is.
     */
    static boolean awaitPing(String ns, String target, Duration timeout, String... options) {
        List<String> cmd = new ArrayList<>(List.of("ping"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-c", "1", "-W", "1", target));
        long end = System.nanoTime() + timeout.toNanos();
        do {
            if (Lab.in(ns, CMD, cmd.toArray(new String[0])).ok()) {
                return true;
            }
        } while (System.nanoTime() < end);
        return false;
    }

    /**
     * Pings until all {@code count} replies come back (3 attempts); returns the rtt summary "min/avg/max/mdev ms".
     * First waits (30 s at most) until {@code target} answers at all: the first packet to a neighbour not resolved
     * yet (ARP, neighbour discovery through a port the switch has not learnt) may be lost, and is not what the count
     * is about.
     */
    static String ping(String ns, String target, int count, String... options) {
        assertTrue(ns + " -> " + target + ": no reply within 30 s", awaitPing(ns, target, Duration.ofSeconds(30),
                options));
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

    /** Whether network device {@code dev} exists in {@code ns}. */
    static boolean linkExists(String ns, String dev) {
        return Lab.run(Lab.SHORT, "ip", "-n", ns, "link", "show", dev).ok();
    }

    /** Waits (up to {@code timeout}) until {@code bg} has exited; whether it has. */
    static boolean awaitExit(Bg bg, Duration timeout) {
        try {
            return bg.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * The IPv4 address matching {@code pattern} (group 1) on {@code dev} in {@code ns}, once there (60 s at most;
     * then fails with {@code owner}'s console).
     */
    static String awaitAddress(String ns, String dev, Pattern pattern, Bg owner) {
        String[] found = new String[1];
        boolean ok = Lab.await(Duration.ofSeconds(60), () -> {
            Matcher m = pattern.matcher(Lab.in(ns, CMD, "ip", "-o", "-4", "addr", "show", "dev", dev).out());
            return m.find() && (found[0] = m.group(1)) != null;
        });
        assertTrue(ns + ": no address /" + pattern + "/ on " + dev + ":\n" + (owner == null ? "" : owner.output()), ok);
        return found[0];
    }

    /**
     * One l2probe round (needs {@link #compileTools}): starts a receiver per entry (its namespace and device,
     * {@link Probe}), sends {@code count} frames from {@code dev} in {@code ns} (tagged {@code vid} unless it is
     * negative, to {@code to} or broadcast) and returns what each receiver counted. The receivers that expect
     * frames stop at the round's end frame (so their counts are exact however slow the machine); those that expect
     * none are stopped once all the others are done.
     */
    Map<String, Integer> probeRound(String ns, String dev, int count, int vid, String to, Map<String, Probe> receivers) {
        String tag = "r" + System.nanoTime() % 1_000_000;
        Map<String, Bg> started = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Probe> r : receivers.entrySet()) {
            List<String> cmd = new ArrayList<>(List.of(tools.resolve("l2probe").toString(), "recv", r.getValue().dev,
                    String.valueOf(CMD.toSeconds()), tag));
            if (r.getValue().vlan != null) {
                cmd.addAll(List.of("--vlan", r.getValue().vlan));
            }
            started.put(r.getKey(), lab.start("rx-" + tag + "-" + i++, null,
                    Lab.netnsExec(r.getValue().ns, cmd.toArray(new String[0]))));
        }
        for (Map.Entry<String, Bg> r : started.entrySet()) {
            assertNotNull(r.getKey() + ": probe not ready:\n" + r.getValue().output(),
                    r.getValue().awaitOutput(Pattern.compile("ready"), CMD));
        }
        List<String> send = new ArrayList<>(List.of(tools.resolve("l2probe").toString(), "send", dev,
                String.valueOf(count), tag));
        if (vid >= 0) {
            send.addAll(List.of("--vlan", String.valueOf(vid)));
        }
        if (to != null) {
            send.addAll(List.of("--to", to));
        }
        Lab.in(ns, CMD, send.toArray(new String[0])).check();
        Map<String, Integer> counted = new HashMap<>();
        Pattern done = Pattern.compile("count (\\d+)");
        for (boolean expecting : new boolean[] {true, false}) {
            for (Map.Entry<String, Bg> r : started.entrySet()) {
                if (receivers.get(r.getKey()).expectsFrames != expecting) {
                    continue;
                }
                if (!expecting) {
                    r.getValue().process.destroy(); // SIGTERM: it prints its count
                }
                Matcher m = r.getValue().awaitOutput(done, CMD);
                assertNotNull(r.getKey() + ": no count:\n" + r.getValue().output(), m);
                counted.put(r.getKey(), Integer.parseInt(m.group(1)));
            }
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        receivers.keySet().forEach(name -> counts.put(name, counted.get(name)));
        return counts;
    }

    /** An l2probe receiver: where, which frames (VLAN ID, null for untagged), and whether the round sends it any. */
    record Probe(String ns, String dev, String vlan, boolean expectsFrames) {
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
        moreDiagnostics.forEach((what, text) -> sb.append("---- ").append(what).append(":\n").append(text.get()));
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
        if (closed) {
            return; // a set-up that failed closed it already; its @AfterClass comes here again
        }
        closed = true;
        try {
            lab.close();
            results.put("cost", cost.line());
            ClassTurns.release();
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
