package org.vl2.agent.internal;

import java.io.IOException;
import java.net.InetAddress;
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
    static final Timing FAST = new Timing(100, 300, 500, 20, 2_000, 100, 600, 200, 100);

    @TempDir
    Path dir;

    final FakeTap.Factory factory = new FakeTap.Factory();
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
        PortAgent a = new PortAgent(factory, config.udpOffload(udpOffload()), resolver, timing);
        agents.add(a);
        return a;
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
