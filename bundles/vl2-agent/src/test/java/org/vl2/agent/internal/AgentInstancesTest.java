package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.AgentState;

/**
 * Several agent instances in one process (factory configurations org.vl2.agent-NAME): names, the TAP names and the
 * VXLAN port they must not share, their thread names.
 */
class AgentInstancesTest extends AgentTestBase {

    private final AgentInstances instances = new AgentInstances();
    private final List<PortAgent> started = new ArrayList<>();

    @AfterEach
    void stopInstances() {
        for (PortAgent a : started) {
            if (a.status().state() != AgentState.STOPPED) {
                a.deactivate();
            }
        }
    }

    private PortAgent instance(String name, boolean numberedTap, TestConfig config) {
        PortAgent a = new PortAgent(factory, instances, name, numberedTap, config.udpOffload(udpOffload()),
                InetAddress::getByName, FAST);
        started.add(a);
        return a;
    }

    @Test
    void theInstanceIsTheFactoryConfigurationsName() {
        assertEquals("", PortAgent.instanceName(Map.of("service.pid", "org.vl2.agent")));
        assertEquals("2a", PortAgent.instanceName(Map.of("service.pid", "org.vl2.agent~2a",
                "service.factoryPid", "org.vl2.agent")));
        assertEquals("org.vl2.agent.4f1c", PortAgent.instanceName(Map.of("service.pid", "org.vl2.agent.4f1c",
                "service.factoryPid", "org.vl2.agent")));
    }

    @Test
    void twoInstancesRunSideBySideWithTheirOwnTapAndThreads() throws Exception {
        TestSwitch sw = loopbackSwitch();
        PortAgent a = instance("2a", false, new TestConfig().raw().switchAddress(sw.address()).tapName("vl2-2a"));
        PortAgent b = instance("2b", false, new TestConfig().raw().switchAddress(sw.address()).tapName("vl2-2b"));
        assertEquals("vl2-2a", a.status().tapName());
        assertEquals("vl2-2b", b.status().tapName());
        List<String> threads = Thread.getAllStackTraces().keySet().stream().map(Thread::getName).toList();
        for (String t : List.of("vl2-agent-2a-tap-rx", "vl2-agent-2a-udp-rx", "vl2-agent-2a-control",
                "vl2-agent-2b-tap-rx", "vl2-agent-2b-udp-rx", "vl2-agent-2b-control")) {
            assertTrue(threads.contains(t), t + " in " + threads);
        }
        a.deactivate();
        // the name is free again once its instance stopped
        PortAgent again = instance("2c", false, new TestConfig().raw().switchAddress(sw.address())
                .tapName("vl2-2a"));
        assertEquals("vl2-2a", again.status().tapName());
    }

    @Test
    void aTapNameTakenByAnotherInstanceIsRefusedWithItsName() throws Exception {
        TestSwitch sw = loopbackSwitch();
        instance("2a", false, new TestConfig().raw().switchAddress(sw.address()));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> instance("2b", false, new TestConfig().raw().switchAddress(sw.address())));
        assertEquals("Port agent not started: TAP name vl2tap0 is taken by the agent instance [2a] of this process:"
                + " give each instance its own tap.name (vl2tap%d lets the kernel number them)", e.getMessage());
        assertEquals(1, factory.created, "the second instance created no TAP device");
    }

    @Test
    void aFactoryInstanceWithoutTapNameGetsAKernelNumberedOne() throws Exception {
        TestSwitch sw = loopbackSwitch();
        PortAgent a = instance("2a", true, new TestConfig().raw().switchAddress(sw.address()));
        PortAgent b = instance("2b", true, new TestConfig().raw().switchAddress(sw.address()));
        assertEquals("vl2tap%d", a.status().tapName()); // a real kernel numbers them: vl2tap0, vl2tap1
        assertEquals("vl2tap%d", b.status().tapName());
    }

    @Test
    void aSecondVxlanInstanceIsRefused() throws Exception {
        VxlanTestSwitch sw = vxlanSwitch();
        instance("2a", false, new TestConfig().vxlan(42).switchAddress(sw.address()).tapName("vx-2a"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> instance("2b", false,
                new TestConfig().vxlan(43).switchAddress(sw.address()).tapName("vx-2b")));
        assertTrue(e.getMessage().startsWith("Port agent not started: vxlan mode: the agent instance [2a] of this"
                + " process already receives VXLAN on UDP "), e.getMessage());
        assertTrue(e.getMessage().contains("not done yet"), e.getMessage());
        assertEquals(1, factory.created, "no TAP device for 2b");
    }
}
