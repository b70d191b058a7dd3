package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;
import org.vl2.api.NetworkInfo;
import org.vl2.api.Networks;
import org.vl2.api.spi.Transport;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;

/**
 * Ports without an identity (raw, VXLAN) land only in networks open to plaintext: the raw transport's own network by
 * default, never the default network; sealed and private networks drop their frames (counted) and cut them off when
 * they close.
 */
class SealedNetworksTest {

    private static final String BCAST = "ff:ff:ff:ff:ff:ff";
    private static final long LAB = 0x2aL;
    private static final long PRIV = 0xb2L;

    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private FakeMacTable fdb;
    private FakeTransport udp;
    private FakeTransport vxlan;
    private SwitchCore sw;
    private NetworkDefinition lab;

    @BeforeEach
    void setUp() {
        fdb = new FakeMacTable();
        udp = new FakeTransport("udp");
        vxlan = new FakeTransport("vxlan", "vxlan");
        // allow.plaintext=true (deprecated) must open nothing
        sw = new SwitchCore(fdb, Fakes.config("learning", 1522, 300, 1024, 1000, true), clock::get, false);
        sw.bindPolicy(new LearningPolicy());
        sw.attach(udp);
        sw.attach(vxlan);
        lab = new NetworkDefinition(settings(LAB, false, true));
        sw.bindNetwork(lab);
        sw.bindNetwork(new NetworkDefinition(settings(PRIV, true, false)));
    }

    private static NetworkSettings settings(long id, boolean priv, boolean plaintext) {
        return new NetworkSettings(id, "n" + id, 1400, null, null, null, false, Duration.ofHours(1), null, List.of(),
                priv, Set.of(), HygieneSettings.DEFAULTS, plaintext);
    }

    private static ByteBuffer bcast(String src) {
        return TestFrames.frame(BCAST, src, -1, 46);
    }

    @Test
    void rawPortsLandInTheBuiltInRawNetworkNeverInTheDefaultOne() {
        udp.inject(TestFrames.endpoint(5001), bcast("02:00:00:00:00:01"));
        udp.inject(TestFrames.endpoint(5002), bcast("02:00:00:00:00:02"));
        assertEquals(2, sw.ports().size());
        assertTrue(sw.ports().stream().allMatch(p -> p.network() == Networks.RAW));
        assertEquals(1, udp.sentTo(TestFrames.endpoint(5001)), "raw ports still talk to each other");
        assertEquals(0, sw.network(0).orElseThrow().ports());
        NetworkInfo raw = sw.network(Networks.RAW).orElseThrow();
        assertEquals("raw", raw.name());
        assertEquals(NetworkInfo.PLAINTEXT, raw.access());
        assertEquals(NetworkInfo.SEALED, sw.network(0).orElseThrow().access());
        assertEquals(NetworkInfo.PRIVATE, sw.network(PRIV).orElseThrow().access());
    }

    @Test
    void aRawTransportPointedAtASealedOrPrivateNetworkIsCountedDropsOnly() {
        for (long network : new long[] {0L, PRIV}) {
            FakeTransport raw = new FakeTransport("udp-" + network);
            sw.attach(raw, network);
            raw.inject(TestFrames.endpoint(6000), bcast("02:00:00:00:00:06"));
        }
        assertTrue(sw.ports().isEmpty(), "no port in a sealed or private network");
        assertEquals(2, sw.statistics().dropSealed());
        FakeTransport nowhere = new FakeTransport("udp-ee");
        sw.attach(nowhere, 0xeeL);
        nowhere.inject(TestFrames.endpoint(6000), bcast("02:00:00:00:00:06"));
        assertEquals(1, sw.statistics().dropUnknownNetwork(), "a network the switch does not host");
    }

    @Test
    void vxlanEntersOnlyNetworksOpenToPlaintext() {
        SocketAddress vtep = TestFrames.endpoint(4789);
        sw.ingress().receiveFrame(vxlan, vtep, 0L, bcast("02:00:00:00:00:0a"));
        sw.ingress().receiveFrame(vxlan, vtep, PRIV, bcast("02:00:00:00:00:0b"));
        assertTrue(sw.ports().isEmpty());
        assertEquals(2, sw.statistics().dropSealed());
        assertNull(sw.ingress().attachPort(vxlan, vtep, 0L), "no static VTEP in the sealed default network");
        assertNull(sw.ingress().attachPort(vxlan, vtep, PRIV), "nor in a private one");
        assertNotNull(sw.ingress().attachPort(vxlan, vtep, LAB), "a plaintext network takes it");
        sw.ingress().receiveFrame(vxlan, vtep, LAB, bcast("02:00:00:00:00:0c"));
        assertEquals(1, sw.ports().size());
    }

    @Test
    void aNetworkThatClosesCutsItsRawAndVxlanPortsOffAtOnce() {
        FakeTransport raw = new FakeTransport("udp-lab");
        sw.attach(raw, LAB);
        raw.inject(TestFrames.endpoint(5001), bcast("02:00:00:00:00:01"));
        sw.ingress().attachPort(vxlan, TestFrames.endpoint(4789), LAB); // even a static one
        assertEquals(2, sw.ports().size());
        assertNotNull(fdb.lookup(LAB, 0, org.vl2.api.MacAddress.valueOf("02:00:00:00:00:01").toLong()));

        lab.replace(settings(LAB, false, false)); // plaintext=false
        sw.updatedNetwork(lab);
        assertTrue(sw.ports().isEmpty(), "sealed: no port without an identity left");
        assertNull(fdb.lookup(LAB, 0, org.vl2.api.MacAddress.valueOf("02:00:00:00:00:01").toLong()));
        raw.inject(TestFrames.endpoint(5001), bcast("02:00:00:00:00:01"));
        assertTrue(sw.ports().isEmpty(), "and none comes back");
        assertEquals(1, sw.statistics().dropSealed());
    }

    @Test
    void aRawTransportMovedToAnotherNetworkTakesItsPortsOutOfTheOldOne() {
        udp.inject(TestFrames.endpoint(5001), bcast("02:00:00:00:00:01"));
        assertEquals(Networks.RAW, sw.ports().get(0).network());
        sw.updatedTransport(udp, Map.of(Constants.SERVICE_ID, 1L, Transport.NETWORK, "2a"));
        assertTrue(sw.ports().isEmpty(), "the port in the old network is gone (it would keep its floods)");
        udp.inject(TestFrames.endpoint(5001), bcast("02:00:00:00:00:01"));
        assertEquals(LAB, sw.ports().get(0).network());
        sw.updatedTransport(udp, Map.of(Constants.SERVICE_ID, 1L, Transport.NETWORK, "not-hex"));
        assertEquals(LAB, sw.ports().get(0).network(), "an invalid value keeps the network it feeds");
    }

    @Test
    void aConfigurationForTheRawNetworkReplacesItsBuiltInSettingsAndItsRemovalRestoresThem() {
        NetworkDefinition rawDef = new NetworkDefinition(settings(Networks.RAW, false, false));
        sw.bindNetwork(rawDef);
        udp.inject(TestFrames.endpoint(5001), bcast("02:00:00:00:00:01"));
        assertTrue(sw.ports().isEmpty(), "the operator sealed the raw network");
        sw.unbindNetwork(rawDef);
        assertEquals(NetworkInfo.PLAINTEXT, sw.network(Networks.RAW).orElseThrow().access());
        udp.inject(TestFrames.endpoint(5001), bcast("02:00:00:00:00:01"));
        assertEquals(1, sw.ports().size());
    }

    @Test
    void plaintextOnAPrivateNetworkIsAnInvalidConfiguration() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NetworkSettings.from(config("2a", true, true), "org.vl2.network-x"));
        assertTrue(e.getMessage().contains("plaintext=true"), e.getMessage());
        assertTrue(NetworkSettings.from(config("2a", false, true), "p").openToPlaintext());
        assertTrue(!NetworkSettings.from(config("2a", false, false), "p").openToPlaintext(), "sealed by default");
        assertEquals("raw", NetworkSettings.from(config("ffffffffffffffff", false, true), "p").name());
    }

    private static NetworkConfig config(String id, boolean priv, boolean plaintext) {
        return FakeConfigAdmin.annotation(NetworkConfig.class, Map.of("id", id, "private", String.valueOf(priv),
                "plaintext", String.valueOf(plaintext)));
    }
}
