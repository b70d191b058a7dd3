package org.vl2.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.Dictionary;
import java.util.List;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerSuite;
import org.vl2.api.MacAddress;
import org.vl2.api.PortId;
import org.vl2.api.SwitchStatistics;

/**
 * The switch in our distribution, driven through its UDP transport by raw-mode ports (UDP sockets opened by the
 * test, one Ethernet frame per datagram): learning, flooding, split horizon, static entries, ageing, port expiry,
 * runtime policy changes, bad datagrams and bad configuration.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerSuite.class)
public class ForwardingIT extends Vl2TestSupport {

    private static void drainAll(RawPort... ports) throws Exception {
        for (RawPort p : ports) {
            p.drain();
        }
    }

    @Test
    public void knownUnicastGoesOnlyToTheLearnedPort() throws Exception {
        RawPort a = rawPort();
        RawPort b = rawPort();
        RawPort c = rawPort();
        drainAll(a, b, c);

        b.send(a.mac, "b-to-a");
        byte[] got = a.receive(WAIT);
        assertNotNull("A receives B's unicast", got);
        assertEquals("b-to-a", Frames.tag(got));
        assertEquals(b.mac, Frames.srcMac(got));

        b.send(BROADCAST, "marker-1");
        assertTrue("C must not see B's unicast to A", c.receiveUntil("marker-1", WAIT).isEmpty());
        // A's marker is sent after A got B's unicast, so anything the switch sent B for that unicast is ahead of it
        a.send(BROADCAST, "marker-1a");
        assertTrue("B must not get its own unicast back (nor anything else)", b.receiveUntil("marker-1a", WAIT)
                .isEmpty());
    }

    @Test
    public void broadcastMulticastAndUnknownUnicastAreFloodedButNeverBackToTheSender() throws Exception {
        RawPort a = rawPort();
        RawPort b = rawPort();
        RawPort c = rawPort();
        drainAll(a, b, c);

        a.send(BROADCAST, "bcast");
        a.send("33:33:00:00:00:01", "mcast");      // IPv6 all-nodes
        a.send("02:00:00:ee:ee:ee", "unknown");    // nobody has it
        for (RawPort other : new RawPort[] {b, c}) {
            assertEquals("bcast", Frames.tag(other.receive(WAIT)));
            assertEquals("mcast", Frames.tag(other.receive(WAIT)));
            assertEquals("unknown", Frames.tag(other.receive(WAIT)));
        }
        b.send(BROADCAST, "marker-2");
        assertTrue("split horizon: A gets none of its own floods", a.receiveUntil("marker-2", WAIT).isEmpty());
    }

    @Test
    public void vlanTagsAreCarriedIntactAndLearnedPerVlan() throws Exception {
        RawPort a = rawPort();
        RawPort b = rawPort();
        drainAll(a, b);
        a.sendRaw(Frames.ethernet(BROADCAST, a.mac, 42, "vlan42"));
        byte[] got = b.receive(WAIT);
        assertNotNull(got);
        assertEquals(0x81, got[12] & 0xff);
        assertEquals(42, got[15]);
        assertEquals("vlan42", Frames.tag(got));
        PortId pa = portOf(a);
        awaitCondition("A learnt in VLAN 42 on its port", () -> pa.equals(macTable.lookup(0, 42,
                MacAddress.valueOf(a.mac).toLong())));
    }

    @Test
    public void commandsShowTheTableAndThePorts() throws Exception {
        RawPort a = rawPort();
        PortId pa = portOf(a);
        String table = executeCommand("vl2:mactable --no-format");
        assertTrue(table, table.lines().anyMatch(l -> l.contains(a.mac) && l.contains("dynamic")
                && l.matches(".*\\b" + pa.number() + "\\b.*")));
        String filtered = executeCommand("vl2:mactable --mac " + a.mac);
        assertTrue(filtered, filtered.contains(a.mac));
        String ports = executeCommand("vl2:ports --no-format");
        assertTrue(ports, ports.contains("127.0.0.1:" + a.localPort()));
        assertTrue(ports, ports.contains("raw"));
        String json = executeCommand("vl2:mactable -j");
        assertTrue(json, json.trim().startsWith("[") && json.contains("\"" + a.mac + "\""));
        String stats = executeCommand("vl2:stats");
        assertTrue(stats, stats.contains("learned") || stats.contains("Learned"));
        String bad = executeFailingCommand("vl2:mactable --mac zz");
        assertTrue(bad, bad.contains("not a MAC address"));
    }

    @Test
    public void staticEntriesWinOverLearning() throws Exception {
        RawPort a = rawPort();
        RawPort b = rawPort();
        RawPort c = rawPort();
        drainAll(a, b, c);
        String server = "02:00:00:5e:00:01";
        executeCommand("vl2:mac-add " + server + " " + portOf(c).number());
        awaitCondition("static entry present", () -> macTable.entry(0, 0, MacAddress.valueOf(server))
                .map(e -> e.isStatic()).orElse(false));

        b.sendRaw(Frames.ethernet(BROADCAST, server, -1, "spoof")); // B claims the static MAC: not learned
        a.send(server, "to-static");
        assertNotNull("C (the static port) gets it", c.receiveTagged("to-static", WAIT));
        a.send(BROADCAST, "marker-3");
        List<byte[]> atB = b.receiveUntil("marker-3", WAIT);
        assertTrue("B must not get frames for the static MAC", atB.stream()
                .noneMatch(f -> "to-static".equals(Frames.tag(f))));
        assertEquals(portOf(c), macTable.lookup(0, 0, MacAddress.valueOf(server).toLong()));

        String out = executeCommand("vl2:mactable --no-format --mac " + server);
        assertTrue(out, out.contains("static"));
        executeCommand("vl2:mac-delete " + server);
        awaitCondition("static entry removed", () -> macTable.entry(0, 0, MacAddress.valueOf(server)).isEmpty());
    }

    @Test
    public void policyChangesAtRuntimeKeepTheTableAndThePorts() throws Exception {
        RawPort a = rawPort();
        RawPort b = rawPort();
        RawPort c = rawPort();
        drainAll(a, b, c);
        int entries = macTable.size();
        int ports = switchService.ports().size();
        try {
            String out = executeCommand("vl2:policy hub");
            assertTrue(out, out.contains("hub"));
            assertEquals("hub", switchService.policy());
            b.send(a.mac, "hub-unicast");
            assertEquals("hub-unicast", Frames.tag(a.receive(WAIT)));
            assertEquals("hub floods known unicast", "hub-unicast", Frames.tag(c.receive(WAIT)));
            assertEquals(entries, macTable.size());
            assertEquals(ports, switchService.ports().size());
            awaitCondition("policy saved in the configuration",
                    () -> "hub".equals(configProperty("org.vl2.switching", "policy")));
        } finally {
            executeCommand("vl2:policy learning");
            // saved before the next test reads the configuration (it would write "hub" back with its own change)
            awaitCondition("policy learning saved in the configuration",
                    () -> "learning".equals(configProperty("org.vl2.switching", "policy")));
        }
        assertEquals("learning", switchService.policy());
        b.send(a.mac, "learning-unicast");
        assertEquals("learning-unicast", Frames.tag(a.receive(WAIT)));
        b.send(BROADCAST, "marker-4");
        assertTrue(c.receiveUntil("marker-4", WAIT).isEmpty());
        assertEquals(entries, macTable.size());
        String bad = executeFailingCommand("vl2:policy nonsense");
        assertTrue(bad, bad.contains("hub") && bad.contains("learning"));
        assertEquals("learning", switchService.policy());
    }

    @Test
    public void restartingTheUdpTransportKeepsThePortsAndTheTable() throws Exception {
        RawPort a = rawPort();
        RawPort b = rawPort();
        drainAll(a, b);
        PortId pa = portOf(a);
        PortId pb = portOf(b);
        org.osgi.framework.Bundle udp = bundle("org.vl2.vl2-transport-udp");
        assertNotNull(udp);
        long t0 = System.nanoTime();
        udp.stop(); // what bundle:restart does (the shell's ACL needs an admin subject the probe does not have)
        udp.start();
        awaitCondition("unicast B -> A through the restarted transport", Duration.ofSeconds(10), () -> {
            b.send(a.mac, "after-restart");
            return a.receiveTagged("after-restart", 200) != null;
        });
        long millis = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("UDP transport bundle:restart: traffic resumed after " + millis + " ms");
        assertEquals("A keeps its port", pa, portOf(a));
        assertEquals("B keeps its port", pb, portOf(b));
        assertEquals(pa, macTable.lookup(0, 0, MacAddress.valueOf(a.mac).toLong()));
        assertTrue(switchService.ports().stream().allMatch(p -> p.mode().equals("raw")));
    }

    @Test
    public void badDatagramsAreCountedDropsAndForwardingGoesOn() throws Exception {
        RawPort a = rawPort();
        RawPort b = rawPort();
        drainAll(a, b);
        SwitchStatistics before = switchService.statistics();
        a.sendRaw(new byte[13]);                                            // runt
        a.sendRaw(Frames.sized(b.mac, a.mac, 1523, "oversize"));            // > 1518 + VLAN tag
        a.sendRaw(Frames.ethernet(b.mac, "01:00:5e:00:00:01", -1, "mcast-src"));
        a.sendRaw(Frames.sized(b.mac, a.mac, 1522, "max-size"));            // exactly the limit: forwarded
        byte[] got = b.receive(WAIT);
        assertNotNull(got);
        assertEquals("max-size", Frames.tag(got));
        assertEquals(1522, got.length);
        awaitCondition("drops counted", () -> {
            SwitchStatistics now = switchService.statistics();
            return now.dropRunt() == before.dropRunt() + 1 && now.dropOversize() == before.dropOversize() + 1
                    && now.dropSourceMulticast() == before.dropSourceMulticast() + 1;
        });
        assertNull(macTable.lookup(0, 0, MacAddress.valueOf("01:00:5e:00:00:01").toLong()));
    }

    @Test
    public void entriesAgeOutWithAShortConfiguredAge() throws Exception {
        RawPort a = rawPort();
        RawPort b = rawPort();
        Dictionary<String, Object> found = configSnapshot("org.vl2.mactable");
        long ageing = macTable.statistics().ageingSeconds();
        long agedBefore = macTable.statistics().aged(); // the container is shared: earlier tests may have aged some
        try {
            setConfig("org.vl2.mactable", "ageing.seconds", 1L);
            // A lookup stops finding a stale entry at once; the sweep that removes (and counts) it comes a moment
            // later, so the count is awaited with the entries rather than read once.
            awaitCondition("entries of A and B aged out and counted", Duration.ofSeconds(15), () ->
                    macTable.entry(0, 0, MacAddress.valueOf(a.mac)).isEmpty()
                            && macTable.entry(0, 0, MacAddress.valueOf(b.mac)).isEmpty()
                            && macTable.statistics().aged() >= agedBefore + 2);
            drainAll(a, b);
            b.send(a.mac, "after-ageing"); // A unknown again: flooded, still reaches A
            assertEquals("after-ageing", Frames.tag(a.receive(WAIT)));
        } finally {
            restoreConfig("org.vl2.mactable", found, "MAC table reconfigured");
        }
        assertEquals("ageing back to what it was", ageing, macTable.statistics().ageingSeconds());
    }

    @Test
    public void idlePortsAreRemovedWithTheirMacEntries() throws Exception {
        RawPort a = rawPort();
        PortId pa = portOf(a);
        Dictionary<String, Object> found = configSnapshot("org.vl2.switching");
        try {
            setConfig("org.vl2.switching", "port.idle.timeout.seconds", 1L);
            awaitCondition("port " + pa + " expired", Duration.ofSeconds(15),
                    () -> switchService.port(pa).isEmpty());
            assertTrue(macTable.entry(0, 0, MacAddress.valueOf(a.mac)).isEmpty());
        } finally {
            // applied before the port comes back: else it could expire again after 1 s (or a later test's ports)
            restoreConfig("org.vl2.switching", found, "vl2 switch reconfigured");
        }
        // the endpoint comes back: a new port
        String remote = "127.0.0.1:" + a.localPort();
        a.send(BROADCAST, "back");
        awaitCondition("port re-created", () -> switchService.ports().stream()
                .anyMatch(p -> p.remote().equals(remote)));
    }

    @Test
    public void badConfigurationKeepsTheLastGoodOne() throws Exception {
        RawPort a = rawPort();
        RawPort b = rawPort();
        drainAll(a, b);
        long ageing = macTable.statistics().ageingSeconds();
        Dictionary<String, Object> switching = configSnapshot("org.vl2.switching");
        Dictionary<String, Object> mactable = configSnapshot("org.vl2.mactable");
        Dictionary<String, Object> udp = configSnapshot(UDP_TRANSPORT_PID);
        try {
            // Each bad update is awaited in the log (ConfigAdmin delivers asynchronously): only then is it known
            // that the component saw it, and the checks below mean "refused", not "not delivered yet".
            setConfig("org.vl2.switching", "policy", "no-such-policy");
            awaitLog("policy=no-such-policy is not a registered forwarding policy");
            setConfig("org.vl2.switching", "max.frame.size", 5);
            awaitLog("Invalid configuration org.vl2.switching: max.frame.size=5");
            setConfig("org.vl2.mactable", "ageing.seconds", -1L);
            awaitLog("ageing.seconds=-1");
            setConfig("org.vl2.transport.udp", "port", 70000);
            awaitLog("Invalid configuration org.vl2.transport.udp: port=70000");

            a.sendRaw(Frames.sized(b.mac, a.mac, 1500, "still-forwarding")); // the old frame size holds
            assertEquals("still-forwarding", Frames.tag(b.receive(WAIT)));
            assertEquals("learning", switchService.policy());
            assertEquals(ageing, macTable.statistics().ageingSeconds());
            a.send(b.mac, "still-on-its-port"); // the transport kept its socket
            assertEquals("still-on-its-port", Frames.tag(b.receive(WAIT)));
        } finally {
            // put back what the test found, applied before the next test runs; the UDP transport's own
            // configuration is the one it still runs with (70000 was refused): nothing changes, nothing is logged
            restoreConfig("org.vl2.switching", switching, "vl2 switch reconfigured");
            restoreConfig("org.vl2.mactable", mactable, "MAC table reconfigured");
            configurationAdmin.getConfiguration(UDP_TRANSPORT_PID, "?").update(udp);
        }
    }

}
