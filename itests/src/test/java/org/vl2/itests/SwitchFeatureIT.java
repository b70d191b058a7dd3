package org.vl2.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerSuite;
import org.osgi.framework.Bundle;
import org.vl2.api.spi.Transport;

/**
 * Smoke test of the distribution: {@code vl2-switch} is installed at boot, its bundles are active, its services are
 * registered, the UDP transport listens on the port the test gave it and the {@code vl2:*} commands run.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerSuite.class)
public class SwitchFeatureIT extends Vl2TestSupport {

    /** Every bundle of the vl2-switch feature (shell included: the distribution has the shell feature). */
    private static final List<String> VL2_BUNDLES = List.of(
            "org.vl2.vl2-api",
            "org.vl2.vl2-mactable",
            "org.vl2.vl2-switching",
            "org.vl2.vl2-transport-udp",
            "org.vl2.vl2-shell");

    @Test
    public void switchFeatureIsInstalled() throws Exception {
        assertTrue("vl2-switch installed", isFeatureInstalled("vl2-switch"));
        assertTrue("vl2-core installed", isFeatureInstalled("vl2-core"));
        assertTrue("vl2-transport-udp installed", isFeatureInstalled("vl2-transport-udp"));
    }

    @Test
    public void vl2BundlesAreActive() {
        for (String name : VL2_BUNDLES) {
            assertNotNull("bundle " + name + " installed", bundle(name));
        }
        try {
            awaitCondition("all org.vl2.* bundles ACTIVE", () -> inactiveVl2Bundles().isEmpty());
        } catch (AssertionError e) {
            fail(e.getMessage() + "; not active (bundle=state): " + inactiveVl2Bundles());
        }
    }

    @Test
    public void servicesAreRegistered() {
        assertNotNull(macTable);
        assertNotNull(macTableAdmin);
        assertNotNull(switchService);
        // a switch without ports (each test starts from one, see Vl2TestSupport): no MAC learnt, nothing thrown by
        // the read paths
        assertEquals(0, macTable.size());
        assertEquals(List.of(), macTable.entries());
        assertEquals(List.of(), switchService.ports());
    }

    @Test
    public void udpTransportListensOnItsConfiguredPort() throws Exception {
        awaitService(Transport.class, "(" + Transport.PROPERTY + "=udp)", DEFAULT_TIMEOUT);
        int port = udpTransportPort();
        // the transport holds the port: binding it again must fail
        awaitCondition("UDP transport bound to 127.0.0.1:" + port, () -> {
            try {
                new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)).close();
                return false;
            } catch (BindException expected) {
                return true;
            }
        });
    }

    @Test
    public void portsCommandRuns() {
        String output = executeCommand("vl2:ports");
        assertTrue("vl2:ports prints its table:\n" + output, output.contains("Port"));
        assertFalse("vl2:ports output:\n" + output, output.contains("Command not found"));
    }

    private List<String> inactiveVl2Bundles() {
        List<String> inactive = new ArrayList<>();
        for (Bundle b : bundleContext.getBundles()) {
            String name = b.getSymbolicName();
            if (name != null && name.startsWith("org.vl2.") && b.getState() != Bundle.ACTIVE) {
                inactive.add(name + "=" + b.getState());
            }
        }
        return inactive;
    }
}
