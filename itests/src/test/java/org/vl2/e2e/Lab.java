package org.vl2.e2e;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A test lab of network namespaces and the processes running in them, for the end-to-end tests: every
 * command runs with a time limit, every background process and namespace is registered, and {@link #close()}
 * (also run by a JVM shutdown hook) stops and removes all of them.
 *
 * <p>Names: every namespace is {@code <prefix>-<suffix>} with a per-run prefix {@code vl2e<4 hex>}. The
 * namespaces of a run are listed in {@code <work>/namespaces}, so a later run (or {@code .ci/run}) can remove
 * what a killed run left behind. Devices are created inside the namespaces only, so nothing is added to the
 * host's own network namespace and no interface name can clash with another run.
 */
final class Lab implements AutoCloseable {

    static final Duration SHORT = Duration.ofSeconds(15);
    private static final Pattern PREFIX = Pattern.compile("vl2e[0-9a-f]{4}");
    /** The prefixes of this JVM's labs (a lab creates its namespaces only after it got its prefix). */
    private static final Set<String> CLAIMED = ConcurrentHashMap.newKeySet();

    final String prefix;
    final Path work;
    private final List<String> namespaces = new CopyOnWriteArrayList<>();
    private final List<Bg> processes = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread hook;

    Lab(Path workRoot) throws IOException {
        removeLeftovers(workRoot);
        this.prefix = unusedPrefix();
        this.work = workRoot.resolve(prefix);
        Files.createDirectories(work);
        this.hook = new Thread(this::closeQuietly, "vl2-e2e-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * A random prefix that no existing namespace starts with: test classes of one run, and runs of other checkouts
     * on this machine, never share a namespace (nor remove one another's).
     */
    private static String unusedPrefix() {
        SecureRandom random = new SecureRandom();
        String existing = run(SHORT, "ip", "netns", "list").out();
        for (int attempt = 0; attempt < 100; attempt++) {
            byte[] bytes = new byte[2];
            random.nextBytes(bytes);
            String prefix = "vl2e" + HexFormat.of().formatHex(bytes);
            if (!existing.contains(prefix + "-") && CLAIMED.add(prefix)) {
                return prefix;
            }
        }
        throw new IllegalStateException("no unused namespace prefix vl2eXXXX left:\n" + existing);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Commands

    /** The result of a finished command: exit code and output (stdout and stderr interleaved). */
    record Result(List<String> command, int exit, String out) {
        boolean ok() {
            return exit == 0;
        }

        Result check() {
            if (exit != 0) {
                throw new AssertionError("'" + String.join(" ", command) + "' exited with " + exit + ":\n" + out);
            }
            return this;
        }
    }

    /** Runs a command to its end (at most {@code timeout}; then it is killed and the result's exit is -1). */
    static Result run(Duration timeout, String stdin, List<String> command, Map<String, String> env) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (env != null) {
            pb.environment().putAll(env);
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Result(command, -2, "cannot start: " + e.getMessage());
        }
        // read the output on another thread so a chatty process never blocks on a full pipe
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // process killed
            }
        }, "vl2-e2e-output");
        reader.setDaemon(true);
        reader.start();
        try {
            try (var in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException ignored) {
                // the command did not read its input
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                killTree(p.toHandle());
                p.waitFor(5, TimeUnit.SECONDS);
                reader.join(2000);
                synchronized (out) {
                    return new Result(command, -1, out + "\n[killed after " + timeout.toSeconds() + " s]");
                }
            }
            reader.join(5000);
        } catch (InterruptedException e) {
            killTree(p.toHandle());
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command, e);
        }
        synchronized (out) {
            return new Result(command, p.exitValue(), out.toString());
        }
    }

    static Result run(Duration timeout, String... command) {
        return run(timeout, null, List.of(command), null);
    }

    /** {@code ip ARGS}, which must succeed. */
    static Result ip(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("ip");
        cmd.addAll(Arrays.asList(args));
        return run(SHORT, null, cmd, null).check();
    }

    /** A command inside namespace {@code ns} (via {@code ip netns exec}). */
    static Result in(String ns, Duration timeout, String... command) {
        return run(timeout, null, netnsExec(ns, command), null);
    }

    static List<String> netnsExec(String ns, String... command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(Arrays.asList(command));
        return cmd;
    }

    /** Whether {@code name} is an executable on the PATH. */
    /**
     * The key pair of a switch whose instance directory is {@code instance}, created now where the switch keeps it
     * ({@code DIR/data/vl2/switch-identity}) if it does not exist: its public key (base64) is known before the switch
     * starts, so agents started at the same time can pin it ({@code --switch-key}).
     */
    static String switchKey(Path instance) {
        try {
            return org.vl2.crypto.Identity.loadOrCreate(instance.resolve("data/vl2/switch-identity")).fingerprint();
        } catch (IOException e) {
            throw new AssertionError("cannot create the switch's key pair in " + instance + ": " + e, e);
        }
    }

    /**
     * The flags an agent needs to pin the switch's key, unless it runs raw, VXLAN or plaintext, or trusts on first
     * use.
     */
    static List<String> keyFlags(String switchKey, List<String> agentFlags) {
        int mode = agentFlags.indexOf("--mode");
        boolean vl2 = mode < 0 || agentFlags.get(mode + 1).equals("vl2");
        return vl2 && !agentFlags.contains("--no-encryption") && !agentFlags.contains("--switch-key")
                && !agentFlags.contains("--trust-on-first-use")
                ? List.of("--switch-key", switchKey) : List.of();
    }

    static boolean onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }

    /** Polls {@code condition} every 100 ms until it holds; false if it did not within {@code timeout}. */
    static boolean await(Duration timeout, BooleanSupplier condition) {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() > end) {
                return false;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Namespaces

    /** Creates namespace {@code <prefix>-<suffix>} with its loopback up and returns its name. */
    String namespace(String suffix) {
        String ns = prefix + "-" + suffix;
        namespaces.add(ns);
        try {
            Files.writeString(work.resolve("namespaces"), ns + "\n", StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ip("netns", "add", ns);
        ip("-n", ns, "link", "set", "lo", "up");
        return ns;
    }

    List<String> namespaces() {
        return List.copyOf(namespaces);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Background processes

    /** A background process whose output goes to a file. */
    static final class Bg {
        final String name;
        final Process process;
        final Path log;
        final long startNanos = System.nanoTime();

        Bg(String name, Process process, Path log) {
            this.name = name;
            this.process = process;
            this.log = log;
        }

        String output() {
            try {
                return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            } catch (IOException e) {
                return "(cannot read " + log + ": " + e + ")";
            }
        }

        /** The first match of {@code pattern} in the output, waiting up to {@code timeout}; null if none. */
        Matcher awaitOutput(Pattern pattern, Duration timeout) {
            Matcher[] found = new Matcher[1];
            await(timeout, () -> {
                Matcher m = pattern.matcher(output());
                if (m.find()) {
                    found[0] = m;
                    return true;
                }
                if (process.isAlive()) {
                    return false;
                }
                // exited: what it printed last is all there will be (no need to wait out the timeout)
                Matcher last = pattern.matcher(output());
                found[0] = last.find() ? last : null;
                return true;
            });
            return found[0];
        }

        boolean alive() {
            return process.isAlive();
        }

        /**
         * For a failure's first line (CI summaries show only that): "running" plus the JVM's threads waiting in vl2
         * code when it is still up (the full thread dump goes to stderr), or how it exited and its last output line.
         */
        String state() {
            if (process.isAlive()) {
                String dump = threadDump();
                System.err.println("[e2e] " + name + " threads:\n" + dump);
                String vl2 = Arrays.stream(dump.split("\n")).filter(l -> l.contains("at org.vl2."))
                        .map(String::trim).distinct().limit(6).collect(Collectors.joining("; "));
                return "running" + (vl2.isEmpty() ? "" : ", in " + vl2);
            }
            String[] lines = output().strip().split("\n");
            return "exited with status " + process.exitValue() + ", last line: " + lines[lines.length - 1];
        }

        private String threadDump() {
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            try {
                Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(javaPid()), "Thread.print")
                        .redirectErrorStream(true).start();
                String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                p.waitFor(30, TimeUnit.SECONDS);
                return text;
            } catch (IOException e) {
                return "(no thread dump: " + e + ")";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "(no thread dump: interrupted)";
            }
        }

        long pid() {
            return process.pid();
        }

        /** The JVM this process runs (the launchers keep a shell as its parent), or the process itself. */
        long javaPid() {
            return process.descendants()
                    .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                    .mapToLong(ProcessHandle::pid).findFirst().orElse(process.pid());
        }

        /** SIGTERM, then (after {@code grace}) SIGKILL to it and everything it started; its exit code. */
        int stop(Duration grace) {
            List<ProcessHandle> tree = process.descendants().collect(Collectors.toList());
            process.destroy();
            try {
                if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    killTree(process.toHandle());
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            tree.forEach(ProcessHandle::destroyForcibly);
            return process.isAlive() ? Integer.MIN_VALUE : process.exitValue();
        }
    }

    /** Starts {@code command} in the background, its output (stdout and stderr) to {@code <work>/<name>.out}. */
    Bg start(String name, Map<String, String> env, List<String> command) {
        Path log = work.resolve(name + ".out");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        if (env != null) {
            pb.environment().putAll(env);
        }
        try {
            Bg bg = new Bg(name, pb.start(), log);
            processes.add(bg);
            return bg;
        } catch (IOException e) {
            throw new AssertionError("cannot start " + command + ": " + e.getMessage(), e);
        }
    }

    List<Bg> processes() {
        return List.copyOf(processes);
    }

    static void killTree(ProcessHandle root) {
        root.descendants().forEach(ProcessHandle::destroyForcibly);
        root.destroyForcibly();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Cleanup

    /**
     * Stops every process (SIGTERM, so agents remove their TAP devices; SIGKILL after 10 s), kills whatever
     * still runs inside the namespaces, and deletes the namespaces (and with them every device in them).
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (Bg bg : processes) {
            if (bg.alive()) {
                bg.process.destroy();
            }
        }
        for (Bg bg : processes) {
            bg.stop(Duration.ofSeconds(10));
        }
        for (String ns : namespaces) {
            removeNamespace(ns);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // already shutting down: we are the hook
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException e) {
            System.err.println("[e2e] cleanup failed: " + e);
        }
    }

    /** Kills what runs in {@code ns} and deletes it. */
    static void removeNamespace(String ns) {
        Result pids = run(SHORT, "ip", "netns", "pids", ns);
        if (pids.ok()) {
            for (String pid : pids.out().trim().split("\\s+")) {
                if (pid.matches("\\d+")) {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(Lab::killTree);
                }
            }
        }
        run(SHORT, "ip", "netns", "del", ns);
    }

    /** Removes the namespaces that earlier runs from this work folder left behind (a killed test JVM). */
    private static void removeLeftovers(Path workRoot) throws IOException {
        if (!Files.isDirectory(workRoot)) {
            return;
        }
        String existing = run(SHORT, "ip", "netns", "list").out();
        try (var dirs = Files.list(workRoot)) {
            for (Path dir : dirs.collect(Collectors.toList())) {
                Path list = dir.resolve("namespaces");
                if (!PREFIX.matcher(dir.getFileName().toString()).matches() || !Files.exists(list)) {
                    continue;
                }
                for (String ns : Files.readAllLines(list)) {
                    if (!ns.isBlank() && existing.contains(ns.trim())) {
                        System.err.println("[e2e] removing namespace " + ns + " left behind by an earlier run");
                        removeNamespace(ns.trim());
                    }
                }
                Files.delete(list);
            }
        }
        // the folders of earlier runs (Karaf instances, logs): only the latest run's are kept
        try (var dirs = Files.list(workRoot)) {
            for (Path dir : dirs.collect(Collectors.toList())) {
                if (PREFIX.matcher(dir.getFileName().toString()).matches()) {
                    deleteTree(dir);
                }
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).collect(Collectors.toList())) {
                Files.deleteIfExists(p);
            }
        }
    }
}
