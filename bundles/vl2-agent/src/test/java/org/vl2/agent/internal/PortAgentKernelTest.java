package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.agent.internal.AgentTestBase.WAIT;
import static org.vl2.agent.internal.AgentTestBase.await;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.Endpoints;
import org.vl2.api.AgentState;
import org.vl2.api.AgentStatus;
import org.vl2.api.MacAddress;
import org.vl2.protocol.Wire;
import org.vl2.tap.Cidr;
import org.vl2.tap.internal.LinuxTapFactory;

/**
 * End to end in one JVM, as root: a {@link PortAgent} with a real TAP device (vl2-tap's JNA implementation)
 * against a "switch" that is a plain UDP socket on 127.0.0.1 (raw mode) or a {@link TestSwitch} speaking vl2
 * (plaintext or encrypted). Frames only ever go to 10.213.x.0/24, a subnet
 * that exists only on the test's own TAP device, and over loopback: nothing leaves the machine. The device
 * gets a unique {@code vl2a...} name and is deleted after the test even if it fails. Skipped (with the
 * reason) without root or /dev/net/tun.
 */
class PortAgentKernelTest {

    private static final int ETH_ARP = 0x0806;
    private static final int ETH_IPV4 = 0x0800;

    private final Kernel kernel = new Kernel();
    private PortAgent agent;
    private TestSwitch sw;
    /** Every datagram the test switch received from the agent. */
    private int received;

    @BeforeEach
    void setUp() {
        Kernel.assumeRootAndTun();
    }

    @AfterEach
    void tearDown() throws IOException {
        if (agent != null && agent.status().state() != AgentState.STOPPED) {
            agent.deactivate();
        }
        if (sw != null) {
            sw.close();
        }
        kernel.cleanup();
    }

    @Test
    void connectsTheKernelToTheSwitchAndRemovesTheDeviceOnStop() throws Exception {
        RawLab lab = rawLab();
        String name = lab.name();
        String net = lab.net();
        MacAddress tapMac = lab.tapMac();
        MacAddress peerMac = lab.peerMac();
        InetAddress tapIp = lab.tapIp();
        InetAddress peerIp = lab.peerIp();

        AgentStatus s = agent.status();
        assertEquals(AgentState.RUNNING, s.state());
        assertEquals(name, s.tapName());
        assertEquals(tapMac, s.tapMac());
        assertEquals(AgentConfig.DEFAULT_MTU, s.mtu());
        String link = Kernel.exec("ip", "-o", "link", "show", "dev", name).output();
        assertTrue(link.contains(" mtu 1454 ") && link.contains("link/ether " + tapMac + " "), link);
        assertTrue(Kernel.exec("ip", "-o", "-4", "addr", "show", "dev", name).output().contains(" " + net + "1/24 "));

        // (a) the kernel's own traffic reaches the switch: a datagram to the subnet makes the kernel ask (ARP)
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(tapIp, 0))) {
            byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
            probe.send(new DatagramPacket(hello, hello.length, new InetSocketAddress(peerIp, 9)));
        }
        TestSwitch.Datagram arp = receive(WAIT, f -> etherType(f) == ETH_ARP && u16(f, 20) == 1
                && Arrays.equals(Arrays.copyOfRange(f, 38, 42), peerIp.getAddress()));
        assertNotNull(arp, "no ARP request for " + peerIp.getHostAddress() + " reached the switch");
        byte[] request = arp.data();
        assertEquals(42, request.length, "one raw Ethernet frame per datagram, no header, no padding");
        assertEquals(MacAddress.BROADCAST, mac(request, 0));
        assertEquals(tapMac, mac(request, 6));
        assertEquals(tapIp, InetAddress.getByAddress(Arrays.copyOfRange(request, 28, 32)));
        InetSocketAddress agentEnd = arp.source();
        assertEquals(agent.status().localAddress(), Endpoints.format(agentEnd));

        // (b) frames from the switch reach the kernel: answer the ARP request...
        byte[] reply = arpReply(peerMac, peerIp, tapMac, tapIp);
        sw.send(reply, agentEnd);
        assertTrue(await(WAIT, () -> Kernel.exec("ip", "neigh", "show", peerIp.getHostAddress(), "dev", name).output()
                .contains("lladdr " + peerMac)), Kernel.exec("ip", "neigh", "show", "dev", name).output());
        // ...which releases the datagram the kernel held back for it
        TestSwitch.Datagram udp = receive(WAIT, f -> etherType(f) == ETH_IPV4 && (f[14 + 9] & 0xFF) == 17
                && u16(f, 14 + 20 + 2) == 9);
        assertNotNull(udp, "the queued UDP datagram did not come out after the ARP reply");
        assertEquals(peerMac, mac(udp.data(), 0));

        // ...and a ping built by hand is answered through the agent
        byte[] echo = icmpEchoRequest(peerMac, peerIp, tapMac, tapIp, 0x7632, 1);
        sw.send(echo, agentEnd);
        TestSwitch.Datagram pong = receive(WAIT, f -> etherType(f) == ETH_IPV4 && (f[14 + 9] & 0xFF) == 1
                && (f[34] & 0xFF) == 0 && u16(f, 38) == 0x7632 && u16(f, 40) == 1);
        assertNotNull(pong, "no ICMP echo reply came back through the agent");
        assertEquals(peerMac, mac(pong.data(), 0));
        assertEquals(tapMac, mac(pong.data(), 6));
        assertEquals(echo.length, pong.data().length);

        // the kernel may answer before the agent's write returns and counts it
        assertTrue(await(WAIT, () -> agent.status().tapTxFrames() == 2), agent.status().toString());
        s = agent.status();
        assertEquals(AgentState.RUNNING, s.state());
        assertEquals(2, s.tapTxFrames());
        assertEquals(reply.length + echo.length, s.tapTxBytes());
        assertNotNull(s.lastFromSwitch());

        // (c) stop: the device is gone, the threads have ended
        agent.deactivate();
        assertTrue(await(WAIT, () -> !Kernel.exists(name)), "TAP device " + name + " still exists after stop");
        assertFalse(agent.diagnostics.threadsAlive());
        s = agent.status();
        assertEquals(AgentState.STOPPED, s.state());
        assertNull(s.localAddress());

        // counters match what the switch saw (the kernel may have sent more of its own, e.g. IPv6 ND)
        while (receive(300, f -> true) != null) {
            // drain: count the rest
        }
        assertEquals(received, s.tapRxFrames(), "frames the switch received vs frames the agent sent");
        assertEquals(0, s.drops());
    }

    /**
     * vl2 mode: the device is created with the provisional MTU, then re-created (same name, same MAC) with the
     * MTU and address of the WELCOME; the kernel's frames reach the switch behind the FRAME header and frames
     * from the switch reach the kernel; stop says LEAVE and deletes the device.
     */
    @Test
    void vl2ModeReCreatesTheDeviceWithTheWelcomesAddress(@TempDir Path data) throws Exception {
        String name = kernel.uniqueName();
        int x = Kernel.freeSubnet();
        String net = "10.213." + x + ".";
        MacAddress tapMac = MacAddress.valueOf(String.format(Locale.ROOT, "02:76:6c:32:%02x:01", x));
        MacAddress peerMac = MacAddress.valueOf(String.format(Locale.ROOT, "02:76:6c:32:%02x:02", x));
        InetAddress tapIp = InetAddress.getByName(net + "1");
        InetAddress peerIp = InetAddress.getByName(net + "2");
        sw = TestSwitch.vl2OnLoopback();
        sw.ipv4 = Cidr.parse(net + "1/24");
        sw.mtu = 1400;

        agent = new PortAgent(new LinuxTapFactory(), new TestConfig().plaintext().switchAddress(sw.address())
                .tapName(name).mac(tapMac.toString()).identityFile(data.resolve("agent-identity").toString()));

        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.RUNNING && agent.status().mtu() == 1400),
                agent.status().toString());
        String link = Kernel.exec("ip", "-o", "link", "show", "dev", name).output();
        assertTrue(link.contains(" mtu 1400 ") && link.contains("link/ether " + tapMac + " "), link);
        assertTrue(Kernel.exec("ip", "-o", "-4", "addr", "show", "dev", name).output().contains(" " + net + "1/24 "));
        assertEquals(List.of(net + "1/24"), agent.status().addresses());
        TestSwitch.Session port = sw.sessions.values().iterator().next();

        // the kernel's ARP request for the peer arrives as a FRAME of this port's session
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(tapIp, 0))) {
            byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
            probe.send(new DatagramPacket(hello, hello.length, new InetSocketAddress(peerIp, 9)));
        }
        TestSwitch.Frame arp = null;
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(WAIT);
        while (arp == null && System.nanoTime() < deadline) {
            TestSwitch.Frame f = sw.frames.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (f != null && etherType(f.frame()) == ETH_ARP
                    && Arrays.equals(Arrays.copyOfRange(f.frame(), 38, 42), peerIp.getAddress())) {
                arp = f;
            }
        }
        assertNotNull(arp, "no ARP request for " + peerIp.getHostAddress() + " reached the switch");
        assertEquals(port.port(), arp.port());
        assertEquals(port.token(), arp.token());
        assertEquals(tapMac, mac(arp.frame(), 6));

        // the answer, behind the header, reaches the kernel
        sw.sendFrame(port, arpReply(peerMac, peerIp, tapMac, tapIp));
        assertTrue(await(WAIT, () -> Kernel.exec("ip", "neigh", "show", peerIp.getHostAddress(), "dev", name).output()
                .contains("lladdr " + peerMac)), Kernel.exec("ip", "neigh", "show", "dev", name).output());

        agent.deactivate();
        assertNotNull(sw.leaves.poll(WAIT, java.util.concurrent.TimeUnit.MILLISECONDS), "no LEAVE");
        assertTrue(await(WAIT, () -> !Kernel.exists(name)), "TAP device " + name + " still exists after stop");
        assertFalse(agent.diagnostics.threadsAlive());
    }

    /**
     * Encrypted vl2 mode with the real device: the kernel's ARP request reaches the switch sealed (read from the
     * device into the direct buffer behind the header and sealed there), the sealed answer is opened onto the
     * device, and stop says a sealed LEAVE.
     */
    @Test
    void encryptedVl2ModeSealsWhatTheKernelSendsAndOpensWhatItReceives(@TempDir Path data) throws Exception {
        String name = kernel.uniqueName();
        int x = Kernel.freeSubnet();
        String net = "10.213." + x + ".";
        MacAddress tapMac = MacAddress.valueOf(String.format(Locale.ROOT, "02:76:6c:32:%02x:01", x));
        MacAddress peerMac = MacAddress.valueOf(String.format(Locale.ROOT, "02:76:6c:32:%02x:02", x));
        InetAddress tapIp = InetAddress.getByName(net + "1");
        InetAddress peerIp = InetAddress.getByName(net + "2");
        sw = TestSwitch.encryptedOnLoopback();
        sw.ipv4 = Cidr.parse(net + "1/24");

        agent = new PortAgent(new LinuxTapFactory(), new TestConfig().switchAddress(sw.address())
                .switchKey(sw.publicKey()).tapName(name).mac(tapMac.toString())
                .identityFile(data.resolve("agent-identity").toString()));

        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.RUNNING && agent.status().mtu() == 1400),
                agent.status().toString());
        assertTrue(agent.status().encrypted());
        String link = Kernel.exec("ip", "-o", "link", "show", "dev", name).output();
        assertTrue(link.contains(" mtu 1400 ") && link.contains("link/ether " + tapMac + " "), link);
        assertTrue(Kernel.exec("ip", "-o", "-4", "addr", "show", "dev", name).output().contains(" " + net + "1/24 "));
        assertTrue(await(WAIT, () -> !sw.securePorts.isEmpty()
                && sw.securePorts.values().iterator().next().confirmed() != null), "no sealed message opened");
        TestSwitch.SecurePort port = sw.securePorts.values().iterator().next();

        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(tapIp, 0))) {
            byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
            probe.send(new DatagramPacket(hello, hello.length, new InetSocketAddress(peerIp, 9)));
        }
        TestSwitch.Frame arp = null;
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(WAIT);
        while (arp == null && System.nanoTime() < deadline) {
            TestSwitch.Frame f = sw.frames.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (f != null && etherType(f.frame()) == ETH_ARP
                    && Arrays.equals(Arrays.copyOfRange(f.frame(), 38, 42), peerIp.getAddress())) {
                arp = f;
            }
        }
        assertNotNull(arp, "no ARP request for " + peerIp.getHostAddress() + " reached the switch (opened)");
        assertEquals(port.port, arp.port());
        assertEquals(tapMac, mac(arp.frame(), 6));
        assertTrue(sw.datagrams.stream().noneMatch(d -> d.type() == Wire.FRAME && !d.sealed()), "a plaintext FRAME");

        sw.sendSealedFrame(port, arpReply(peerMac, peerIp, tapMac, tapIp));
        assertTrue(await(WAIT, () -> Kernel.exec("ip", "neigh", "show", peerIp.getHostAddress(), "dev", name).output()
                .contains("lladdr " + peerMac)), Kernel.exec("ip", "neigh", "show", "dev", name).output());

        agent.deactivate();
        assertNotNull(sw.leaves.poll(WAIT, java.util.concurrent.TimeUnit.MILLISECONDS), "no sealed LEAVE");
        assertTrue(await(WAIT, () -> !Kernel.exists(name)), "TAP device " + name + " still exists after stop");
        assertFalse(agent.diagnostics.threadsAlive());
    }

    @Test
    void aDeviceDeletedUnderTheAgentIsReportedAsFailed() throws Exception {
        String name = kernel.uniqueName();
        sw = TestSwitch.onLoopback();
        agent = new PortAgent(new LinuxTapFactory(), new TestConfig().raw().switchAddress(sw.address()).tapName(name));
        assertEquals(AgentState.RUNNING, agent.status().state());

        Kernel.exec("ip", "link", "del", name);

        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.FAILED), agent.status().toString());
        String problem = agent.status().problem();
        assertTrue(problem.startsWith("Reading from TAP device " + name + " failed: "), problem);
        assertTrue(await(WAIT, () -> !agent.diagnostics.threadsAlive()), "threads still running");
        agent.deactivate();
        assertEquals(AgentState.STOPPED, agent.status().state());
    }

    /**
     * A gateway whose data path fails (its TAP device deleted) undoes its host changes at once, as a stop does: a
     * FAILED agent may stay up for long, and its forwarding (and masquerade) must not outlive its data path.
     */
    @Test
    void aFailedGatewayUndoesItsHostChanges(@TempDir Path dir) throws Exception {
        String name = kernel.uniqueName();
        sw = TestSwitch.onLoopback();
        TestConfig config = new TestConfig().raw().switchAddress(sw.address()).tapName(name);
        config.gateway = true;
        Path journal = dir.resolve("routes.journal");
        agent = new PortAgent(new LinuxTapFactory(), new AgentInstances(), "", false, config, InetAddress::getByName,
                Timing.DEFAULT, null, journal);
        assertEquals(AgentState.RUNNING, agent.status().state());
        assertTrue(agent.routes().gateway().startsWith("IPv4 forwarding on " + name), agent.routes().gateway());
        // (the journal may be empty here: a host whose new devices already forward needs no change)

        Kernel.exec("ip", "link", "del", name);

        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.FAILED), agent.status().toString());
        assertEquals("off (stopped)", agent.routes().gateway(), "gateway mode stopped with the data path");
        assertEquals(List.of(), new RouteJournal(journal).entries(), "every change undone");
        agent.deactivate();
        assertEquals(AgentState.STOPPED, agent.status().state());
    }

    /**
     * The kernel answers an echo request inside the TAP write that delivers it: the receive pump finds the reply on the
     * TAP and sends it itself, without the send pump's wake-up ({@link TapToSwitch#answer}). Which thread sends a
     * given reply is a race the send pump may win when it wakes fast, so pings go until one was answered so (bounded).
     */
    @Test
    void theKernelsEchoReplyLeavesFromTheReceivePump() throws Exception {
        RawLab lab = rawLab();
        // the peer's address known, so the reply needs no ARP round first
        Kernel.exec("ip", "neigh", "replace", lab.peerIp().getHostAddress(), "lladdr", lab.peerMac().toString(),
                "dev", lab.name(), "nud", "permanent");
        // the agent's socket, from whatever the kernel sends first (IPv6 ND, or the datagram below)
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(lab.tapIp(), 0))) {
            probe.send(new DatagramPacket(new byte[1], 1, new InetSocketAddress(lab.peerIp(), 9)));
        }
        TestSwitch.Datagram first = receive(WAIT, f -> true);
        assertNotNull(first, "nothing from the agent");
        Counters c = agent.diagnostics.counters();
        for (int seq = 1; seq <= 200 && c.answered.get() == 0; seq++) {
            int q = seq;
            byte[] echo = icmpEchoRequest(lab.peerMac(), lab.peerIp(), lab.tapMac(), lab.tapIp(), 0x7633, q);
            sw.send(echo, first.source());
            assertNotNull(receive(WAIT, f -> etherType(f) == ETH_IPV4 && (f[14 + 9] & 0xFF) == 1
                    && (f[34] & 0xFF) == 0 && u16(f, 38) == 0x7633 && u16(f, 40) == q), "no reply to ping " + q);
        }
        assertTrue(c.answered.get() > 0, "no echo reply was sent by the receive pump in 200 pings");
    }

    /** A raw agent on a real TAP device {@code name}, address {@code net}1/24; a peer {@code net}2 behind the switch. */
    private record RawLab(String name, String net, MacAddress tapMac, MacAddress peerMac, InetAddress tapIp,
                          InetAddress peerIp) {
    }

    /** Starts {@link #sw} and a raw {@link #agent} on a new TAP device in a free subnet. */
    private RawLab rawLab() throws IOException {
        int x = Kernel.freeSubnet();
        String net = "10.213." + x + ".";
        RawLab lab = new RawLab(kernel.uniqueName(), net,
                MacAddress.valueOf(String.format(Locale.ROOT, "02:76:6c:32:%02x:01", x)),
                MacAddress.valueOf(String.format(Locale.ROOT, "02:76:6c:32:%02x:02", x)),
                InetAddress.getByName(net + "1"), InetAddress.getByName(net + "2"));
        sw = TestSwitch.onLoopback();
        agent = new PortAgent(new LinuxTapFactory(), new TestConfig().raw().switchAddress(sw.address())
                .tapName(lab.name()).mac(lab.tapMac().toString()).address(net + "1/24"));
        return lab;
    }

    /** The next datagram matching {@code wanted}; every datagram received counts. */
    private TestSwitch.Datagram receive(long millis, java.util.function.Predicate<byte[]> wanted) throws IOException {
        return sw.receive(millis, f -> {
            received++;
            return wanted.test(f);
        });
    }

    private static int etherType(byte[] f) {
        return f.length >= 14 ? u16(f, 12) : -1;
    }

    private static int u16(byte[] f, int at) {
        return f.length >= at + 2 ? ((f[at] & 0xFF) << 8) | (f[at + 1] & 0xFF) : -1;
    }

    private static MacAddress mac(byte[] f, int at) {
        return MacAddress.of(Arrays.copyOfRange(f, at, at + 6));
    }

    private static byte[] arpReply(MacAddress sha, InetAddress spa, MacAddress tha, InetAddress tpa) {
        ByteBuffer b = ByteBuffer.allocate(42);
        b.put(tha.toBytes()).put(sha.toBytes()).putShort((short) ETH_ARP);
        b.putShort((short) 1).putShort((short) ETH_IPV4).put((byte) 6).put((byte) 4).putShort((short) 2);
        b.put(sha.toBytes()).put(spa.getAddress()).put(tha.toBytes()).put(tpa.getAddress());
        return b.array();
    }

    private static byte[] icmpEchoRequest(MacAddress src, InetAddress srcIp, MacAddress dst, InetAddress dstIp,
                                          int id, int seq) {
        int payload = 32;
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + payload);
        b.put(dst.toBytes()).put(src.toBytes()).putShort((short) ETH_IPV4);
        int ip = b.position();
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + 8 + payload)).putShort((short) 0x1234)
                .putShort((short) 0x4000).put((byte) 64).put((byte) 1).putShort((short) 0)
                .put(srcIp.getAddress()).put(dstIp.getAddress());
        b.putShort(ip + 10, checksum(b.array(), ip, 20));
        int icmp = b.position();
        b.put((byte) 8).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) seq);
        for (int i = 0; i < payload; i++) {
            b.put((byte) i);
        }
        b.putShort(icmp + 2, checksum(b.array(), icmp, 8 + payload));
        return b.array();
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes at {@code offset}. */
    private static short checksum(byte[] data, int offset, int length) {
        long sum = 0;
        for (int i = 0; i < length; i += 2) {
            int hi = data[offset + i] & 0xFF;
            int lo = i + 1 < length ? data[offset + i + 1] & 0xFF : 0;
            sum += (hi << 8) | lo;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (short) ~sum;
    }
}
