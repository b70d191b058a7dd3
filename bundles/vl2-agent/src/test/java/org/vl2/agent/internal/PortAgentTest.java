package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.vl2.api.Endpoints;
import org.vl2.api.AgentState;
import org.vl2.api.AgentStatus;
import org.vl2.api.MacAddress;
import org.vl2.tap.TapException;

/**
 * Raw mode: the agent's data path, state and reconnection on loopback sockets, with an in-memory TAP device:
 * runs anywhere, no root needed. {@link PortAgentKernelTest} does the same against real kernel devices,
 * {@link PortAgentVl2Test} covers vl2 mode.
 */
class PortAgentTest extends AgentTestBase {

    private static InetSocketAddress local(PortAgent agent) {
        String s = agent.status().localAddress();
        assertNotNull(s, "agent has no socket");
        int colon = s.lastIndexOf(':');
        return new InetSocketAddress(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1)));
    }

    @Test
    void forwardsFramesBothWaysAndCounts() throws Exception {
        TestSwitch sw = loopbackSwitch();
        Instant before = Instant.now();
        PortAgent agent = agent(new TestConfig().raw().switchAddress(sw.address()).tapName("vl2a0")
                .mac("02:76:6c:32:00:01").address("10.1.1.101/24").address6("fd00:1::101/64"), InetAddress::getByName);
        FakeTap tap = factory.last;

        AgentStatus s = agent.status();
        assertEquals(AgentState.RUNNING, s.state());
        assertNull(s.problem());
        assertEquals("vl2a0", s.tapName());
        assertEquals(MacAddress.valueOf("02:76:6c:32:00:01"), s.tapMac());
        assertEquals(1454, s.mtu());
        assertEquals(List.of("10.1.1.101/24", "fd00:1::101/64"), s.addresses());
        assertNull(s.bridge());
        assertEquals(sw.address(), s.switchAddress());
        assertEquals(sw.address(), s.switchResolved());
        assertTrue(s.localAddress().startsWith("127.0.0.1:"), s.localAddress());
        assertEquals("raw", s.mode());
        assertNull(s.network(), "raw ports have no network of their own");
        assertNull(s.memberId());
        assertEquals(0, s.portId());
        assertEquals(List.of(), s.assignedAddresses());
        assertNull(s.switchRtt());
        assertFalse(s.since().isBefore(before.minusMillis(1)));
        assertNull(s.lastFromSwitch());

        // kernel -> switch: one frame, one datagram, no header, from the agent's socket
        byte[] out = frame(60, 1);
        tap.fromKernel.add(out);
        TestSwitch.Datagram d = sw.receive(WAIT);
        assertNotNull(d, "the switch got nothing");
        assertArrayEquals(out, d.data());
        assertEquals(s.localAddress(), Endpoints.format(d.source()));

        // switch -> kernel
        byte[] in = frame(1000, 2);
        sw.send(in, d.source());
        byte[] written = tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS);
        assertArrayEquals(in, written);

        // the longest frame the TAP allows passes both ways: MTU + 14 + 2 tags
        byte[] longest = frame(1454 + 22, 3);
        tap.fromKernel.add(longest);
        assertArrayEquals(longest, sw.receive(WAIT).data());
        sw.send(longest, d.source());
        assertArrayEquals(longest, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS));

        // counted right after the send and the write return: the peer may be faster
        assertTrue(await(WAIT, () -> agent.status().tapTxFrames() == 2 && agent.status().tapRxFrames() == 2),
                agent.status().toString());
        s = agent.status();
        assertEquals(2, s.tapRxFrames());
        assertEquals(60 + 1476, s.tapRxBytes());
        assertEquals(2, s.tapTxFrames());
        assertEquals(1000 + 1476, s.tapTxBytes());
        assertEquals(0, s.drops());
        assertNotNull(s.lastFromSwitch());
        assertEquals(AgentState.RUNNING, s.state());
    }

    @Test
    void aLoneFrameIsSentWithoutAnEmptyTapReadAfterIt() throws Exception {
        TestSwitch sw = loopbackSwitch();
        agent(new TestConfig().raw().switchAddress(sw.address()).tapName("vl2a0"), InetAddress::getByName);
        FakeTap tap = factory.last;
        tap.fromKernel.add(frame(60, 0));
        assertNotNull(sw.receive(WAIT), "the switch got nothing");
        // lone frames (pings), each handed over while the pump waits: after each the pump waits again at once, an
        // empty read would only tell it what a lone frame already says (one system call per frame saved). Counted
        // from the first wait on: the first frame may have been read without a wait, and an empty read after it
        assertTrue(await(WAIT, () -> tap.waiting), "the pump does not wait");
        int before = tap.emptyReads.get();
        for (int i = 1; i <= 10; i++) {
            assertTrue(await(WAIT, () -> tap.waiting), "the pump does not wait for the next frame");
            byte[] f = frame(60, i);
            tap.fromKernel.add(f);
            TestSwitch.Datagram d = sw.receive(WAIT);
            assertNotNull(d, "frame " + i + " did not reach the switch");
            assertArrayEquals(f, d.data());
        }
        assertEquals(before, tap.emptyReads.get(), "empty TAP reads between lone frames");
    }

    @Test
    void talksToAnIpv6Switch() throws Exception {
        TestSwitch sw;
        try {
            sw = new TestSwitch(InetAddress.getByName("::1"), 0);
        } catch (IOException e) {
            assumeTrue(false, "skipped: no IPv6 loopback here (" + e + ")");
            return;
        }
        closeLater(sw);
        assertTrue(sw.address().startsWith("[::1]:"), sw.address());
        PortAgent agent = agent(new TestConfig().raw().switchAddress(sw.address()), InetAddress::getByName);
        FakeTap tap = factory.last;

        AgentStatus s = agent.status();
        assertEquals(AgentState.RUNNING, s.state());
        assertEquals(sw.address(), s.switchAddress());
        assertEquals(sw.address(), s.switchResolved());
        assertTrue(s.localAddress().startsWith("[::1]:"), s.localAddress());
        tap.fromKernel.add(frame(60, 1));
        TestSwitch.Datagram d = sw.receive(WAIT);
        assertEquals(s.localAddress(), Endpoints.format(d.source()));
        sw.send(frame(61, 2), d.source());
        assertEquals(61, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS).length);
    }

    @Test
    void dropsOversizeFramesAndRuntsInBothDirections() throws Exception {
        TestSwitch sw = loopbackSwitch();
        PortAgent agent = agent(new TestConfig().raw().switchAddress(sw.address()).mtu(1280), InetAddress::getByName);
        FakeTap tap = factory.last;
        int longest = 1280 + 22;

        tap.fromKernel.add(frame(60, 0)); // lets the test learn the agent's endpoint
        InetSocketAddress agentEnd = sw.receive(WAIT).source();

        tap.fromKernel.add(frame(longest + 1, 1)); // fills the read buffer: longer than the MTU allows
        tap.fromKernel.add(frame(longest + 500, 2)); // truncated by the read: also dropped
        tap.fromKernel.add(frame(100, 3));
        TestSwitch.Datagram d = sw.receive(WAIT);
        assertEquals(100, d.data().length, "only the frame that fits was sent");

        sw.send(frame(longest + 1, 4), agentEnd);
        sw.send(frame(9000, 5), agentEnd);
        sw.send(frame(13, 6), agentEnd); // runt: shorter than an Ethernet header
        sw.send(frame(64, 7), agentEnd);
        assertEquals(64, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS).length);
        assertTrue(await(WAIT, () -> agent.status().drops() == 5 && agent.status().tapTxFrames() == 1
                && agent.status().tapRxFrames() == 2),
                agent.status().toString());

        AgentStatus s = agent.status();
        assertEquals(2, s.tapRxFrames());
        assertEquals(160, s.tapRxBytes());
        assertEquals(1, s.tapTxFrames());
        assertEquals(64, s.tapTxBytes());
        assertTrue(tap.toKernel.isEmpty());
        assertNull(sw.receive(50), "nothing else reached the switch");
    }

    @Test
    void reportsPortUnreachableUntilTheSwitchAnswers() throws Exception {
        int port = closedUdpPort();
        // an ICMP error makes the switch unreachable for 5 s: longer than the test's checks below take
        PortAgent agent = agent(new TestConfig().raw().switchAddress("127.0.0.1:" + port), InetAddress::getByName,
                new Timing(100, 300, 5_000, 20, 2_000, 100, 600, 200, 100));
        FakeTap tap = factory.last;
        assertEquals(AgentState.RUNNING, agent.status().state(), "nothing sent yet, nothing known");

        tap.fromKernel.add(frame(60, 1));
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.SWITCH_UNREACHABLE),
                "state: " + agent.status());
        AgentStatus s = agent.status();
        assertEquals("ICMP port unreachable from 127.0.0.1:" + port + ": is the vl2 switch running there and"
                + " listening on UDP port " + port + "?", s.problem());

        for (int i = 2; i <= 5; i++) {
            tap.fromKernel.add(frame(60, i));
        }
        assertTrue(await(WAIT, () -> agent.status().tapRxFrames() + agent.status().drops() == 5), agent.status()
                .toString());
        assertEquals(AgentState.SWITCH_UNREACHABLE, agent.status().state());

        // the switch starts and sends a frame: reachable again at once
        InetSocketAddress agentEnd = local(agent);
        TestSwitch sw = new TestSwitch(InetAddress.getLoopbackAddress(), port);
        closeLater(sw);
        sw.send(frame(64, 9), agentEnd);
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.RUNNING), agent.status().toString());
        assertNull(agent.status().problem());
        assertNotNull(agent.status().lastFromSwitch());
        assertTrue(await(WAIT, () -> agent.status().tapTxFrames() == 1), agent.status().toString());
        // Frames 1..5 were sent, or queued for a flush, while nothing listened; one may reach the switch now (a batched
        // flush that ran late, a datagram the loaded kernel delivered late). Drain those: only they may come first.
        tap.fromKernel.add(frame(70, 10));
        while (true) {
            TestSwitch.Datagram d = sw.receive(WAIT);
            assertNotNull(d, "the 70-byte frame never reached the switch");
            if (d.data().length == 70) {
                assertArrayEquals(frame(70, 10), d.data());
                break;
            }
            byte[] early = d.data();
            assertTrue(java.util.stream.IntStream.rangeClosed(1, 5).anyMatch(i -> Arrays.equals(frame(60, i), early)),
                    "only a frame sent while the switch was down may come before the 70-byte one");
        }
    }

    @Test
    void portUnreachableExpiresWhenNoMoreErrorsCome() throws Exception {
        int port = closedUdpPort();
        // held 3 s of the test's clock, which moves only when the test moves it
        PortAgent agent = agent(new TestConfig().raw().switchAddress("127.0.0.1:" + port), InetAddress::getByName,
                driven(new Timing(5_000, 60_000, 3_000, 20, 2_000, 1_000, 30_000, 1_000, 100)));
        factory.last.fromKernel.add(frame(60, 1));
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.SWITCH_UNREACHABLE));
        // no traffic, no new error: after the hold time (3 s here, 30 s by default) the agent stops claiming it
        clock.advance(2_999);
        assertEquals(AgentState.SWITCH_UNREACHABLE, agent.status().state(), "expired before the hold time");
        clock.advance(1);
        assertEquals(AgentState.RUNNING, agent.status().state(), agent.status().toString());
    }

    @Test
    void resolvesANameAndReconnectsWhenItsAddressChanges() throws Exception {
        TestSwitch first = loopbackSwitch();
        int port = first.port();
        TestSwitch second = new TestSwitch(InetAddress.getByName("127.0.0.2"), port);
        closeLater(second);
        AtomicReference<InetAddress> dns = new AtomicReference<>(InetAddress.getByName("127.0.0.1"));
        List<String> lookups = new ArrayList<>();
        PortAgent agent = agent(new TestConfig().raw().switchAddress("switch.test:" + port), host -> {
            synchronized (lookups) {
                lookups.add(host);
            }
            return dns.get();
        });
        FakeTap tap = factory.last;

        AgentStatus s = agent.status();
        assertEquals("switch.test:" + port, s.switchAddress());
        assertEquals("127.0.0.1:" + port, s.switchResolved());
        tap.fromKernel.add(frame(60, 1));
        assertNotNull(first.receive(WAIT));
        InetSocketAddress before = local(agent);

        // the name moves; the switch is silent, so the agent looks again after the silence time (300 ms here)
        dns.set(InetAddress.getByName("127.0.0.2"));
        assertTrue(await(WAIT, () -> ("127.0.0.2:" + port).equals(agent.status().switchResolved())),
                agent.status().toString());
        assertEquals(AgentState.RUNNING, agent.status().state());
        assertEquals(before.getPort(), local(agent).getPort(), "the new socket keeps the local port");

        tap.fromKernel.add(frame(61, 2));
        TestSwitch.Datagram d = second.receive(WAIT);
        assertNotNull(d, "nothing reached the new address");
        assertEquals(61, d.data().length);
        assertNull(first.receive(50));
        second.send(frame(62, 3), d.source());
        assertEquals(62, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS).length);
        synchronized (lookups) {
            assertTrue(lookups.stream().allMatch("switch.test"::equals), lookups.toString());
        }
    }

    @Test
    void keepsTheSocketWhileTheNameResolvesToTheSameAddress() throws Exception {
        TestSwitch sw = loopbackSwitch();
        List<String> lookups = new ArrayList<>();
        PortAgent agent = agent(new TestConfig().raw().switchAddress("switch.test:" + sw.port()), host -> {
            synchronized (lookups) {
                lookups.add(host);
            }
            return InetAddress.getLoopbackAddress();
        });
        InetSocketAddress before = local(agent);
        assertTrue(await(WAIT, () -> {
            synchronized (lookups) {
                return lookups.size() >= 3; // the first at start, then every silence period
            }
        }));
        assertEquals(before, local(agent));
        factory.last.fromKernel.add(frame(60, 1));
        assertEquals(before, sw.receive(WAIT).source());
    }

    @Test
    void startsWhenTheNameDoesNotResolveAndConnectsOnceItDoes() throws Exception {
        TestSwitch sw = loopbackSwitch();
        AtomicReference<InetAddress> dns = new AtomicReference<>();
        PortAgent agent = agent(new TestConfig().raw().switchAddress("switch.test:" + sw.port()), host -> {
            InetAddress a = dns.get();
            if (a == null) {
                throw new UnknownHostException(host + ": Name or service not known");
            }
            return a;
        });
        FakeTap tap = factory.last;

        AgentStatus s = agent.status();
        assertEquals(AgentState.SWITCH_UNREACHABLE, s.state());
        assertEquals("cannot resolve switch.test (switch.test: Name or service not known): check the name and this"
                + " host's DNS; retrying every 100 ms", s.problem());
        assertNull(s.switchResolved());
        assertNull(s.localAddress());
        tap.fromKernel.add(frame(60, 1));
        assertTrue(await(WAIT, () -> agent.status().drops() == 1));

        dns.set(InetAddress.getLoopbackAddress());
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.RUNNING), agent.status().toString());
        assertEquals(sw.address(), agent.status().switchResolved());
        tap.fromKernel.add(frame(61, 2));
        TestSwitch.Datagram d = sw.receive(WAIT);
        assertEquals(61, d.data().length);
        sw.send(frame(62, 3), d.source());
        assertEquals(62, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS).length);
    }

    @Test
    void aFailingTapDeviceStopsTheDataPathAndSaysWhy() throws Exception {
        TestSwitch sw = loopbackSwitch();
        PortAgent agent = agent(new TestConfig().raw().switchAddress(sw.address()), InetAddress::getByName);
        factory.last.readFailure = new TapException("TAP device vl2tap0 was deleted (ip link del?)", 19);

        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.FAILED), agent.status().toString());
        assertEquals("Reading from TAP device vl2tap0 failed: TAP device vl2tap0 was deleted (ip link del?); no"
                + " frames flow any more: restart the agent (or change its configuration) to recreate the device",
                agent.status().problem());
        assertTrue(await(WAIT, () -> !agent.diagnostics.threadsAlive()), "threads still running");

        agent.deactivate();
        assertEquals(AgentState.STOPPED, agent.status().state());
    }

    @Test
    void stopClosesTheTapAndEndsTheThreads() throws Exception {
        TestSwitch sw = loopbackSwitch();
        PortAgent agent = agent(new TestConfig().raw().switchAddress(sw.address()), InetAddress::getByName);
        FakeTap tap = factory.last;
        assertTrue(agent.diagnostics.threadsAlive());

        agent.deactivate();

        assertFalse(tap.isOpen());
        assertFalse(agent.diagnostics.threadsAlive());
        AgentStatus s = agent.status();
        assertEquals(AgentState.STOPPED, s.state());
        assertNull(s.problem());
        assertNull(s.localAddress(), "socket closed");
    }

    @Test
    void tapErrorsBecomeOneClearMessage() {
        String why = "cannot open /dev/net/tun: needs CAP_NET_ADMIN: run as root or grant the capability"
                + " [errno 1 EPERM: Operation not permitted]";
        factory.failure = new TapException(why, 1);

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new PortAgent(factory, new TestConfig().raw(), InetAddress::getByName, FAST));
        assertEquals("Port agent not started: " + why, e.getMessage());
        assertTrue(e.getCause() instanceof TapException);
    }

    @Test
    void invalidConfigurationCreatesNoDevice() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PortAgent(factory, new TestConfig().raw().switchAddress("foo:"), InetAddress::getByName, FAST));
        assertTrue(e.getMessage().startsWith("Invalid configuration org.vl2.agent: switch.address=foo: ("),
                e.getMessage());
        assertEquals(0, factory.created);
    }

    @Test
    void anIdlePortSendsAKeepaliveToItsOwnMac() throws Exception {
        TestSwitch sw = loopbackSwitch();
        PortAgent agent = agent(new TestConfig().raw().switchAddress(sw.address()).mac("02:76:6c:32:00:07")
                .keepaliveSeconds(1), InetAddress::getByName, driven(DRIVEN));
        assertNotYet(() -> counters(agent).keepalives.get() > 0, "a keepalive before the port was idle for 1 s");
        // a second after the control thread first looked (a moment the test cannot see)
        advanceUntil(1_000, () -> counters(agent).keepalives.get() > 0, "no keepalive from an idle port");
        TestSwitch.Datagram d = sw.receive(WAIT);
        assertNotNull(d, "no keepalive");
        byte[] f = d.data();
        assertEquals(60, f.length);
        byte[] mac = MacAddress.valueOf("02:76:6c:32:00:07").toBytes();
        assertArrayEquals(mac, java.util.Arrays.copyOfRange(f, 0, 6), "to its own MAC: the switch filters it");
        assertArrayEquals(mac, java.util.Arrays.copyOfRange(f, 6, 12));
        assertEquals(0x88b5, ((f[12] & 0xff) << 8) | (f[13] & 0xff));
        assertEquals(0, agent.status().tapRxFrames(), "keepalives are not counted as TAP traffic");
    }

    @Test
    void keepaliveIntervalIsValidated() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> AgentConfig.validate(new TestConfig().raw().keepaliveSeconds(-1)));
        assertTrue(e.getMessage().contains("keepalive.seconds=-1"), e.getMessage());
    }
}
