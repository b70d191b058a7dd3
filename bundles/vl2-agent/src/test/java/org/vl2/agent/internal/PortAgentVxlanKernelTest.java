package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.vl2.agent.internal.AgentTestBase.WAIT;
import static org.vl2.agent.internal.AgentTestBase.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.Locale;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.AgentState;
import org.vl2.api.AgentStatus;
import org.vl2.api.MacAddress;
import org.vl2.tap.internal.LinuxTapFactory;

/**
 * vxlan mode against the reference VTEP, as root: a {@link PortAgent} with a real TAP device in this namespace,
 * and as its "switch" a Linux vxlan device in a network namespace of the test's own, reached over a veth pair.
 * Pings cross both ways, a full-size one included. Everything is on 10.213.x.0/24 subnets nothing else on the
 * host routes, the names are unique ({@code vl2a...}), and the namespace and devices are removed after the test
 * even if it fails. Skipped without root, /dev/net/tun or the kernel's vxlan support.
 */
class PortAgentVxlanKernelTest {

    private static final int VNI = 4242;

    private final Kernel kernel = new Kernel();
    private PortAgent agent;

    @BeforeEach
    void setUp() {
        Kernel.assumeRootAndTun();
    }

    @AfterEach
    void tearDown() {
        if (agent != null && agent.status().state() != AgentState.STOPPED) {
            agent.deactivate();
        }
        kernel.cleanup();
    }

    @Test
    void pingsALinuxVxlanDeviceAcrossTheAgent() throws Exception {
        int u = Kernel.freeSubnet();
        int o;
        do {
            o = Kernel.freeSubnet();
        } while (o == u);
        String underlay = "10.213." + u + ".";
        String overlay = "10.213." + o + ".";
        MacAddress tapMac = MacAddress.valueOf(String.format(Locale.ROOT, "02:76:6c:33:%02x:01", o));
        MacAddress vtepMac = MacAddress.valueOf(String.format(Locale.ROOT, "02:76:6c:33:%02x:02", o));
        String tapName = kernel.uniqueName();
        String veth = kernel.uniqueName();
        String vethPeer = kernel.uniqueName();
        String ns = kernel.namespace();

        // underlay: veth between this namespace (.1) and the test's (.2)
        ok("ip", "link", "add", veth, "type", "veth", "peer", "name", vethPeer, "netns", ns);
        ok("ip", "addr", "add", underlay + "1/24", "dev", veth);
        ok("ip", "link", "set", veth, "up");
        ok("ip", "-n", ns, "addr", "add", underlay + "2/24", "dev", vethPeer);
        ok("ip", "-n", ns, "link", "set", vethPeer, "up");
        ok("ip", "-n", ns, "link", "set", "lo", "up");

        // the "switch": a kernel VTEP whose remote is the agent, on a port free on the agent's side
        int port = freePort(underlay + "1");
        Kernel.Result vx = Kernel.exec("ip", "-n", ns, "link", "add", "vx0", "type", "vxlan", "id", "" + VNI,
                "remote", underlay + "1", "local", underlay + "2", "dstport", "" + port, "dev", vethPeer);
        assumeTrue(vx.exitCode() == 0, "skipped: this kernel cannot create a vxlan device: " + vx.output());
        ok("ip", "-n", ns, "link", "set", "vx0", "address", vtepMac.toString());
        ok("ip", "-n", ns, "addr", "add", overlay + "2/24", "dev", "vx0");
        ok("ip", "-n", ns, "link", "set", "vx0", "up");

        agent = new PortAgent(new LinuxTapFactory(), new TestConfig().vxlan(VNI).switchAddress(underlay + "2:" + port)
                .tapName(tapName).mac(tapMac.toString()).address(overlay + "1/24"));

        AgentStatus s = agent.status();
        assertEquals(AgentState.RUNNING, s.state());
        assertEquals(VNI, s.vni());
        assertEquals(underlay + "1:" + port, s.localAddress());
        String link = Kernel.exec("ip", "-o", "link", "show", "dev", tapName).output();
        assertTrue(link.contains(" mtu 1450 "), "the vxlan device's MTU: " + link);

        // this namespace -> the VTEP's namespace, through the TAP device and the agent (the first ping may wait
        // for ARP)
        assertTrue(await(10_000, () -> Kernel.exec("ping", "-c", "1", "-W", "1", overlay + "2").exitCode() == 0),
                "no ping reply from " + overlay + "2: " + agent.status());
        // and back
        Kernel.Result back = Kernel.exec("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "2", overlay + "1");
        assertEquals(0, back.exitCode(), back.output());
        // a full-size packet, not fragmented: 1450 - 20 IPv4 - 8 ICMP
        Kernel.Result full = Kernel.exec("ping", "-c", "1", "-W", "2", "-M", "do", "-s", "1422", overlay + "2");
        assertEquals(0, full.exitCode(), full.output());

        // the VTEP learned the agent's MAC behind the agent's address, as behind any VTEP
        String fdb = Kernel.exec("bridge", "-n", ns, "fdb", "show", "dev", "vx0").output();
        assertTrue(fdb.contains(tapMac + " dst " + underlay + "1 "), fdb);

        s = agent.status();
        assertTrue(s.tapRxFrames() >= 3 && s.tapTxFrames() >= 3, s.toString());

        agent.deactivate();
        assertTrue(await(WAIT, () -> !Kernel.exists(tapName)), "TAP device " + tapName + " still exists after stop");
        assertFalse(agent.diagnostics.threadsAlive());
    }

    private static void ok(String... cmd) {
        Kernel.Result r = Kernel.exec(cmd);
        assertEquals(0, r.exitCode(), String.join(" ", cmd) + ": " + r.output());
    }

    /** A UDP port that is free on {@code address} now. */
    private static int freePort(String address) throws IOException {
        try (DatagramChannel probe = DatagramChannel.open()) {
            probe.bind(new InetSocketAddress(address, 0));
            return ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
    }
}
