package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.AgentState;
import org.vl2.api.MacAddress;

/**
 * What every agent test class shares: agents on an in-memory TAP device ({@link FakeTap}) with short timers, test
 * switches, an identity file in a temporary directory, and stopping them all after each test. Every agent test class
 * runs twice: as itself, on the batched link (UDP offload), and as its {@code Nio*} subclass, which overrides
 * {@link #udpOffload()}, on a Java NIO channel.
 */
abstract class AgentTestBase {

    /**
     * Short timers: retry 100 ms, silence 300 ms, port-unreachable hold 500 ms, tick 20 ms; vl2: JOIN every 100 ms,
     * slow retry 600 ms, re-join at most every 200 ms, a protocol second is 100 ms.
     */
    /** A TCP port nothing listens on (tcpmux, needs root to bind and unused): a connection there is refused. */
    static final int REFUSED_TCP_PORT = 1;
    static final Timing FAST = new Timing(100, 300, 500, 20, 2_000, 100, 600, 200, 100);

    /**
     * {@link #FAST} with a JOIN (handshake) retried only after 5 s: a round has one JOIN, answered long before, so
     * the switch never answers a retry after the test has read the session (its later WELCOME would give the agent
     * another token, or keys).
     */
    static final Timing NO_RETRY = new Timing(100, 300, 500, 20, 2_000, 5_000, 600, 200, 100);

    /**
     * Timers for a test that moves {@link #clock} itself: nothing fires while it stands still. The link's are long
     * (retry 5 s, silence 60 s, port-unreachable hold 30 s), so that moving the session's timers on (JOIN every 1 s,
     * slow retry 30 s, re-join at most every 1 s; a protocol second is 100 ms, as in {@link #FAST}) does not make
     * the link keeper look for another link; threads look every 20 ms of real time.
     */
    static final Timing DRIVEN = new Timing(5_000, 60_000, 30_000, 20, 2_000, 1_000, 30_000, 1_000, 100);

    /**
     * How long a test waits, in milliseconds, for what must happen: generous, so that only something really wrong
     * fails it, never a machine busy with other work (what must not happen is checked with short waits instead).
     */
    static final long WAIT = 10_000;

    /**
     * How long a test that moves {@link #clock} waits to see that something does not happen: the control thread looks
     * every tick (20 ms of real time) as well as when woken, so on an idle machine it has looked a few times by then.
     * On a loaded machine it may not have looked, and the check passes without proving anything; it never fails
     * for the load.
     */
    static final long LOOK = 100;

    @TempDir
    Path dir;

    final FakeTap.Factory factory = new FakeTap.Factory();
    /** The clock of the agents whose timing is {@link #driven}. */
    final TestClock clock = new TestClock();
    private final List<PortAgent> agents = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    /** Whether the agents use the batched socket (UDP offload); the Nio* subclasses run the tests without. */
    boolean udpOffload() {
        return true;
    }

    @AfterEach
    void stopAgentsAndSwitches() throws Exception {
        for (PortAgent a : agents) {
            if (a.status().state() != AgentState.STOPPED) {
                a.deactivate();
            }
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    /** An agent with {@link #FAST} timers and the real resolver, stopped after the test. */
    PortAgent agent(TestConfig config) {
        return agent(config, InetAddress::getByName, FAST);
    }

    PortAgent agent(TestConfig config, SwitchAddress.Resolver resolver) {
        return agent(config, resolver, FAST);
    }

    PortAgent agent(TestConfig config, Timing timing) {
        return agent(config, InetAddress::getByName, timing);
    }

    PortAgent agent(TestConfig config, SwitchAddress.Resolver resolver, Timing timing) {
        if (config.tcpPort == AgentConfig.TCP_PORT) {
            // transport auto (the default) tries TCP on the switch's host whenever the FAST timers see half a second
            // of silence: on 127.0.0.1 that must be refused at once, not reach whatever this host runs on 8443 (a
            // switch's TCP transport, or a listener that never answers and holds the control thread 10 s)
            config.tcpPort = REFUSED_TCP_PORT;
        }
        PortAgent a = new PortAgent(factory, config.udpOffload(udpOffload()), resolver, timing);
        agents.add(a);
        return a;
    }

    /** {@code t} measured on this test's {@link #clock}: its timers fire when the test moves the clock. */
    Timing driven(Timing t) {
        return new Timing(t.retryMillis(), t.silenceMillis(), t.unreachableHoldMillis(), t.tickMillis(),
                t.joinMillis(), t.joinRetryMillis(), t.slowRetryMillis(), t.rejoinMillis(), t.secondMillis(),
                t.sessionLimits(), clock);
    }

    /**
     * A UDP port on 127.0.0.1 that nothing listens on (bound, then closed): what is sent there gets an ICMP port
     * unreachable, as while a switch process restarts.
     */
    static int closedUdpPort() throws IOException {
        try (DatagramChannel probe = DatagramChannel.open()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
    }

    /** Closed after the test (after the agents stopped). */
    <T extends AutoCloseable> T closeLater(T c) {
        closeables.add(c);
        return c;
    }

    /** A raw-mode test switch on 127.0.0.1. */
    TestSwitch loopbackSwitch() throws IOException {
        return closeLater(TestSwitch.onLoopback());
    }

    /** A plaintext vl2 test switch on 127.0.0.1. */
    TestSwitch vl2Switch() throws IOException {
        return closeLater(TestSwitch.vl2OnLoopback());
    }

    /** An encrypted vl2 test switch on 127.0.0.1. */
    TestSwitch encryptedSwitch() throws IOException {
        return closeLater(TestSwitch.encryptedOnLoopback());
    }

    /** A switch's VXLAN transport on 127.0.0.1. */
    VxlanTestSwitch vxlanSwitch() throws IOException {
        return closeLater(VxlanTestSwitch.start());
    }

    /** Where the agents keep their key pair in this test. */
    Path identityFile() {
        return dir.resolve("data/vl2/agent-identity");
    }

    /** What {@code agent} counted. */
    static Counters counters(PortAgent agent) {
        return agent.diagnostics.counters();
    }

    /** {@code agent}'s send pump. */
    static TapToSwitch sendPump(PortAgent agent) {
        return agent.sendPump;
    }

    /** An Ethernet frame of {@code length} bytes, from the test's station to broadcast, numbered {@code seq}. */
    static byte[] frame(int length, int seq) {
        byte[] f = new byte[length];
        for (int i = 0; i < 6; i++) {
            f[i] = (byte) 0xff;
        }
        byte[] src = MacAddress.valueOf("02:76:6c:32:99:01").toBytes();
        System.arraycopy(src, 0, f, 6, 6);
        if (length >= 14) {
            f[12] = (byte) 0x88; // EtherType 0x88b5: local experimental
            f[13] = (byte) 0xb5;
        }
        for (int i = 14; i < length; i++) {
            f[i] = (byte) (seq + i);
        }
        return f;
    }

    /** Asserts that {@code condition} does not come true within {@link #LOOK}: after a move of the clock. */
    static void assertNotYet(BooleanSupplier condition, String message) {
        assertFalse(await(LOOK, condition), message);
    }

    /**
     * Moves {@link #clock} on by {@code millis} until {@code condition} holds, looking {@link #LOOK} after each move
     * ({@link #WAIT} in all): for what is due {@code millis} after a moment the test cannot see, such as when the
     * control thread took an answer (a refusal puts the next JOIN a slow retry after that, and the clock may have
     * moved on meanwhile). Returns how often it moved the clock.
     */
    int advanceUntil(long millis, BooleanSupplier condition, String message) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT);
        for (int moves = 1; ; moves++) {
            clock.advance(millis);
            if (await(LOOK, condition)) {
                return moves;
            }
            assertTrue(System.nanoTime() < deadline, message);
        }
    }

    /** Waits up to {@code millis} for {@code condition}, polling: true once it holds, false if it never did. */
    static boolean await(long millis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
