package org.vl2.itests;

import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.keepRuntimeFolder;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import javax.inject.Inject;

import org.apache.karaf.features.BootFinished;
import org.apache.karaf.features.Feature;
import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.After;
import org.junit.Before;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.ProbeBuilder;
import org.ops4j.pax.exam.TestProbeBuilder;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;
import org.ops4j.pax.exam.options.extra.VMOption;
import org.ops4j.pax.exam.util.Filter;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;
import org.vl2.api.MacEntry;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.MacTableService;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchAdminService;
import org.vl2.api.SwitchService;

/**
 * Base class of the vl2 Pax Exam integration tests: boots <em>our</em> distribution (karaf-assembly, with
 * {@code vl2-switch} as a boot feature) and offers the helpers the tests need.
 *
 * <h2>How a test class looks</h2>
 * <pre>{@code
 * @RunWith(PaxExam.class)
 * @ExamReactorStrategy(PerSuite.class)       // one container for every Pax Exam class of the run
 * public class ForwardingIT extends Vl2TestSupport {
 *
 *     @Test
 *     public void ...() throws Exception {
 *         RawPort a = rawPort();                // a raw port, announced and learnt; closed after the test
 *         ... a.send(...), a.receiveTagged(...) ...
 *         awaitCondition("port learnt", () -> switchService.ports().size() == 1);
 *         String out = executeCommand("vl2:ports --no-format");
 *     }
 * }
 * }</pre>
 *
 * <h2>One container for the suite</h2>
 * A boot costs 11-15 s on 2 cores, so every class runs {@code PerSuite}: the container boots once, when the first
 * class starts, and stops after the last one. Pax Exam uses the {@link #config()} of whichever class runs first,
 * so the configuration is the same for all classes (no per-class options: what one class needs, such as the
 * VXLAN transport's settings or plaintext joins, is set here for all). Test order does not matter because each
 * test starts from the same state and puts back what it changes:
 * <ul>
 * <li>before each test, {@link #startFromAnEmptySwitch()} removes every port and static MAC entry (after a barrier
 * frame, so that nothing an earlier test sent is still queued), and marks the log for {@link #awaitLog};</li>
 * <li>a test that changes a configuration restores what it found ({@link #configSnapshot},
 * {@link #restoreConfig}) and waits until the component has applied it; one that creates networks deletes them
 * and waits until they are gone; one that installs a feature or registers a service removes it.</li>
 * </ul>
 *
 * <h2>Two JVMs</h2>
 * {@link #config()} runs in the test JVM (failsafe) before the container starts;
 * the {@code @Test} methods run inside the container, on another instance of the class loaded by another class
 * loader: fields, even static ones, are NOT shared. Hand values computed in the test JVM (a free port) over
 * through a configuration ({@link #pidConfig}) and read them back in the container ({@link #configProperty}).
 *
 * <h2>System properties (set by itests/pom.xml)</h2>
 * <ul>
 * <li>{@code vl2.assembly}: the distribution's tar.gz (karaf-assembly/target/... in a reactor build);</li>
 * <li>{@code karaf.version}: for the {@code lib/endorsed} jar names of the JDK 17 VM options;</li>
 * <li>{@code vl2.itest.localRepository}: the Maven local repository the container resolves {@code mvn:} URLs
 * from (Pax Exam's own {@code exam} feature); no remote repository is used;</li>
 * <li>{@code vl2.itest.keepRuntimeFolder=true}: keep {@code target/exam/<uuid>/} (read its
 * {@code data/log/karaf.log} when a container does not come up);</li>
 * <li>{@code vl2.itest.logLevel}: root log level of the container's karaf.log (default INFO).</li>
 * </ul>
 */
public abstract class Vl2TestSupport {

    /** Default timeout of the await/command helpers. */
    protected static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    /**
     * Configuration PID of the UDP transport. The base binds it to 127.0.0.1 on a free port (not the default 9990,
     * which a Karaf running on this machine may hold); {@link #udpTransportPort()} tells the tests which.
     */
    protected static final String UDP_TRANSPORT_PID = "org.vl2.transport.udp";
    protected static final String VL2_TRANSPORT_PID = "org.vl2.transport.vl2";

    /** The VXLAN transport (feature vl2-transport-vxlan, installed by HotSwapIT only): see {@link #baseOptions}. */
    protected static final String VXLAN_PID = "org.vl2.transport.vxlan";
    /** The remote VTEP of the VXLAN transport's configuration: HotSwapIT's own socket on this address. */
    protected static final String VTEP_IP = "127.0.0.2";
    /** VNI of the VXLAN transport's configuration, mapped to the default network 0. */
    protected static final int VNI = 1;
    protected static final int VXLAN_SOURCE_PORTS = 4;

    protected static final String BROADCAST = "ff:ff:ff:ff:ff:ff";
    /** How long a test waits for a frame it expects. */
    protected static final long WAIT = 5_000;

    /** Poll interval of {@link #awaitCondition}. */
    private static final long POLL_MILLIS = 100;

    /** Host numbers of the raw ports' MACs (02:00:00:00:xx:xx), one counter for every class in the container. */
    private static final AtomicInteger HOSTS = new AtomicInteger(0x10);

    @Inject
    protected BundleContext bundleContext;

    @Inject
    protected FeaturesService featuresService;

    @Inject
    protected SessionFactory sessionFactory;

    @Inject
    protected ConfigurationAdmin configurationAdmin;

    /** Injected only once the boot features are installed: no test starts before that. */
    @Inject
    protected BootFinished bootFinished;

    @Inject
    @Filter(timeout = 30_000)
    protected SwitchService switchService;

    @Inject
    @Filter(timeout = 30_000)
    protected SwitchAdminService switchAdmin;

    @Inject
    @Filter(timeout = 30_000)
    protected MacTableService macTable;

    @Inject
    @Filter(timeout = 30_000)
    protected MacTableAdminService macTableAdmin;

    /** The raw ports this test opened ({@link #rawPort()}), closed after it. */
    private final List<RawPort> rawPorts = new ArrayList<>();

    /** Length of karaf.log when the test started: {@link #awaitLog} looks only at what was logged after it. */
    private long logMark;

    // ---------------------------------------------------------------------------------------------------------
    // Container configuration (test JVM)
    // ---------------------------------------------------------------------------------------------------------

    /** The probe (test classes) imports whatever the container exports: vl2 API, Karaf, OSGi. */
    @ProbeBuilder
    public TestProbeBuilder probeConfiguration(TestProbeBuilder probe) {
        probe.setHeader(Constants.DYNAMICIMPORT_PACKAGE, "*");
        return probe;
    }

    /**
     * Pax Exam entry point. Final: with {@code PerSuite} the first class's configuration is the one the container
     * boots with, so a class cannot have options of its own (see the class comment).
     */
    @Configuration
    public final Option[] config() {
        return baseOptions().toArray(new Option[0]);
    }

    /**
     * Sets {@code key = value} in {@code etc/<pid>.cfg} before the container starts: ConfigAdmin (fileinstall)
     * hands it to the component with that configuration PID when it activates. Unset keys keep their metatype
     * annotation defaults.
     */
    protected static Option pidConfig(String pid, String key, Object value) {
        return editConfigurationFilePut("etc/" + pid + ".cfg", key, String.valueOf(value));
    }

    /** Everything needed to boot the vl2 distribution under Pax Exam on Java 17, offline, on free ports. */
    private static List<Option> baseOptions() {
        String karafVersion = System.getProperty("karaf.version", "4.4.10");
        String localRepository = System.getProperty("vl2.itest.localRepository",
                System.getProperty("user.home") + "/.m2/repository");
        List<Option> options = new ArrayList<>();

        options.add(karafDistributionConfiguration()
                .frameworkUrl(assembly().toURI().toString())
                .karafVersion(karafVersion)
                .name("vl2")
                .unpackDirectory(new File("target/exam"))
                .useDeployFolder(false));
        options.add(configureConsole().ignoreLocalConsole());
        options.add(logLevel(LogLevel.valueOf(System.getProperty("vl2.itest.logLevel", "INFO").trim().toUpperCase())));
        if (Boolean.getBoolean("vl2.itest.keepRuntimeFolder")) {
            options.add(keepRuntimeFolder());
        }

        // Own ports, so that containers (and a Karaf running on this machine) do not collide. Pax Exam sets the two
        // RMI ports itself too; ours come later and win (hence its "current value will be replaced" WARN, twice).
        options.add(editConfigurationFilePut("etc/org.apache.karaf.shell.cfg", "sshPort", String.valueOf(freeTcpPort())));
        options.add(editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiRegistryPort",
                String.valueOf(freeTcpPort())));
        options.add(editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiServerPort",
                String.valueOf(freeTcpPort())));

        // The switch's UDP transport: loopback only, own port.
        options.add(pidConfig(UDP_TRANSPORT_PID, "bind.address", "127.0.0.1"));
        options.add(pidConfig(UDP_TRANSPORT_PID, "port", freeUdpPort()));
        options.add(pidConfig(VL2_TRANSPORT_PID, "bind.address", "127.0.0.1"));
        options.add(pidConfig(VL2_TRANSPORT_PID, "port", freeUdpPort()));
        // The tests drive the switch through raw sockets and plaintext joins (MembersIT the encrypted protocol): the
        // operator's choice that mixes them, spelled out. Raw ports land in network 0 (not the built-in 'raw'), and
        // network 0 is opened to plaintext; every other network stays sealed unless a test says plaintext=true.
        options.add(pidConfig(UDP_TRANSPORT_PID, "network", "0"));
        options.add(editConfigurationFilePut("etc/org.vl2.network-default.cfg", "id", "0"));
        options.add(editConfigurationFilePut("etc/org.vl2.network-default.cfg", "plaintext", "true"));
        // The VXLAN transport, for HotSwapIT's feature:install (not a boot feature: inert until then): 127.0.0.1 on
        // a free port and source port range, VNI 1 = the default network 0, one static remote VTEP at 127.0.0.2 on
        // the same port (HotSwapIT's own socket, bound there like a kernel VTEP on another host).
        int vxlanPort = freeVxlanPort();
        int range = freeUdpRange(VXLAN_SOURCE_PORTS, vxlanPort);
        options.add(pidConfig(VXLAN_PID, "bind.address", "127.0.0.1"));
        options.add(pidConfig(VXLAN_PID, "port", vxlanPort));
        options.add(pidConfig(VXLAN_PID, "source.port.range", range + "-" + (range + VXLAN_SOURCE_PORTS - 1)));
        options.add(pidConfig(VXLAN_PID, "vni", VNI + "=0"));
        options.add(pidConfig(VXLAN_PID, "remotes", VNI + "=" + VTEP_IP));

        // The HTTP API (RestApiIT installs the feature vl2-api-rest): Pax Web on loopback on a free port, and two users
        // of the JAAS realm (the distribution ships none): one with the admin group, one that may only read.
        options.add(pidConfig("org.ops4j.pax.web", "org.ops4j.pax.web.listening.addresses", "127.0.0.1"));
        options.add(pidConfig("org.ops4j.pax.web", "org.osgi.service.http.port", freeTcpPort()));
        options.add(editConfigurationFilePut("etc/users.properties", RestApiIT.ADMIN, RestApiIT.PASSWORD
                + ",_g_:admingroup"));
        options.add(editConfigurationFilePut("etc/users.properties", RestApiIT.VIEWER, RestApiIT.PASSWORD + ",viewer"));

        // Offline: mvn: URLs come from system/ (the distribution) and the local repository, never from a remote one.
        options.add(editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg",
                "org.ops4j.pax.url.mvn.localRepository", localRepository));
        options.add(editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg", "org.ops4j.pax.url.mvn.repositories", ""));
        options.add(editConfigurationFilePut("etc/org.apache.karaf.features.cfg", "updateSnapshots", "none"));

        // What bin/karaf adds on Java 9+ (as Karaf's own KarafTestSupport does); without them the container
        // does not start and Pax Exam reports "Container never came up" after minutes.
        for (String opt : new String[] {
                "--add-reads=java.xml=java.logging",
                "--add-exports=java.base/org.apache.karaf.specs.locator=java.xml,ALL-UNNAMED",
                "--patch-module", "java.base=lib/endorsed/org.apache.karaf.specs.locator-" + karafVersion + ".jar",
                "--patch-module", "java.xml=lib/endorsed/org.apache.karaf.specs.java.xml-" + karafVersion + ".jar",
                "--add-opens", "java.base/java.security=ALL-UNNAMED",
                // bin/setenv's: AES-256-GCM on the JDK's intrinsics (vl2-crypto's IntrinsicGcm)
                "--add-opens", "java.base/com.sun.crypto.provider=ALL-UNNAMED",
                "--add-opens", "java.base/java.net=ALL-UNNAMED",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED",
                "--add-opens", "java.base/java.util=ALL-UNNAMED",
                "--add-opens", "java.naming/javax.naming.spi=ALL-UNNAMED",
                "--add-opens", "java.rmi/sun.rmi.transport.tcp=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.protocol.file=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.protocol.ftp=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.protocol.http=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.protocol.https=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.protocol.jar=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.content.text=ALL-UNNAMED",
                "--add-exports=jdk.xml.dom/org.w3c.dom.html=ALL-UNNAMED",
                "--add-exports=jdk.naming.rmi/com.sun.jndi.url.rmi=ALL-UNNAMED",
                "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
                "--add-exports=java.security.sasl/com.sun.security.sasl=ALL-UNNAMED",
                "--add-exports=java.naming/com.sun.jndi.ldap=ALL-UNNAMED",
                "-classpath", "lib/jdk9plus/*" + File.pathSeparator + "lib/boot/*" }) {
            options.add(new VMOption(opt));
        }
        // The client compiler only: the container lives for about a minute, and C2's compilations of its boot and
        // feature resolution cost as much CPU again as the rest of the boot (docs/testing.md "Wall time"); what the
        // switch does is the same under either compiler
        options.add(new VMOption("-XX:TieredStopAtLevel=1"));
        return options;
    }

    /** The distribution's tar.gz: {@code -Dvl2.assembly}, else the reactor's karaf-assembly/target. */
    protected static File assembly() {
        String path = System.getProperty("vl2.assembly");
        File file;
        if (path != null && !path.isBlank() && !path.startsWith("${")) {
            file = new File(path);
        } else {
            File target = new File("../karaf-assembly/target");
            File[] found = target.listFiles((dir, name) -> name.startsWith("vl2-karaf-") && name.endsWith(".tar.gz"));
            file = found != null && found.length == 1 ? found[0] : new File(target, "vl2-karaf.tar.gz");
        }
        if (!file.isFile()) {
            throw new IllegalStateException("vl2 distribution not found: " + file.getAbsolutePath()
                    + " (build karaf-assembly first, or set -Dvl2.assembly)");
        }
        return file.getAbsoluteFile();
    }

    /** A TCP port free on this host right now. */
    protected static int freeTcpPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A UDP port free on 127.0.0.1 (for the VXLAN transport) and on {@link #VTEP_IP} (for the test's VTEP). */
    private static int freeVxlanPort() {
        for (int attempt = 0; attempt < 50; attempt++) {
            int port = freeUdpPort();
            try (DatagramSocket vtep = new DatagramSocket(new InetSocketAddress(VTEP_IP, port))) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IllegalStateException("no UDP port free on both 127.0.0.1 and " + VTEP_IP);
    }

    /** The first of {@code n} consecutive UDP ports free on 127.0.0.1, none of them {@code except}. */
    private static int freeUdpRange(int n, int except) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 30_000);
            if (except >= base && except < base + n) {
                continue;
            }
            List<DatagramSocket> held = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    held.add(new DatagramSocket(new InetSocketAddress("127.0.0.1", base + i)));
                }
                return base;
            } catch (IOException taken) {
                // try another base
            } finally {
                held.forEach(DatagramSocket::close);
            }
        }
        throw new UncheckedIOException(new IOException("no " + n + " consecutive free UDP ports on 127.0.0.1"));
    }

    /** A UDP port free on the loopback interface right now (for a transport or a test peer). */
    protected static int freeUdpPort() {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Every test starts from an empty switch (container)
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Removes every port and every static MAC entry, whatever ran before (another test, another class): the
     * switch as it boots. First a barrier: a frame through the raw transport, handled after every datagram queued
     * before it (one socket, handled in order), so that nothing an earlier test sent can re-create a port
     * afterwards. Also marks the log for {@link #awaitLog}.
     */
    @Before
    public void startFromAnEmptySwitch() throws Exception {
        logMark = logLength();
        String mac = nextMac();
        try (RawPort barrier = new RawPort(mac, udpTransportPort())) {
            barrier.send(BROADCAST, "barrier");
            awaitCondition("barrier frame from " + mac + " learnt", () -> macTable.entries().stream()
                    .anyMatch(e -> e.mac().toString().equals(mac)));
        }
        awaitCondition("a switch without ports and MAC entries", () -> {
            for (PortInfo p : switchService.ports()) {
                switchAdmin.removePort(p.id());
            }
            for (MacEntry e : macTable.entries()) {
                if (e.isStatic()) {
                    macTableAdmin.remove(e.network(), e.vlan(), e.mac());
                }
            }
            return switchService.ports().isEmpty() && macTable.size() == 0;
        });
    }

    @After
    public void closeRawPorts() throws IOException {
        for (RawPort p : rawPorts) {
            p.close();
        }
        rawPorts.clear();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers for the tests (container)
    // ---------------------------------------------------------------------------------------------------------

    /** A fresh locally administered MAC, 02:00:00:00:xx:xx. */
    protected static String nextMac() {
        int n = HOSTS.getAndIncrement();
        return String.format("02:00:00:00:%02x:%02x", n >> 8 & 0xff, n & 0xff);
    }

    /**
     * A new raw port on the UDP transport with a fresh MAC, announced with a broadcast and learnt. The broadcast
     * is flooded to the raw ports opened before it: it is taken off their queues here, so that no flood is still
     * on its way to a port when the test starts sending. Closed after the test.
     */
    protected RawPort rawPort() throws Exception {
        String mac = nextMac();
        RawPort p = new RawPort(mac, udpTransportPort());
        String hello = "hello from " + mac;
        p.send(BROADCAST, hello);
        awaitCondition("MAC " + mac + " learned", () -> macTable.entries().stream()
                .anyMatch(e -> e.mac().toString().equals(mac)));
        for (RawPort other : rawPorts) {
            if (other.receiveTagged(hello, WAIT) == null) {
                throw new AssertionError(other.mac + " did not get the broadcast of the new port " + mac);
            }
        }
        rawPorts.add(p);
        return p;
    }

    /** The switch port of a raw port (by its address). */
    protected PortId portOf(RawPort p) throws Exception {
        String remote = "127.0.0.1:" + p.localPort();
        return switchService.ports().stream().filter(i -> i.remote().equals(remote)).map(PortInfo::id).findFirst()
                .orElseThrow(() -> new AssertionError("no switch port for " + remote));
    }

    /** A condition for {@link #awaitCondition}; may throw (counts as "not yet"). */
    @FunctionalInterface
    protected interface Condition {
        boolean holds() throws Exception;
    }

    /** {@link #awaitCondition(String, Duration, Condition)} with {@link #DEFAULT_TIMEOUT}. */
    protected static void awaitCondition(String description, Condition condition) {
        awaitCondition(description, DEFAULT_TIMEOUT, condition);
    }

    /**
     * Polls {@code condition} every 100 ms until it holds; fails with {@code description} (and the last exception the
     * condition threw, if any) after {@code timeout}. Use it for everything asynchronous (DS activation, command
     * registration, frames in flight) instead of sleeping.
     */
    protected static void awaitCondition(String description, Duration timeout, Condition condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (true) {
            try {
                if (condition.holds()) {
                    return;
                }
                last = null;
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() - deadline >= 0) {
                AssertionError error = new AssertionError("Timed out after " + timeout.toMillis() + " ms waiting for: "
                        + description);
                if (last != null) {
                    error.initCause(last);
                }
                throw error;
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("Interrupted waiting for: " + description, e);
            }
        }
    }

    /** The service of {@code type} (matching the LDAP {@code filter}, may be null), waiting up to {@code timeout}. */
    protected <T> T awaitService(Class<T> type, String filter, Duration timeout) {
        String flt = "(" + Constants.OBJECTCLASS + "=" + type.getName() + ")";
        if (filter != null && !filter.isBlank()) {
            flt = "(&" + flt + (filter.startsWith("(") ? filter : "(" + filter + ")") + ")";
        }
        ServiceTracker<T, T> tracker;
        try {
            tracker = new ServiceTracker<>(bundleContext, bundleContext.createFilter(flt), null);
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException("Invalid filter " + flt, e);
        }
        tracker.open(true);
        try {
            T service = tracker.waitForService(timeout.toMillis());
            if (service == null) {
                throw new AssertionError("No service " + flt + " after " + timeout.toMillis() + " ms");
            }
            return service;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted waiting for " + flt, e);
        } finally {
            // the service object stays usable; a test that needs to follow re-registrations calls this again
            tracker.close();
        }
    }

    /** {@link #executeCommand(String, Duration)} with {@link #DEFAULT_TIMEOUT}. */
    protected String executeCommand(String command) {
        return executeCommand(command, DEFAULT_TIMEOUT);
    }

    /**
     * Runs a Karaf shell command line (e.g. {@code "vl2:ports --no-format"}) in a new session of the injected
     * {@link SessionFactory} and returns what it printed (stdout and stderr, ASCII tables without a terminal).
     * Waits first until the command (its first word) is registered, since commands appear asynchronously. A command
     * that throws (including "Command not found") fails with the exception and the output so far.
     */
    protected String executeCommand(String command, Duration timeout) {
        awaitCommand(command.trim().split("\\s+")[0], timeout);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vl2-itest-command");
            t.setDaemon(true);
            return t;
        });
        Session session = sessionFactory.create(new ByteArrayInputStream(new byte[0]), out, out);
        try {
            Callable<String> call = () -> {
                Object result = session.execute(command);
                if (result != null) {
                    out.println(result);
                }
                out.flush();
                return bytes.toString(StandardCharsets.UTF_8);
            };
            Future<String> future = executor.submit(call);
            try {
                return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                future.cancel(true);
                throw new AssertionError("Command '" + command + "' did not finish within " + timeout.toMillis()
                        + " ms; output so far:\n" + bytes.toString(StandardCharsets.UTF_8));
            } catch (ExecutionException e) {
                throw new AssertionError("Command '" + command + "' failed: " + e.getCause() + "\noutput:\n"
                        + bytes.toString(StandardCharsets.UTF_8), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("Interrupted running '" + command + "'", e);
            }
        } finally {
            session.close();
            executor.shutdownNow();
        }
    }

    /**
     * Runs a command that must fail (bad input, refused action) and returns the message the user sees; fails if
     * the command succeeds.
     */
    protected String executeFailingCommand(String command) {
        String output;
        try {
            output = executeCommand(command);
        } catch (AssertionError e) {
            Throwable cause = e.getCause();
            return cause != null && cause.getMessage() != null ? cause.getMessage() : e.getMessage();
        }
        throw new AssertionError("Command '" + command + "' should have failed; it printed:\n" + output);
    }

    /**
     * Changes one property of a configuration at runtime (ConfigAdmin delivers it to the component
     * asynchronously: await its effect, or {@link #awaitLog} what the component logged).
     */
    protected void setConfig(String pid, String key, Object value) throws IOException {
        org.osgi.service.cm.Configuration c = configurationAdmin.getConfiguration(pid, "?");
        Dictionary<String, Object> props = c.getProperties();
        if (props == null) {
            props = new java.util.Hashtable<>();
        }
        props.put(key, value);
        c.update(props);
    }

    /**
     * Waits until the container's {@code data/log/karaf.log} contains {@code text} in what was logged since the
     * test started (not what an earlier test made it log).
     */
    protected void awaitLog(String text) {
        awaitLogSince(logMark, text);
    }

    /** Waits until {@code text} is in what karaf.log got after its first {@code mark} bytes ({@link #logLength}). */
    protected static void awaitLogSince(long mark, String text) {
        awaitCondition("'" + text + "' in " + karafLog() + " (after byte " + mark + ")", () -> {
            byte[] all = Files.isRegularFile(karafLog()) ? Files.readAllBytes(karafLog()) : new byte[0];
            int from = (int) Math.min(mark, all.length);
            return new String(all, from, all.length - from, StandardCharsets.UTF_8).contains(text);
        });
    }

    /** The current length of karaf.log, a mark for {@link #awaitLogSince}. */
    protected static long logLength() throws IOException {
        return Files.isRegularFile(karafLog()) ? Files.size(karafLog()) : 0;
    }

    private static Path karafLog() {
        return Path.of(System.getProperty("karaf.data"), "log", "karaf.log");
    }

    /** A copy of the properties of configuration {@code pid} now, for {@link #restoreConfig}. */
    protected Dictionary<String, Object> configSnapshot(String pid) throws IOException {
        Dictionary<String, Object> props = configurationAdmin.getConfiguration(pid, "?").getProperties();
        Hashtable<String, Object> copy = new Hashtable<>();
        if (props != null) {
            for (Enumeration<String> keys = props.keys(); keys.hasMoreElements(); ) {
                String key = keys.nextElement();
                copy.put(key, props.get(key));
            }
        }
        return copy;
    }

    /**
     * Puts back the properties a test found ({@link #configSnapshot}) and waits until the component logged
     * {@code applied} (e.g. "vl2 switch reconfigured"), so that the next test does not run with the test's values
     * still in force. An update, never a delete: deleting a configuration would restart the component.
     */
    protected void restoreConfig(String pid, Dictionary<String, Object> snapshot, String applied) throws IOException {
        long mark = logLength();
        configurationAdmin.getConfiguration(pid, "?").update(snapshot);
        awaitLogSince(mark, applied);
    }

    /** Waits until {@code scope:name} (or a bare {@code name}) is a registered shell command. */
    protected void awaitCommand(String command, Duration timeout) {
        int colon = command.indexOf(':');
        String scope = colon > 0 ? command.substring(0, colon) : "*";
        String name = colon > 0 ? command.substring(colon + 1) : command;
        awaitCondition("shell command " + command, timeout,
                () -> sessionFactory.getRegistry().getCommand(scope, name) != null);
    }

    /** The installed bundle with this symbolic name, or null. */
    protected Bundle bundle(String symbolicName) {
        for (Bundle b : bundleContext.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }

    /** Whether the feature (any version) is installed. */
    protected boolean isFeatureInstalled(String name) throws Exception {
        for (Feature f : featuresService.listInstalledFeatures()) {
            if (name.equals(f.getName())) {
                return true;
            }
        }
        return false;
    }

    /** The UDP port the switch's transport was configured with (container side). */
    protected int udpTransportPort() throws Exception {
        Object port = configProperty(UDP_TRANSPORT_PID, "port");
        if (port == null) {
            throw new AssertionError("no port in configuration " + UDP_TRANSPORT_PID);
        }
        return Integer.parseInt(port.toString().trim());
    }

    /** The UDP port of the switch's vl2-protocol transport (container side). */
    protected int vl2TransportPort() throws Exception {
        Object port = configProperty(VL2_TRANSPORT_PID, "port");
        if (port == null) {
            throw new AssertionError("no port in configuration " + VL2_TRANSPORT_PID);
        }
        return Integer.parseInt(port.toString().trim());
    }

    /** A property of the configuration {@code pid} as ConfigAdmin holds it in the container, or null. */
    protected Object configProperty(String pid, String key) throws IOException, InvalidSyntaxException {
        org.osgi.service.cm.Configuration[] found =
                configurationAdmin.listConfigurations("(" + Constants.SERVICE_PID + "=" + pid + ")");
        if (found == null || found.length == 0) {
            return null;
        }
        Dictionary<String, Object> properties = found[0].getProperties();
        return properties == null ? null : properties.get(key);
    }
}
