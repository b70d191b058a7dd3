package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.vl2.api.AgentState;
import org.vl2.crypto.Identity;

/**
 * transport tcp: the agent's encrypted vl2 session over a TCP connection (no TLS here: {@link TcpRelay} stands for
 * the switch's TCP transport; TLS between the two sides is tested with the real transport in vl2-transport-tcp and
 * end to end), through an HTTP CONNECT proxy, and a new connection when the old one ends, with the same session.
 */
class PortAgentTcpTest extends AgentTestBase {

    private TestConfig config(TestSwitch sw, TcpRelay relay, boolean proxy) throws IOException {
        TestConfig c = new TestConfig().switchAddress("127.0.0.1:" + sw.port()).switchKey(sw.publicKey())
                .identityFile(identityFile().toString())
                .tcp(proxy ? 9 : relay.port(), proxy ? "http://127.0.0.1:" + relay.port() : "");
        c.tcpTls = false;
        return c;
    }

    private PortAgent joined(PortAgent a) {
        assertTrue(await(WAIT, () -> a.status().state() == AgentState.RUNNING && a.status().portId() != 0
                && a.status().mtu() == 1400), a.status().toString());
        return a;
    }

    /** The frame from the TAP reaches the switch opened, and a sealed one from the switch reaches the TAP. */
    private void framesBothWays(TestSwitch sw, PortAgent agent, int seq) throws Exception {
        FakeTap tap = factory.last;
        byte[] out = frame(600, seq);
        tap.fromKernel.add(out);
        TestSwitch.Frame f;
        do {
            f = sw.frames.poll(WAIT, TimeUnit.MILLISECONDS);
            assertNotNull(f, "no FRAME reached the switch over TCP");
        } while (f.frame()[14] != out[14]);
        assertArrayEquals(out, f.frame());
        long member = Identity.load(identityFile()).memberId();
        assertTrue(await(WAIT, () -> sw.securePort(member) != null
                && sw.securePort(member).keys.stream().anyMatch(org.vl2.crypto.Session::isConfirmed)));
        byte[] in = frame(700, seq + 1);
        sw.sendSealedFrame(sw.securePort(member), in);
        byte[] got;
        do {
            got = tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS);
            assertNotNull(got, "nothing from the switch reached the TAP over TCP");
        } while (got.length != in.length);
        assertArrayEquals(in, got);
    }

    @Test
    void joinsAndCarriesFramesOverTcpAndConnectsAgainWithTheSameSession() throws Exception {
        TestSwitch sw = encryptedSwitch();
        TcpRelay relay = closeLater(new TcpRelay(new InetSocketAddress("127.0.0.1", sw.port()), false));
        // no JOIN retry and no 300 ms silence: on a loaded machine either could start a handshake of its own, and
        // this test counts the handshakes across a reconnect (the dropped connection is seen at once: EOF)
        Timing steady = new Timing(100, 5_000, 500, 20, 2_000, 5_000, 600, 200, 100);
        PortAgent agent = joined(agent(config(sw, relay, false), steady));
        assertEquals("127.0.0.1:" + relay.port() + " over TCP (no TLS) port " + relay.port(),
                agent.status().switchResolved());
        assertTrue(agent.diagnostics.describeSwitch().contains(", TCP (no TLS) port " + relay.port()),
                agent.diagnostics.describeSwitch());
        framesBothWays(sw, agent, 1);
        long handshakes = counters(agent).handshakes.get();
        long port = agent.status().portId();

        String before = agent.status().localAddress();
        relay.dropConnection();
        assertTrue(await(WAIT, () -> relay.connections.get() == 2
                && !before.equals(agent.status().localAddress())), "connected again");
        framesBothWays(sw, agent, 10);
        assertEquals(port, agent.status().portId(), "the same port");
        assertEquals(handshakes, counters(agent).handshakes.get(), "the session went on: no new handshake");
    }

    @Test
    void throughAnHttpConnectProxy() throws Exception {
        TestSwitch sw = encryptedSwitch();
        TcpRelay proxy = closeLater(new TcpRelay(new InetSocketAddress("127.0.0.1", sw.port()), true));
        PortAgent agent = joined(agent(config(sw, proxy, true)));
        assertEquals("127.0.0.1:9", proxy.connectTarget, "CONNECT to the switch's TCP port");
        framesBothWays(sw, agent, 20);
        assertTrue(agent.status().switchResolved().endsWith("via HTTP proxy 127.0.0.1:" + proxy.port()),
                agent.status().switchResolved());
    }

    /**
     * A firewall in front of the switch's UDP port, closed at first: when {@link #open}, it relays the agent's
     * datagrams to the switch and the switch's back, from its own socket (the switch sees the agent at the gate).
     */
    private static final class UdpGate implements AutoCloseable {
        final java.net.DatagramSocket outside = new java.net.DatagramSocket(0,
                java.net.InetAddress.getLoopbackAddress());
        final java.net.DatagramSocket inside = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress());
        volatile boolean open;
        volatile java.net.SocketAddress agent;
        /**
         * While closed and set: the next datagram from the agent (a UDP probe, when the agent is on TCP) is held,
         * and passed on, the gate opening, only once this counter has grown after its arrival.
         */
        volatile java.util.function.LongSupplier openAfter;
        /** The source of the datagram held by {@link #openAfter}. */
        volatile java.net.SocketAddress held;
        /** Datagrams passed on to the switch. */
        final java.util.concurrent.atomic.AtomicInteger passed = new java.util.concurrent.atomic.AtomicInteger();
        /** Runs (on the gate's thread) when the second datagram has passed, before it goes on to the switch. */
        volatile Runnable atSecond;

        UdpGate(int switchPort) throws IOException {
            inside.connect(new InetSocketAddress("127.0.0.1", switchPort));
            relay(outside, true);
            relay(inside, false);
        }

        private void relay(java.net.DatagramSocket from, boolean toSwitch) {
            Thread t = new Thread(() -> {
                byte[] b = new byte[65_536];
                java.net.DatagramPacket p = new java.net.DatagramPacket(b, b.length);
                while (!from.isClosed()) {
                    try {
                        p.setLength(b.length);
                        from.receive(p);
                        if (!open && toSwitch && openAfter != null && held == null) {
                            hold(p.getSocketAddress(), java.util.Arrays.copyOf(b, p.getLength()), openAfter);
                            continue;
                        }
                        if (!open) {
                            continue; // dropped, as a firewall that blocks UDP does
                        }
                        if (toSwitch) {
                            Runnable r = atSecond;
                            if (passed.incrementAndGet() == 2 && r != null) {
                                r.run();
                            }
                            agent = p.getSocketAddress();
                            inside.send(new java.net.DatagramPacket(b, p.getLength()));
                        } else if (agent != null) {
                            outside.send(new java.net.DatagramPacket(b, p.getLength(), agent));
                        }
                    } catch (IOException e) {
                        // closed, or one datagram lost
                    }
                }
            }, "udp-gate");
            t.setDaemon(true);
            t.start();
        }

        private void hold(java.net.SocketAddress from, byte[] datagram, java.util.function.LongSupplier counter) {
            held = from;
            long seen = counter.getAsLong();
            Thread t = new Thread(() -> {
                if (await(WAIT, () -> counter.getAsLong() > seen)) {
                    agent = from;
                    open = true;
                    try {
                        inside.send(new java.net.DatagramPacket(datagram, datagram.length));
                    } catch (IOException e) {
                        // closed: the test is over
                    }
                }
            }, "udp-gate-hold");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return outside.getLocalPort();
        }

        @Override
        public void close() {
            outside.close();
            inside.close();
        }
    }

    /** A switch behind a closed {@link UdpGate} and a {@link TcpRelay}, and an agent in auto joined over TCP. */
    private record AutoOnTcp(TestSwitch sw, TcpRelay relay, UdpGate gate, PortAgent agent) {
    }

    private AutoOnTcp autoOnTcp() throws Exception {
        TestSwitch sw = encryptedSwitch();
        TcpRelay relay = closeLater(new TcpRelay(new InetSocketAddress("127.0.0.1", sw.port()), false));
        UdpGate gate = closeLater(new UdpGate(sw.port()));
        TestConfig c = config(sw, relay, false).switchAddress("127.0.0.1:" + gate.port());
        c.transport = AgentConfig.TRANSPORT_AUTO;
        PortAgent agent = joined(agent(c));
        assertTrue(agent.status().switchResolved().endsWith(" over TCP (no TLS) port " + relay.port()),
                agent.status().switchResolved());
        return new AutoOnTcp(sw, relay, gate, agent);
    }

    @Test
    void autoFallsBackToTcpWhenUdpGetsNoAnswerAndReturnsWhenItDoes() throws Exception {
        AutoOnTcp lab = autoOnTcp();
        TestSwitch sw = lab.sw();
        UdpGate gate = lab.gate();
        PortAgent agent = lab.agent();
        framesBothWays(sw, agent, 30);
        FakeTap tap = factory.last;
        long handshakes = counters(agent).handshakes.get();

        gate.open = true;
        assertTrue(await(WAIT, () -> ("127.0.0.1:" + gate.port()).equals(agent.status().switchResolved())),
                "back on UDP: " + agent.status().switchResolved());
        framesBothWays(sw, agent, 40);
        assertTrue(tap == factory.last, "the same TAP device");
        assertEquals(handshakes, counters(agent).handshakes.get(), "the same session: no new handshake");

        gate.open = false;
        assertTrue(await(WAIT, () -> agent.status().switchResolved().contains(" over TCP")),
                "on TCP again when UDP goes silent: " + agent.status().switchResolved());
    }

    /**
     * The move back to UDP loses nothing the switch had already written to the TCP connection (a ping's reply): the
     * relay holds a sealed frame from the switch and writes it to the old connection just after the agent's first
     * message over the new UDP link (the probe passes first, then the keepalive the move sends), as a switch that had
     * not seen the move yet does. The old connection is read a little longer before it closes, so the frame reaches
     * the TAP; closed at once, it is lost.
     */
    @Test
    void aFrameTheSwitchWroteToTheTcpConnectionAtTheMoveBackToUdpIsNotLost() throws Exception {
        AutoOnTcp lab = autoOnTcp();
        TestSwitch sw = lab.sw();
        TcpRelay relay = lab.relay();
        UdpGate gate = lab.gate();
        PortAgent agent = lab.agent();
        framesBothWays(sw, agent, 60);
        FakeTap tap = factory.last;
        relay.hold = true;
        byte[] late = frame(800, 61);
        sw.sendSealedFrame(sw.securePort(Identity.load(identityFile()).memberId()), late);
        assertTrue(await(WAIT, () -> relay.held.size() == 1), "the relay holds the frame");
        java.util.concurrent.atomic.AtomicReference<IOException> failed =
                new java.util.concurrent.atomic.AtomicReference<>();
        gate.atSecond = () -> {
            try {
                relay.release();
            } catch (IOException e) {
                failed.set(e); // the agent closed the connection at once (it may also just drop the bytes)
            }
        };
        gate.open = true;
        assertTrue(await(WAIT, () -> !agent.status().switchResolved().contains(" over TCP")),
                "back on UDP: " + agent.status().switchResolved());
        byte[] got;
        do {
            got = tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS);
            assertNotNull(got, "the frame written to the old connection at the move never reached the TAP"
                    + (failed.get() == null ? "" : " (" + failed.get() + ")"));
        } while (got.length != late.length);
        assertArrayEquals(late, got);
    }

    /**
     * A TCP listener that accepts and then says nothing (a TLS handshake that never finishes): the fallback's connect
     * waits up to 10 s for it, off the control thread, which goes on sending JOINs over UDP meanwhile. A connect on
     * the control thread sends nothing until it gives up, and then closes the connection: the check fails.
     */
    @Test
    void aSilentTcpListenerDoesNotHoldTheControlThread() throws Exception {
        TestSwitch sw = encryptedSwitch();
        UdpGate gate = closeLater(new UdpGate(sw.port()));
        java.net.ServerSocket silent = closeLater(new java.net.ServerSocket(0, 8,
                java.net.InetAddress.getLoopbackAddress()));
        java.util.concurrent.BlockingQueue<java.net.Socket> accepted = new java.util.concurrent.LinkedBlockingQueue<>();
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    accepted.add(silent.accept());
                }
            } catch (IOException e) {
                // closed after the test
            }
        }, "silent-listener");
        acceptor.setDaemon(true);
        acceptor.start();
        TestConfig c = new TestConfig().switchAddress("127.0.0.1:" + gate.port()).switchKey(sw.publicKey())
                .identityFile(identityFile().toString()).tcp(silent.getLocalPort(), "");
        c.transport = AgentConfig.TRANSPORT_AUTO; // TLS on: the handshake waits for the listener's hello
        PortAgent agent = agent(c);
        try (java.net.Socket connection = accepted.poll(WAIT, TimeUnit.MILLISECONDS)) {
            assertNotNull(connection, "the fallback connected to the silent listener");
            long sent = counters(agent).controlSent.get();
            assertTrue(await(WAIT, () -> counters(agent).controlSent.get() > sent),
                    "JOINs go on over UDP while the TCP fallback connects");
            connection.setSoTimeout(1);
            // what the fallback sent (its TLS ClientHello, once its TLS stack is up) is read; then the connection
            // must still be open, waiting for the handshake's answer (a connect that held the control thread until
            // now would have given up and closed it: EOF)
            assertThrows(java.net.SocketTimeoutException.class, () -> {
                while (connection.getInputStream().read() >= 0) {
                    continue;
                }
            }, "the fallback's connection is still waiting for the TLS handshake: the control thread did not");
            assertTrue(agent.status().switchResolved().endsWith(":" + gate.port()), "still on UDP meanwhile: "
                    + agent.status().switchResolved());
        }
    }

    /**
     * On TCP, the UDP probe waits a second for the switch's answer, off the control thread: the gate passes the
     * probe on (and opens) only once the agent sent a control message (a keepalive over TCP) after the probe left,
     * and the agent goes back to UDP on that very probe's socket. A probe that held the control thread has given up
     * on its socket by then; a later probe's would be the link.
     */
    @Test
    void theUdpProbeDoesNotHoldTheControlThread() throws Exception {
        AutoOnTcp lab = autoOnTcp();
        UdpGate gate = lab.gate();
        PortAgent agent = lab.agent();
        gate.openAfter = counters(agent).controlSent::get;
        assertTrue(await(WAIT, () -> gate.open && !agent.status().switchResolved().contains(" over TCP")),
                "back on UDP: " + agent.status().switchResolved());
        int probePort = ((InetSocketAddress) gate.held).getPort();
        assertTrue(agent.status().localAddress().endsWith(":" + probePort), "on the held probe's socket ("
                + probePort + "): " + agent.status().localAddress());
        framesBothWays(lab.sw(), agent, 50);
    }

    @Test
    void configurationErrorsNameTheProperty() {
        assertEquals("Invalid configuration org.vl2.agent: transport=quic (supported: auto (the default), UDP and"
                + " TCP when UDP gets no answer; udp; or tcp, the switch's TCP transport (TLS))",
                message(new TestConfig().switchAddress("a").tcp(1, "").transportNamed("quic")));
        assertTrue(message(new TestConfig().raw().switchAddress("a").tcp(443, ""))
                .startsWith("Invalid configuration org.vl2.agent: transport=tcp (tcp needs mode vl2"));
        assertTrue(message(new TestConfig().switchAddress("a").tcp(443, "socks5://p:1080"))
                .startsWith("Invalid configuration org.vl2.agent: proxy=socks5://p:1080 (only http://HOST:PORT"));
        assertTrue(message(new TestConfig().switchAddress("a").tcp(0, ""))
                .startsWith("Invalid configuration org.vl2.agent: tcp.port=0"));
        AgentConfig.LinkPath p = AgentConfig.validate(new TestConfig().switchAddress("a").tcp(443,
                "http://proxy.example.org:3128/")).path();
        assertEquals("TCP/TLS port 443 via HTTP proxy proxy.example.org:3128", p.describe());
        assertEquals("UDP", AgentConfig.validate(new TestConfig().switchAddress("a")
                .transportNamed(AgentConfig.TRANSPORT_UDP)).path().describe());
        assertEquals("UDP, else TCP/TLS port 8443", AgentConfig.validate(new TestConfig().switchAddress("a")
                .transportNamed("")).path().describe(), "auto when nothing is said (the metatype default too)");
        assertEquals("UDP", AgentConfig.validate(new TestConfig().raw().switchAddress("a")
                .transportNamed(AgentConfig.TRANSPORT_AUTO)).path().describe(), "raw mode: auto is UDP");
    }

    private static String message(TestConfig c) {
        return assertThrows(IllegalArgumentException.class, () -> AgentConfig.validate(c)).getMessage();
    }
}
