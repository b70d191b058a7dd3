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
                        if (!open) {
                            continue; // dropped, as a firewall that blocks UDP does
                        }
                        if (toSwitch) {
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

        int port() {
            return outside.getLocalPort();
        }

        @Override
        public void close() {
            outside.close();
            inside.close();
        }
    }

    @Test
    void autoFallsBackToTcpWhenUdpGetsNoAnswerAndReturnsWhenItDoes() throws Exception {
        TestSwitch sw = encryptedSwitch();
        TcpRelay relay = closeLater(new TcpRelay(new InetSocketAddress("127.0.0.1", sw.port()), false));
        UdpGate gate = closeLater(new UdpGate(sw.port()));
        TestConfig c = config(sw, relay, false).switchAddress("127.0.0.1:" + gate.port());
        c.transport = AgentConfig.TRANSPORT_AUTO;
        PortAgent agent = joined(agent(c));
        assertTrue(agent.status().switchResolved().endsWith(" over TCP (no TLS) port " + relay.port()),
                agent.status().switchResolved());
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
