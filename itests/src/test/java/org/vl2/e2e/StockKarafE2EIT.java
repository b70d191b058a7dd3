package org.vl2.e2e;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
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
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestRule;
import org.junit.rules.TestWatcher;
import org.junit.runner.Description;
import org.vl2.e2e.Lab.Bg;
import org.vl2.e2e.Lab.Result;

/**
 * Issue 14's promise to users of a stock Apache Karaf 4.4.10 (docs/operating.md, "A stock Apache Karaf 4.4.10"):
 * {@code feature:install vl2-switch} in an unmodified Karaf still forwards raw frames out of the box, with the raw
 * UDP transport on 127.0.0.1 only. The stock distribution (org.apache.karaf:apache-karaf:4.4.10:tar.gz, a test
 * dependency) is unpacked next to the vl2 distribution, whose {@code system/} folder is added as a Maven repository
 * (no {@code mvn install}); no remote repository is configured, so nothing is downloaded. The shell is the stock
 * one, reached with the stock {@code bin/client}. Stock Karaf 4.4 ships no ssh user (its users.properties has
 * karaf/karaf commented out; an operator uses the local console): the test adds one with a random password for
 * this run, as an operator who wants ssh would.
 *
 * <pre>
 *   test JVM   raw port A  127.0.0.1:x  --\
 *                                          &gt;  stock Karaf, vl2-switch: raw transport 127.0.0.1:9990, network 'raw'
 *   test JVM   raw port B  127.0.0.1:y  --/
 * </pre>
 *
 * The raw transport keeps its default port 9990 when 127.0.0.1:9990 is free as the test starts (the other
 * end-to-end classes run their switches inside namespaces); otherwise it is moved to a free port with
 * {@code config:property-set -p org.vl2.transport.udp port N} before the feature install, which is printed.
 * The last run stays in {@code target/e2e/StockKarafE2EIT/<run>/} (karaf.out, karaf/data/log/karaf.log).
 */
public class StockKarafE2EIT {

    private static final String TITLE = "StockKarafE2EIT";
    private static final String UDP_PID = "org.vl2.transport.udp";
    private static final int DEFAULT_RAW_PORT = 9990;
    private static final String SHORT_LIVED_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";
    /** Stock Karaf's boot on a loaded machine: a bound, the boot is awaited on the shell answering. */
    private static final Duration BOOT = Duration.ofSeconds(180);
    /** The feature install resolves and starts the vl2 bundles (a bound). */
    private static final Duration INSTALL = Duration.ofSeconds(180);
    private static final Duration FRAMES = Duration.ofSeconds(60);
    private static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};
    /** Locally administered unicast MACs of the two raw ports. */
    private static final byte[] MAC_A = {0x02, 0x76, 0x6c, 0x32, 0x00, 0x0a};
    private static final byte[] MAC_B = {0x02, 0x76, 0x6c, 0x32, 0x00, 0x0b};

    private Lab lab;
    /** This class's CPU seconds and bin/client calls, printed at its end. */
    private final ClassCost cost = new ClassCost();
    private Path karaf;
    private int sshPort;
    /** This run's ssh password (a random one: stock Karaf ships no user). */
    private final String password = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
    private Bg server;
    /** The last shell command's result, for the failure message of a wait on the shell. */
    private volatile Result last;

    @Rule
    public final TestRule diagnostics = new TestWatcher() {
        @Override
        protected void failed(Throwable e, Description description) {
            System.err.println("[e2e] " + TITLE + " failed: " + e);
            dumpDiagnostics();
        }
    };

    /** It boots a Karaf: not beside a class that runs alone (outside the test's time limit: it may wait). */
    @BeforeClass
    public static void turn() {
        ClassTurns.share();
    }

    @Test(timeout = 600_000)
    public void featureInstallInStockKarafForwardsRawFramesOnLoopbackOnly() throws Exception {
        String why = whyNot();
        if (why != null) {
            System.err.println("[e2e] SKIPPED " + TITLE + ": " + why);
        }
        Assume.assumeTrue(TITLE + " skipped: " + why, why == null);
        Path workRoot = Path.of(System.getProperty("vl2.e2e.workDir", "target/e2e")).toAbsolutePath().resolve(TITLE);
        Files.createDirectories(workRoot);
        long start = System.nanoTime();
        try (Lab l = new Lab(workRoot)) {
            lab = l;
            Path vl2System = unpack();
            int rawPort = rawPort();
            // the client compiler and the serial collector, for the server and each bin/client (LabKit.clientEnv):
            // JVMs that live for a minute or a command, where C2 doubled the CPU of the boot and the feature
            // resolution; the stock Karaf is otherwise untouched (its bin/karaf passes EXTRA_JAVA_OPTS on)
            server = lab.start("karaf", Map.of("JAVA_HOME", System.getProperty("java.home"),
                    "EXTRA_JAVA_OPTS", SHORT_LIVED_JVM), List.of(karaf.resolve("bin/karaf").toString(), "server"));
            try {
                // its ssh port greets first (a connect from here: no JVM), then the shell's commands are asked for:
                // a bin/client that polled the boot cost a JVM start (1-2 CPU-seconds) every time it found no shell
                assertTrue("the stock Karaf's ssh port did not greet within " + BOOT.toSeconds() + " s",
                        Lab.await(BOOT, () -> !server.alive() || sshGreets()));
                assertTrue("the stock Karaf exited during its boot:\n" + server.output(), server.alive());
                assertTrue("the stock Karaf's shell did not answer within " + BOOT.toSeconds() + " s; bin/client:\n"
                        + (last == null ? "-" : last.out()),
                        Lab.await(BOOT, () -> server.alive() && portsAnswer(client("feature:list -i"))));
                if (rawPort != DEFAULT_RAW_PORT) {
                    client("config:property-set -p " + UDP_PID + " port " + rawPort).check();
                }
                String repo = "mvn:org.vl2/vl2-features/" + vl2Version(vl2System) + "/xml/features";
                client("feature:repo-add " + repo).check();
                Result install = Lab.run(INSTALL, "feature:install vl2-switch\n", clientCommand(), clientEnv());
                assertTrue("feature:install vl2-switch failed:\n" + install.out(),
                        install.ok() && !install.out().contains("Error"));
                assertTrue("vl2:ports did not answer within " + INSTALL.toSeconds() + " s:\n" + last.out(),
                        Lab.await(INSTALL, () -> portsAnswer(client("vl2:ports"))));
                assertTrue("the raw transport is not listening on UDP port " + rawPort,
                        Lab.await(INSTALL, () -> !listeners(rawPort).isEmpty()));
                // distinct: with io.threads > 1 (one receive thread per core by default) the transport binds one
                // SO_REUSEPORT socket per thread, all on the same address
                List<String> bound = listeners(rawPort).stream().distinct().collect(Collectors.toList());
                assertEquals("the raw transport listens on a non-loopback address (ss -uln)",
                        List.of("127.0.0.1:" + rawPort), bound);

                String plaintext = "raw-mode UDP 127.0.0.1:" + rawPort + " is PLAINTEXT and UNAUTHENTICATED";
                assertTrue("the raw transport did not say at its start that it is plaintext (karaf.log)",
                        Lab.await(Duration.ofSeconds(30), () -> karafLog().contains(plaintext)));

                forwardFrames(new InetSocketAddress(InetAddress.getLoopbackAddress(), rawPort));
                String ports = client("vl2:ports").out();
                System.err.println("[e2e] " + TITLE + ": vl2:ports after the frames:\n" + ports);
                httpApi();
            } finally {
                stopKaraf();
            }
        } finally {
            System.err.printf("[e2e] %s took %d s; cost: %s%n", TITLE,
                    Duration.ofNanos(System.nanoTime() - start).toSeconds(), cost.line());
        }
    }

    /**
     * The feature vl2-api-rest in the stock Karaf: Karaf's own http-whiteboard (Pax Web, from the stock standard
     * features and the vl2 distribution's system/), on 127.0.0.1 and a free port; the API answers 401 without a login
     * and the switch and its ports with the run's user, who has the admin group.
     */
    private void httpApi() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        client("config:edit org.ops4j.pax.web\nconfig:property-set org.osgi.service.http.port " + port
                + "\nconfig:property-set org.ops4j.pax.web.listening.addresses 127.0.0.1\nconfig:update").check();
        Result install = Lab.run(INSTALL, "feature:install vl2-api-rest\n", clientCommand(), clientEnv());
        assertTrue("feature:install vl2-api-rest failed:\n" + install.out(),
                install.ok() && !install.out().contains("Error"));
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.URI uri = java.net.URI.create("http://127.0.0.1:" + port + "/api/ports");
        assertTrue("the API does not answer on 127.0.0.1:" + port, Lab.await(INSTALL, () -> {
            try {
                return http.send(java.net.http.HttpRequest.newBuilder(uri).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode() == 401;
            } catch (java.io.IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }));
        String auth = "Basic " + java.util.Base64.getEncoder().encodeToString(("vl2e2e:" + password)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(uri)
                .header("Authorization", auth).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(r.body(), 200, r.statusCode());
        assertTrue("a JSON array of ports: " + r.body(), r.body().startsWith("["));
        java.net.http.HttpResponse<String> sw = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/api/switch")).header("Authorization", auth).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(sw.body(), 200, sw.statusCode());
        assertTrue(sw.body(), sw.body().contains("\"publicKey\":"));
        System.err.println("[e2e] " + TITLE + ": GET /api/ports with the run's user: " + r.body());
    }

    /** Null when this machine can run the test, else why not (a tool missing, the stock tarball not resolved). */
    private static String whyNot() {
        for (String tool : List.of("tar", "ss")) {
            if (!Lab.onPath(tool)) {
                return "'" + tool + "' is not installed";
            }
        }
        return null;
    }

    /**
     * Unpacks the stock Karaf into {@code <run>/karaf} and the vl2 distribution into {@code <run>/vl2}, and
     * configures the stock Karaf: an ssh user for this run, vl2's {@code system/} as a Maven repository, no remote repository, its own empty
     * local repository (a stale {@code ~/.m2} copy of vl2 never counts), ssh and JMX on loopback on free ports.
     * Returns vl2's {@code system/}.
     */
    private Path unpack() throws IOException {
        Path stock = Path.of(System.getProperty("vl2.stockKaraf", "stock-karaf-missing"));
        assertTrue("the stock Karaf tarball is missing: " + stock
                + " (org.apache.karaf:apache-karaf:4.4.10:tar.gz, a test dependency of itests)", Files.isRegularFile(stock));
        Path vl2Tar = Path.of(System.getProperty("vl2.assembly", "../karaf-assembly/target/vl2-karaf.tar.gz"));
        assertTrue("the distribution is missing: " + vl2Tar + " (build karaf-assembly first)",
                Files.isRegularFile(vl2Tar));
        karaf = lab.work.resolve("karaf");
        Path vl2 = lab.work.resolve("vl2");
        for (Map.Entry<Path, Path> e : Map.of(stock, karaf, vl2Tar, vl2).entrySet()) {
            Files.createDirectories(e.getValue());
            Lab.run(Duration.ofSeconds(120), "tar", "-xzf", e.getKey().toString(), "-C", e.getValue().toString(),
                    "--strip-components=1").check();
        }
        Path vl2System = vl2.resolve("system");
        assertTrue("no system/ folder in the vl2 distribution", Files.isDirectory(vl2System));

        Path etc = karaf.resolve("etc");
        Path mvnCfg = etc.resolve("org.ops4j.pax.url.mvn.cfg");
        // the stock value, with vl2's system/ folder appended (as docs/operating.md shows)
        setProperty(mvnCfg, "org.ops4j.pax.url.mvn.defaultRepositories",
                "${karaf.home.uri}${karaf.default.repository}@id=system.repository@snapshots, "
                        + "${karaf.data.uri}kar@id=kar.repository@multi@snapshots, "
                        + "${karaf.base.uri}${karaf.default.repository}@id=child.system.repository@snapshots, "
                        + vl2System.toUri() + "@snapshots@id=vl2");
        setProperty(mvnCfg, "org.ops4j.pax.url.mvn.repositories", "");
        setProperty(mvnCfg, "org.ops4j.pax.url.mvn.localRepository", lab.work.resolve("m2").toString());
        sshPort = freeTcpPort();
        setProperty(etc.resolve("org.apache.karaf.shell.cfg"), "sshHost", "127.0.0.1");
        setProperty(etc.resolve("org.apache.karaf.shell.cfg"), "sshPort", String.valueOf(sshPort));
        Files.writeString(etc.resolve("users.properties"), "\nvl2e2e = " + password + ",_g_:admingroup\n"
                + "_g_\\:admingroup = group,admin,manager,viewer,systembundles,ssh\n", StandardOpenOption.APPEND);
        Path mgmt = etc.resolve("org.apache.karaf.management.cfg");
        setProperty(mgmt, "rmiRegistryHost", "127.0.0.1");
        setProperty(mgmt, "rmiServerHost", "127.0.0.1");
        setProperty(mgmt, "rmiRegistryPort", String.valueOf(freeTcpPort()));
        setProperty(mgmt, "rmiServerPort", String.valueOf(freeTcpPort()));
        return vl2System;
    }

    /** The version of the vl2 features repository in vl2's {@code system/} (the one folder there). */
    private static String vl2Version(Path vl2System) throws IOException {
        Path features = vl2System.resolve("org/vl2/vl2-features");
        try (Stream<Path> versions = Files.list(features)) {
            List<String> found = versions.map(p -> p.getFileName().toString()).collect(Collectors.toList());
            assertEquals("one vl2-features version expected in " + features, 1, found.size());
            return found.get(0);
        }
    }

    /** The default raw port if 127.0.0.1:9990 is free now, else a free UDP port on 127.0.0.1 (printed). */
    private static int rawPort() {
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress("127.0.0.1", DEFAULT_RAW_PORT))) {
            return DEFAULT_RAW_PORT;
        } catch (SocketException busy) {
            try (DatagramSocket free = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                System.err.println("[e2e] " + TITLE + ": 127.0.0.1:" + DEFAULT_RAW_PORT + " is in use here; the raw "
                        + "transport gets port " + free.getLocalPort() + " (config:property-set)");
                return free.getLocalPort();
            } catch (SocketException e) {
                throw new AssertionError("no free UDP port on 127.0.0.1", e);
            }
        }
    }

    private static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * Replaces {@code key} in a Karaf configuration file (with its continuation lines) by {@code key = value}, or
     * appends it.
     */
    private static void setProperty(Path cfg, String key, String value) throws IOException {
        List<String> out = new ArrayList<>();
        boolean continuation = false;
        for (String line : Files.readAllLines(cfg, StandardCharsets.UTF_8)) {
            String trimmed = line.trim();
            if (continuation) {
                continuation = trimmed.endsWith("\\");
                continue;
            }
            if (!trimmed.startsWith("#") && trimmed.matches(java.util.regex.Pattern.quote(key) + "\\s*[=:].*")) {
                continuation = trimmed.endsWith("\\");
                continue;
            }
            out.add(line);
        }
        out.add(key + " = " + value);
        Files.write(cfg, out, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The shell: the stock bin/client

    private List<String> clientCommand() {
        cost.clientCalls.incrementAndGet();
        return List.of(karaf.resolve("bin/client").toString(), "-h", "127.0.0.1", "-a", String.valueOf(sshPort),
                "-u", "vl2e2e", "-p", password, "-r", "1", "-b");
    }

    /** The client's known-hosts file in the run's folder: each run's Karaf has a new host key. */
    private Map<String, String> clientEnv() {
        return Map.of("JAVA_HOME", System.getProperty("java.home"), "EXTRA_JAVA_OPTS", SHORT_LIVED_JVM,
                "KARAF_OPTS", "-Duser.home=" + lab.work.resolve("client-home"));
    }

    /** One shell command through the stock bin/client (batch mode: the command on its standard input). */
    private Result client(String command) {
        last = Lab.run(Duration.ofSeconds(60), command + "\n", clientCommand(), clientEnv());
        return last;
    }

    private String karafLog() {
        Path log = karaf.resolve("data/log/karaf.log");
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    /** Whether the Karaf's ssh port accepts a connection and sends its SSH identification line. */
    private boolean sshGreets() {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), sshPort), 1000);
            socket.setSoTimeout(5000);
            byte[] greeting = socket.getInputStream().readNBytes(4);
            return new String(greeting, StandardCharsets.US_ASCII).equals("SSH-");
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean portsAnswer(Result r) {
        return r.ok() && !r.out().contains("Command not found") && !r.out().contains("Error");
    }

    /** The local addresses of UDP sockets bound to {@code port} ({@code ss -ulnH}). */
    private static List<String> listeners(int port) {
        Result ss = Lab.run(Lab.SHORT, "ss", "-ulnH");
        List<String> found = new ArrayList<>();
        for (String line : ss.out().split("\n")) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length >= 4 && cols[3].endsWith(":" + port)) {
                found.add(cols[3]);
            }
        }
        return found;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Frames

    /**
     * Two raw ports in this JVM: a broadcast from A reaches B, then a unicast from B to A's MAC reaches A. Sends are
     * repeated while waiting (the transport may only just listen; a raw port is known to the switch once it sent):
     * B announces itself with its own broadcasts, which A may also hear and skips.
     */
    private void forwardFrames(InetSocketAddress sw) throws IOException {
        try (DatagramSocket a = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             DatagramSocket b = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            a.setSoTimeout(500);
            b.setSoTimeout(500);
            byte[] hello = frame(BROADCAST, MAC_B, "B announces itself");
            byte[] bcast = frame(BROADCAST, MAC_A, "broadcast from A");
            byte[] ucast = frame(MAC_A, MAC_B, "unicast from B to A");
            assertTrue("A's broadcast did not reach B within " + FRAMES.toSeconds() + " s",
                    exchange(b, hello, a, bcast, b, sw));
            assertTrue("B's unicast to A's MAC did not reach A within " + FRAMES.toSeconds() + " s",
                    exchange(b, ucast, null, null, a, sw));
            System.err.println("[e2e] " + TITLE + ": a broadcast A -> B and a unicast B -> A forwarded");
        }
    }

    /**
     * Sends {@code first} from {@code from1} (and {@code second} from {@code from2}, if given) to the switch, then
     * waits up to 500 ms for {@code want} (the last frame sent) on {@code to}; repeats for at most {@link #FRAMES}.
     */
    private static boolean exchange(DatagramSocket from1, byte[] first, DatagramSocket from2, byte[] second,
                                     DatagramSocket to, InetSocketAddress sw) throws IOException {
        byte[] want = second != null ? second : first;
        byte[] buf = new byte[2048];
        long end = System.nanoTime() + FRAMES.toNanos();
        while (System.nanoTime() < end) {
            from1.send(new DatagramPacket(first, first.length, sw));
            if (from2 != null) {
                from2.send(new DatagramPacket(second, second.length, sw));
            }
            long roundEnd = System.nanoTime() + Duration.ofMillis(500).toNanos();
            while (System.nanoTime() < roundEnd) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    to.receive(p);
                } catch (SocketTimeoutException e) {
                    break;
                }
                assertEquals("a frame from somewhere else than the switch", sw, p.getSocketAddress());
                if (Arrays.equals(want, Arrays.copyOf(p.getData(), p.getLength()))) {
                    assertArrayEquals(want, Arrays.copyOf(p.getData(), p.getLength()));
                    return true;
                }
            }
        }
        return false;
    }

    /** An Ethernet frame (EtherType 0x88b5, local experimental) carrying {@code text}, padded to 60 bytes. */
    private static byte[] frame(byte[] dst, byte[] src, String text) {
        byte[] payload = text.getBytes(StandardCharsets.US_ASCII);
        byte[] f = new byte[Math.max(60, 14 + payload.length)];
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xb5;
        System.arraycopy(payload, 0, f, 14, payload.length);
        return f;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Stop and diagnostics

    /** bin/stop (bounded), then SIGTERM/SIGKILL to the server's process tree whatever bin/stop did. */
    private void stopKaraf() {
        if (server == null) {
            return;
        }
        Result stop = Lab.run(Duration.ofSeconds(60), null, List.of(karaf.resolve("bin/stop").toString()),
                Map.of("JAVA_HOME", System.getProperty("java.home")));
        if (!stop.ok()) {
            System.err.println("[e2e] " + TITLE + ": bin/stop: " + stop.out());
        }
        if (!Lab.await(Duration.ofSeconds(60), () -> !server.alive())) {
            System.err.println("[e2e] " + TITLE + ": Karaf did not stop within 60 s: killed");
        }
        server.stop(Duration.ofSeconds(10));
    }

    private void dumpDiagnostics() {
        if (lab == null || karaf == null) {
            return;
        }
        StringBuilder sb = new StringBuilder("[e2e] ==== " + TITLE + " diagnostics (" + lab.work + ")\n");
        if (server != null) {
            sb.append("---- karaf.out:\n").append(LabKit.tail(server.output(), 60)).append('\n');
        }
        sb.append("---- data/log/karaf.log:\n").append(LabKit.tail(karafLog(), 300)).append('\n');
        sb.append("---- ss -ulnp:\n").append(Lab.run(Lab.SHORT, "ss", "-ulnp").out());
        System.err.println(sb);
    }
}
