package org.vl2.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerSuite;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;

/**
 * Hot swap with frames flowing, at the OSGi level: the VXLAN transport feature installed and uninstalled at runtime
 * next to the UDP transport (whose raw ports exchange frames all along), a second transport of the name {@code udp}
 * with a higher service ranking taking the udp ports over and handing them back, and a policy change keeping the
 * MAC table. The traffic-level proof (ping gaps, iperf3 across restarts) is {@code org.vl2.e2e.HotSwapE2EIT}.
 *
 * <p>The VXLAN transport is configured (before the container starts, {@link Vl2TestSupport}) on 127.0.0.1 with a
 * free port and source port range, VNI 1 mapped to the default network 0 (where raw ports live) and one static
 * remote VTEP, 127.0.0.2 on the same port: the test's own VTEP socket, bound there like a kernel VTEP on another
 * host.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerSuite.class)
public class HotSwapIT extends Vl2TestSupport {

    // In the suite's one container (PerSuite): what these tests change is global, so each test puts it back and
    // cleanUp() checks it did. The feature is uninstalled and the bundles are then those found before the test;
    // the transports it registers are unregistered; the policy is set back to learning and saved. The VXLAN port
    // that stays detached after the uninstall is removed with every other port before the next test.

    private static final String VXLAN_FEATURE = "vl2-transport-vxlan";
    private static final String VXLAN_BUNDLE = "org.vl2.vl2-transport-vxlan";

    private final List<AutoCloseable> opened = new ArrayList<>();
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    private Set<String> bundlesFound;

    // ---------------------------------------------------------------------------------------------------------
    // Helpers (container)

    @Before
    public void noteTheBundles() {
        bundlesFound = bundles();
    }

    /** Every installed bundle: symbolic name, version, state. */
    private Set<String> bundles() {
        return Arrays.stream(bundleContext.getBundles())
                .map(b -> b.getSymbolicName() + " " + b.getVersion() + " " + b.getState())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @After
    public void cleanUp() throws Exception {
        for (ServiceRegistration<?> r : registrations) {
            try {
                r.unregister();
            } catch (IllegalStateException alreadyUnregistered) {
                // the test did it
            }
        }
        registrations.clear();
        for (AutoCloseable c : opened) {
            c.close();
        }
        opened.clear();
        if (isFeatureInstalled(VXLAN_FEATURE)) {
            featuresService.uninstallFeature(VXLAN_FEATURE);
        }
        awaitCondition("the bundles are those found before the test", () -> bundles().equals(bundlesFound));
    }

    private static void drainAll(RawPort... ports) throws Exception {
        for (RawPort p : ports) {
            p.drain();
        }
    }

    /** (network, VLAN, MAC) -> port, static flag: the whole table without the ages. */
    private Map<String, String> tableSnapshot() {
        Map<String, String> t = new TreeMap<>();
        for (MacEntry e : macTable.entries()) {
            t.put(e.network() + "/" + e.vlan() + "/" + e.mac(), e.port() + (e.isStatic() ? " static" : ""));
        }
        return t;
    }

    /** Frames from {@code from} to {@code to}, each awaited before the next, while {@code swap} runs. */
    private static final class Probe {
        int sent;
        int lost;
        long worstMillis;
        final List<String> lostTags = new ArrayList<>();

        @Override
        public String toString() {
            return sent + " frames, " + lost + " lost" + (lostTags.isEmpty() ? "" : " " + lostTags)
                    + ", slowest " + worstMillis + " ms";
        }
    }

    /**
     * Runs {@code swap} on another thread and, until it is done (and for 10 more frames), sends unicast frames B -> A
     * one after the other, each awaited at A for up to 2 s, 10 ms apart.
     */
    private Probe unicastDuring(String what, RawPort from, RawPort to, java.util.concurrent.Callable<?> swap)
            throws Exception {
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vl2-itest-swap");
            t.setDaemon(true);
            return t;
        });
        Probe probe = new Probe();
        try {
            Future<?> done = executor.submit(swap);
            int after = 10;
            while (!done.isDone() || after-- > 0) {
                String tag = what + "-" + probe.sent++;
                long t0 = System.nanoTime();
                from.send(to.mac, tag);
                if (to.receiveTagged(tag, 2_000) == null) {
                    probe.lost++;
                    probe.lostTags.add(tag);
                }
                probe.worstMillis = Math.max(probe.worstMillis, (System.nanoTime() - t0) / 1_000_000);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // pacing, not waiting for anything
            }
            done.get(1, TimeUnit.MINUTES);
        } finally {
            executor.shutdownNow();
        }
        System.out.println("[HotSwapIT] " + what + ": " + probe);
        return probe;
    }

    private static void assertForwards(String what, RawPort from, RawPort to) throws IOException {
        String tag = what + "-" + System.nanoTime();
        from.send(to.mac, tag);
        byte[] got = to.receiveTagged(tag, WAIT);
        assertNotNull(what + ": " + from.mac + " -> " + to.mac, got);
        assertEquals(from.mac, Frames.srcMac(got));
    }

    private List<PortInfo> portsOf(String transport) {
        return switchService.ports().stream().filter(p -> p.transport().equals(transport))
                .collect(Collectors.toList());
    }

    // ---------------------------------------------------------------------------------------------------------
    // (a) The VXLAN transport feature, installed and uninstalled at runtime

    @Test
    public void vxlanFeatureInstallsAndUninstallsAtRuntimeWhileUdpPortsForward() throws Exception {
        assertFalse("vl2-transport-vxlan is not a boot feature", isFeatureInstalled(VXLAN_FEATURE));
        assertNull("no VXLAN bundle before the install", bundle(VXLAN_BUNDLE));
        RawPort a = rawPort();
        RawPort b = rawPort();
        drainAll(a, b);
        PortId pa = portOf(a);
        PortId pb = portOf(b);
        Map<String, String> table = tableSnapshot();
        int vxlanPort = Integer.parseInt(String.valueOf(configProperty(VXLAN_PID, "port")).trim());
        String[] range = String.valueOf(configProperty(VXLAN_PID, "source.port.range")).trim().split("-");
        int rangeMin = Integer.parseInt(range[0]);
        int rangeMax = Integer.parseInt(range[1]);

        // install with frames flowing B -> A: every one of them arrives
        Probe install = unicastDuring("feature:install " + VXLAN_FEATURE, b, a, () -> {
            featuresService.installFeature(VXLAN_FEATURE);
            return null;
        });
        assertEquals("frames lost while " + VXLAN_FEATURE + " was installed: " + install, 0, install.lost);
        assertTrue(isFeatureInstalled(VXLAN_FEATURE));
        Bundle vxlanBundle = bundle(VXLAN_BUNDLE);
        assertNotNull(vxlanBundle);
        awaitCondition("VXLAN bundle active", () -> vxlanBundle.getState() == Bundle.ACTIVE);
        awaitService(Transport.class, "(" + Transport.PROPERTY + "=vxlan)", DEFAULT_TIMEOUT);
        String remote = VTEP_IP + ":" + vxlanPort;
        awaitCondition("the static remote VTEP " + remote + " is a port of the default network", () ->
                portsOf("vxlan").stream().anyMatch(p -> p.remote().equals(remote) && p.network() == 0
                        && p.mode().equals("vxlan")));
        assertEquals("A keeps its port", pa, portOf(a));
        assertEquals("B keeps its port", pb, portOf(b));
        assertEquals("the udp ports' MAC entries are unchanged", table, tableSnapshot());
        assertForwards("udp-after-install", b, a);

        try (Vtep vtep = new Vtep(new InetSocketAddress(VTEP_IP, vxlanPort),
                new InetSocketAddress("127.0.0.1", vxlanPort))) {
            String vmac = "02:00:00:00:0e:01";
            // a static remote gets the floods of its network before it has sent anything
            a.send(BROADCAST, "flood-to-vtep");
            Vtep.Datagram flood = vtep.receiveTagged("flood-to-vtep", WAIT);
            assertNotNull("A's broadcast reaches the static remote VTEP, VXLAN-encapsulated", flood);
            assertEquals("VNI of the default network", VNI, flood.vni());

            // VTEP -> A: decapsulated, switched in network 0, out on the udp transport
            vtep.send(VNI, Frames.ethernet(a.mac, vmac, -1, "vtep-to-a"));
            byte[] atA = a.receiveTagged("vtep-to-a", WAIT);
            assertNotNull("the VXLAN frame (VNI " + VNI + ") reaches raw port A", atA);
            assertEquals(vmac, Frames.srcMac(atA));
            awaitCondition("VTEP MAC learned on the VXLAN port", () -> macTable.entries().stream()
                    .anyMatch(e -> e.mac().toString().equals(vmac) && e.network() == 0
                            && portsOf("vxlan").stream().anyMatch(p -> p.id().equals(e.port()))));

            // A -> VTEP: known unicast, encapsulated with VNI 1, I flag, sent from the source port range
            a.send(vmac, "a-to-vtep");
            Vtep.Datagram answer = vtep.receiveTagged("a-to-vtep", WAIT);
            assertNotNull("A's answer comes back VXLAN-encapsulated", answer);
            assertEquals("flags: only I", 0x08, answer.bytes()[0] & 0xff);
            assertEquals("VNI", VNI, answer.vni());
            assertEquals(a.mac, Frames.srcMac(answer.frame()));
            int sourcePort = ((InetSocketAddress) answer.source()).getPort();
            assertTrue("outer source port " + sourcePort + " in source.port.range " + rangeMin + "-" + rangeMax,
                    sourcePort >= rangeMin && sourcePort <= rangeMax);

            // an unmapped VNI reaches nobody (a counted drop in the transport)
            vtep.send(7, Frames.ethernet(a.mac, vmac, -1, "unmapped-vni"));
            vtep.send(VNI, Frames.ethernet(a.mac, vmac, -1, "marker-vni"));
            assertTrue("a frame of unmapped VNI 7 is dropped", a.receiveUntil("marker-vni", WAIT).stream()
                    .noneMatch(f -> "unmapped-vni".equals(Frames.tag(f))));
        }

        // uninstall with frames flowing: none lost, the udp ports stay, the VXLAN port waits detached
        Probe uninstall = unicastDuring("feature:uninstall " + VXLAN_FEATURE, b, a, () -> {
            featuresService.uninstallFeature(VXLAN_FEATURE);
            return null;
        });
        assertEquals("frames lost while " + VXLAN_FEATURE + " was uninstalled: " + uninstall, 0, uninstall.lost);
        assertFalse(isFeatureInstalled(VXLAN_FEATURE));
        awaitCondition("VXLAN bundle uninstalled", () -> bundle(VXLAN_BUNDLE) == null);
        awaitCondition("the VXLAN port is detached", () -> portsOf("vxlan").stream()
                .allMatch(p -> p.mode().equals("detached")));
        assertEquals("A keeps its port", pa, portOf(a));
        assertEquals("B keeps its port", pb, portOf(b));
        assertEquals(pa, macTable.lookup(0, 0, MacAddress.valueOf(a.mac).toLong()));
        assertEquals(pb, macTable.lookup(0, 0, MacAddress.valueOf(b.mac).toLong()));
        assertForwards("udp-after-uninstall-1", b, a);
        assertForwards("udp-after-uninstall-2", a, b);
    }

    // ---------------------------------------------------------------------------------------------------------
    // (b) Transports of one name: the highest service.ranking serves, ties by registration order

    @Test
    public void higherRankedTransportOfTheSameNameTakesOverAndHandsBack() throws Exception {
        RawPort a = rawPort();
        RawPort b = rawPort();
        drainAll(a, b);
        PortId pa = portOf(a);
        PortId pb = portOf(b);
        Map<String, String> table = tableSnapshot();
        InetSocketAddress aRemote = new InetSocketAddress("127.0.0.1", a.localPort());
        InetSocketAddress bRemote = new InetSocketAddress("127.0.0.1", b.localPort());

        // a tie (ranking 0, like the real one) registered later does not take over
        RecordingTransport tie = new RecordingTransport("udp");
        ServiceRegistration<Transport> tieRegistration = register(tie, 0);
        assertForwards("udp-with-a-tie", b, a);
        assertNull("a transport of equal ranking registered later is not started", tie.receiver);
        assertTrue("nothing goes out through it", tie.sent.isEmpty());

        // ranking 100: takes the udp ports over
        RecordingTransport better = new RecordingTransport("udp");
        long t0 = System.nanoTime();
        ServiceRegistration<Transport> betterRegistration = register(better, 100);
        awaitCondition("the ranking-100 transport is started by the switch", () -> better.receiver != null);
        System.out.println("[HotSwapIT] ranking-100 transport started " + (System.nanoTime() - t0) / 1_000_000
                + " ms after its registration");
        assertNull("the tie is still not started", tie.receiver);
        assertEquals("A keeps its port", pa, portOf(a));
        assertEquals("B keeps its port", pb, portOf(b));
        assertTrue(switchService.ports().stream().filter(p -> p.transport().equals("udp"))
                .allMatch(p -> p.mode().equals("raw")));

        // a frame from B arriving through the new transport goes to A through it, not through the real socket
        better.receiver.receive(better, bRemote, ByteBuffer.wrap(Frames.ethernet(a.mac, b.mac, -1, "via-ranking-100")));
        awaitCondition("the frame for A went out through the ranking-100 transport", () -> better.sent.stream()
                .anyMatch(s -> s.remote().equals(aRemote) && "via-ranking-100".equals(Frames.tag(s.frame()))));
        assertNull("A's real socket got nothing", a.receiveTagged("via-ranking-100", 500));
        assertEquals("the table is unchanged", table, tableSnapshot());

        // unregistered: the real transport serves the ports again
        betterRegistration.unregister();
        awaitCondition("the ranking-100 transport is stopped", () -> better.receiver == null);
        awaitCondition("B -> A through the real udp transport again", Duration.ofSeconds(10), () -> {
            String tag = "after-hand-back-" + System.nanoTime();
            b.send(a.mac, tag);
            return a.receiveTagged(tag, 200) != null;
        });
        assertForwards("udp-after-hand-back", a, b);
        assertEquals("A keeps its port", pa, portOf(a));
        assertEquals("B keeps its port", pb, portOf(b));
        assertNull("the tie was never started", tie.receiver);
        tieRegistration.unregister();
        assertForwards("udp-after-tie-gone", b, a);
    }

    private ServiceRegistration<Transport> register(Transport t, int ranking) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(Transport.PROPERTY, t.name());
        props.put(Constants.SERVICE_RANKING, ranking);
        // like the real udp transport of this suite (network = 0): a transport feeding another network would take
        // the slot's raw ports out of network 0
        props.put(Transport.NETWORK, "0");
        ServiceRegistration<Transport> r = bundleContext.registerService(Transport.class, t, props);
        registrations.add(r);
        return r;
    }

    /** A transport that records what the switch sends through it; frames come in through {@link #receiver}. */
    static final class RecordingTransport implements Transport {
        record Sent(SocketAddress remote, byte[] frame) {
        }

        private final String name;
        volatile FrameReceiver receiver;
        final List<Sent> sent = new CopyOnWriteArrayList<>();

        RecordingTransport(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String mode() {
            return "raw";
        }

        @Override
        public String localAddress() {
            return "test:" + name;
        }

        @Override
        public void start(FrameReceiver r) {
            receiver = r;
        }

        @Override
        public void stop() {
            receiver = null;
        }

        @Override
        public boolean send(SocketAddress remote, ByteBuffer frame) {
            byte[] copy = new byte[frame.remaining()];
            frame.duplicate().get(copy);
            sent.add(new Sent(remote, copy));
            return true;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // (c) Policy swap keeps the MAC table

    @Test
    public void policyHubThenLearningKeepsTheMacTable() throws Exception {
        RawPort a = rawPort();
        RawPort b = rawPort();
        RawPort c = rawPort();
        drainAll(a, b, c);
        Map<String, String> before = tableSnapshot();
        List<PortInfo> portsBefore = switchService.ports();
        try {
            String out = executeCommand("vl2:policy hub");
            assertTrue(out, out.contains("hub"));
            assertEquals("hub", switchService.policy());
            awaitCondition("policy hub saved in the configuration",
                    () -> "hub".equals(configProperty("org.vl2.switching", "policy")));
            b.send(a.mac, "hub-unicast");
            assertNotNull(a.receiveTagged("hub-unicast", WAIT));
            assertNotNull("hub floods known unicast", c.receiveTagged("hub-unicast", WAIT));
            assertEquals("hub keeps the table", before, tableSnapshot());
        } finally {
            executeCommand("vl2:policy learning");
        }
        awaitCondition("policy learning active and saved", () -> "learning".equals(switchService.policy())
                && "learning".equals(configProperty("org.vl2.switching", "policy")));
        b.send(a.mac, "learning-unicast");
        assertNotNull(a.receiveTagged("learning-unicast", WAIT));
        b.send(BROADCAST, "marker-policy");
        assertTrue("learning again: C gets no unicast for A", c.receiveUntil("marker-policy", WAIT).stream()
                .noneMatch(f -> "learning-unicast".equals(Frames.tag(f))));
        assertEquals("MAC table entries before == after", before, tableSnapshot());
        assertEquals("ports before == after", ids(portsBefore), ids(switchService.ports()));
    }

    private static Set<String> ids(List<PortInfo> ports) {
        return ports.stream().map(p -> p.id() + " " + p.transport() + " " + p.remote())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    // ---------------------------------------------------------------------------------------------------------

    /** A VXLAN tunnel endpoint as a kernel vxlan device is one: a UDP socket on its own address and the VXLAN port. */
    static final class Vtep extends UdpPeer {

        record Datagram(SocketAddress source, byte[] bytes) {
            int vni() {
                return (bytes[4] & 0xff) << 16 | (bytes[5] & 0xff) << 8 | bytes[6] & 0xff;
            }

            byte[] frame() {
                return Arrays.copyOfRange(bytes, 8, bytes.length);
            }
        }

        private final InetSocketAddress peer;

        Vtep(InetSocketAddress local, InetSocketAddress peer) throws IOException {
            super(local);
            this.peer = peer;
        }

        void send(int vni, byte[] frame) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(8 + frame.length);
            b.put((byte) 0x08).put(new byte[3]).put((byte) (vni >> 16)).put((byte) (vni >> 8)).put((byte) vni)
                    .put((byte) 0).put(frame).flip();
            channel.send(b, peer);
        }

        /** The first datagram whose inner frame is tagged {@code tag} within {@code millis}, or null. */
        Datagram receiveTagged(String tag, long millis) throws IOException {
            long deadline = System.currentTimeMillis() + millis;
            while (true) {
                byte[] bytes = receiveDatagram(Math.max(0, deadline - System.currentTimeMillis()));
                if (bytes == null) {
                    return null;
                }
                Datagram d = new Datagram(lastSource(), bytes);
                if (bytes.length >= 22 && tag.equals(Frames.tag(d.frame()))) {
                    return d;
                }
            }
        }
    }
}
