package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.vl2.api.AgentState;
import org.vl2.api.AgentStatus;
import org.vl2.api.Endpoints;
import org.vl2.api.MacAddress;
import org.vl2.protocol.VxlanHeader;

/**
 * vxlan mode against a {@link VxlanTestSwitch} on loopback (127.0.0.2) with an in-memory TAP device: frames both
 * ways behind the RFC 7348 header, what is dropped and how it is counted, the keepalive, the VXLAN port in use.
 */
class PortAgentVxlanTest extends AgentTestBase {

    @Test
    void forwardsFramesBothWaysBehindTheVxlanHeader() throws Exception {
        VxlanTestSwitch sw = vxlanSwitch();
        PortAgent agent = agent(new TestConfig().vxlan(0x12_3456).switchAddress(sw.address())
                .mac("02:76:6c:32:00:01").address("10.1.1.101/24"));
        FakeTap tap = factory.last;

        AgentStatus s = agent.status();
        assertEquals(AgentState.RUNNING, s.state());
        assertNull(s.problem());
        assertEquals("vxlan", s.mode());
        assertEquals(0x12_3456, s.vni());
        assertNull(s.network(), "none configured: the switch maps the VNI");
        assertNull(s.memberId());
        assertEquals(0, s.portId());
        assertNull(s.switchRtt());
        assertEquals(List.of("10.1.1.101/24"), s.addresses(), "as configured");
        assertEquals(List.of(), s.assignedAddresses(), "VXLAN assigns nothing");
        assertEquals(1450, s.mtu());
        assertEquals(sw.address(), s.switchAddress());
        assertEquals(sw.address(), s.switchResolved());
        assertEquals(Endpoints.format(sw.agent()), s.localAddress(), "the switch's VXLAN port, on the route's source");

        // kernel -> switch: the header, then the frame; from the VXLAN port, every time
        byte[] out = frame(60, 1);
        tap.fromKernel.add(out);
        VxlanTestSwitch.Datagram d = sw.receive(WAIT);
        assertNotNull(d, "the switch got nothing");
        assertArrayEquals(new byte[] {0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0}, Arrays.copyOf(d.data(), 8));
        assertArrayEquals(out, d.frame());
        assertEquals(sw.agent(), d.source());
        byte[] longest = frame(1450 + 22, 2); // MTU + 14 + two tags
        tap.fromKernel.add(longest);
        d = sw.receive(WAIT);
        assertEquals(0x12_3456, d.vni());
        assertArrayEquals(longest, d.frame());
        assertEquals(sw.agent(), d.source());

        // switch -> kernel: from any source port of the switch's address
        byte[] in = frame(1000, 3);
        sw.sendFrame(0x12_3456, in);
        assertArrayEquals(in, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS));
        sw.send(sw.main, VxlanTestSwitch.encapsulate(0x08, 0x12_3456, longest));
        assertArrayEquals(longest, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS));

        assertTrue(await(WAIT, () -> agent.status().tapTxFrames() == 2 && agent.status().tapRxFrames() == 2),
                agent.status().toString());
        s = agent.status();
        assertEquals(60 + 1472, s.tapRxBytes(), "frames, without the header");
        assertEquals(1000 + 1472, s.tapTxBytes());
        assertEquals(0, s.drops());
        assertNotNull(s.lastFromSwitch());
    }

    @Test
    void theVniDefaultsToTheNetworkId() throws Exception {
        VxlanTestSwitch sw = vxlanSwitch();
        PortAgent agent = agent(new TestConfig().vxlan(0).network("2a").switchAddress(sw.address()));

        assertEquals(42, agent.status().vni());
        assertEquals("000000000000002a", agent.status().network());
        factory.last.fromKernel.add(frame(60, 1));
        assertEquals(42, sw.receive(WAIT).vni());
        sw.sendFrame(42, frame(64, 2));
        assertEquals(64, factory.last.toKernel.poll(WAIT, TimeUnit.MILLISECONDS).length);
    }

    @Test
    void dropsAndCountsWhatIsNotOurVxlan() throws Exception {
        VxlanTestSwitch sw = vxlanSwitch();
        PortAgent agent = agent(new TestConfig().vxlan(42).switchAddress(sw.address()).mtu(1280));
        FakeTap tap = factory.last;
        int longest = 1280 + 22;

        sw.sendFrame(43, frame(64, 1)); // another VNI
        sw.sendFrame(0x10_002a, frame(64, 2)); // another VNI with ours in its low bits
        sw.send(sw.stranger, VxlanTestSwitch.encapsulate(0x08, 42, frame(64, 3))); // not the switch's address
        sw.send(sw.sender, VxlanTestSwitch.encapsulate(0x00, 42, frame(64, 4))); // no I flag
        sw.send(sw.sender, VxlanTestSwitch.encapsulate(0xF7, 42, frame(64, 5))); // every flag but I
        sw.send(sw.sender, VxlanTestSwitch.encapsulate(0x08, 42, new byte[0])); // a header and nothing behind it
        sw.send(sw.sender, VxlanTestSwitch.encapsulate(0x08, 42, frame(13, 6))); // a runt
        sw.send(sw.sender, new byte[] {0x08, 0, 0}); // not even a header
        sw.sendFrame(42, frame(longest + 1, 7)); // longer than the MTU allows
        sw.sendFrame(42, frame(9000, 8));
        sw.sendFrame(42, frame(70, 9)); // the one good frame, last

        assertEquals(70, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS).length);
        assertTrue(await(WAIT, () -> agent.status().drops() == 10), agent.status().toString());
        assertEquals(3, counters(agent).foreign.get(), "two other VNIs and the stranger");
        assertEquals(5, counters(agent).malformed.get(), "two without the I flag, no frame, a runt, no header");
        // the frame reaches the TAP device a moment before the agent counts it
        assertTrue(await(WAIT, () -> agent.status().tapTxFrames() == 1 && agent.status().tapTxBytes() == 70),
                agent.status().toString());
        AgentStatus s = agent.status();
        assertEquals(AgentState.RUNNING, s.state(), "nothing of that stops the agent");
        assertTrue(tap.toKernel.isEmpty());

        // still forwarding both ways
        sw.sendFrame(42, frame(longest, 10));
        assertEquals(longest, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS).length);
        tap.fromKernel.add(frame(100, 11));
        assertEquals(100, sw.receive(WAIT).frame().length);
    }

    @Test
    void aStrangerDoesNotCountAsTheSwitchBeingAlive() throws Exception {
        VxlanTestSwitch sw = vxlanSwitch();
        PortAgent agent = agent(new TestConfig().vxlan(42).switchAddress(sw.address()));

        sw.send(sw.stranger, VxlanTestSwitch.encapsulate(0x08, 42, frame(64, 1)));
        assertTrue(await(WAIT, () -> counters(agent).foreign.get() == 1), agent.status().toString());
        assertNull(agent.status().lastFromSwitch());
        assertEquals(0, agent.status().tapTxFrames());
    }

    @Test
    void anIdlePortSendsAnEncapsulatedKeepaliveToItsOwnMac() throws Exception {
        VxlanTestSwitch sw = vxlanSwitch();
        PortAgent agent = agent(new TestConfig().vxlan(42).switchAddress(sw.address()).mac("02:76:6c:32:00:07")
                .keepaliveSeconds(1), driven(DRIVEN));
        assertNotYet(() -> counters(agent).keepalives.get() > 0, "a keepalive before the port was idle for 1 s");
        // a second after the control thread first looked (a moment the test cannot see)
        advanceUntil(1_000, () -> counters(agent).keepalives.get() > 0, "no keepalive from an idle port");

        VxlanTestSwitch.Datagram d = sw.receive(WAIT);
        assertNotNull(d, "no keepalive");
        assertEquals(8 + 60, d.data().length);
        assertArrayEquals(new byte[] {0x08, 0, 0, 0, 0, 0, 42, 0}, Arrays.copyOf(d.data(), 8));
        assertEquals(sw.agent(), d.source(), "from the VXLAN port: the switch refreshes this port");
        byte[] f = d.frame();
        byte[] mac = MacAddress.valueOf("02:76:6c:32:00:07").toBytes();
        assertArrayEquals(mac, Arrays.copyOfRange(f, 0, 6), "to its own MAC: the switch filters it");
        assertArrayEquals(mac, Arrays.copyOfRange(f, 6, 12));
        assertEquals(0x88b5, ((f[12] & 0xff) << 8) | (f[13] & 0xff));
        assertEquals(0, agent.status().tapRxFrames(), "keepalives are not counted as TAP traffic");
    }

    @Test
    void noKeepaliveWhileFramesFlow() throws Exception {
        VxlanTestSwitch sw = vxlanSwitch();
        PortAgent agent = agent(new TestConfig().vxlan(42).switchAddress(sw.address()).keepaliveSeconds(1),
                driven(DRIVEN));
        FakeTap tap = factory.last;

        // frames back to back, half a second of the clock apart, each one received and counted before the clock
        // moves on: never a second without one, so no keepalive
        for (int seq = 0; seq < 6; seq++) {
            byte[] f = frame(60, seq);
            tap.fromKernel.add(f);
            VxlanTestSwitch.Datagram d = sw.receive(WAIT);
            assertNotNull(d, "frame " + seq + " did not arrive");
            assertArrayEquals(f, d.frame(), "frame " + seq);
            int sent = seq + 1;
            assertTrue(await(WAIT, () -> agent.status().tapRxFrames() == sent), "frame " + seq + " not counted");
            clock.advance(500);
            if (seq % 2 == 1) {
                assertNotYet(() -> counters(agent).keepalives.get() > 0, "a keepalive while frames flow");
            }
        }

        // silence: now it comes, a second after the control thread saw the last frame counted
        advanceUntil(1_000, () -> counters(agent).keepalives.get() > 0, "no keepalive after the traffic stopped");
        VxlanTestSwitch.Datagram keepalive = sw.receive(WAIT);
        assertNotNull(keepalive, "the keepalive did not arrive");
        assertTrue(isKeepalive(keepalive.frame()), "not a keepalive");
    }

    @Test
    void theVxlanPortInUseIsReportedAndRetried() throws Exception {
        VxlanTestSwitch sw = vxlanSwitch();
        DatagramChannel squatter = DatagramChannel.open();
        closeLater(squatter);
        squatter.bind(sw.agent());

        PortAgent agent = agent(new TestConfig().vxlan(42).switchAddress(sw.address()));
        AgentStatus s = agent.status();
        assertEquals(AgentState.SWITCH_UNREACHABLE, s.state());
        assertNull(s.localAddress());
        assertEquals("cannot receive VXLAN on UDP " + Endpoints.format(sw.agent()) + ": the port is in use. In vxlan"
                + " mode the agent receives on the switch's VXLAN port (" + sw.port() + "), as every VTEP; is a Linux"
                + " vxlan device (dstport " + sw.port() + "), a vl2 switch or another agent using it on this host?"
                + " retrying every 100 ms", s.problem());

        squatter.close();
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.RUNNING), agent.status().toString());
        assertEquals(Endpoints.format(sw.agent()), agent.status().localAddress());
        factory.last.fromKernel.add(frame(60, 1));
        assertEquals(42, sw.receive(WAIT).vni());
    }

    @Test
    void stopClosesTheSocket() throws Exception {
        VxlanTestSwitch sw = vxlanSwitch();
        PortAgent agent = agent(new TestConfig().vxlan(42).switchAddress(sw.address()));

        agent.deactivate();

        assertEquals(AgentState.STOPPED, agent.status().state());
        try (DatagramChannel again = DatagramChannel.open()) {
            again.bind(new InetSocketAddress(VxlanTestSwitch.AGENT_IP, sw.port())); // the port is free again
        }
    }

    /** The raw keepalive frame: from the agent's MAC to itself. */
    private static boolean isKeepalive(byte[] frame) {
        return Arrays.equals(frame, 0, 6, frame, 6, 12);
    }
}
