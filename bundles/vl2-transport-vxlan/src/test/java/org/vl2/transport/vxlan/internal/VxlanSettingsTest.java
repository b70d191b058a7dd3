package org.vl2.transport.vxlan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.vl2.transport.vxlan.internal.VxlanSettings.Remote;

class VxlanSettingsTest {

    /** Asserts that the configuration is refused with a message that names {@code property=value}. */
    private static void refused(Cfg cfg, String named) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VxlanSettings.of(cfg));
        assertTrue(e.getMessage().startsWith("Invalid configuration org.vl2.transport.vxlan: "), e.getMessage());
        assertTrue(e.getMessage().contains(named), "expected '" + named + "' in: " + e.getMessage());
    }

    @Test
    void theDefaultsAreValid() throws Exception {
        VxlanSettings s = VxlanSettings.of(new Cfg());
        assertEquals(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 4789), s.bind());
        assertTrue(s.vnis().isEmpty(), "no VNI is accepted until one is mapped");
        assertTrue(s.allowedVteps().isEmpty(), "any source");
        assertEquals(List.of(), s.remotes());
        assertEquals(49152, s.sourcePortMin());
        assertEquals(49167, s.sourcePortMax());
        assertEquals(16, s.sourcePorts());
    }

    @Test
    void testConfigMirrorsTheAnnotationDefaults() throws Exception {
        // Cfg stands for "no configuration" in the other tests: it must say what the metatype says.
        Cfg cfg = new Cfg();
        for (Method m : VxlanTransportConfig.class.getDeclaredMethods()) {
            Object expected = m.getDefaultValue();
            Object actual = m.invoke(cfg);
            if (m.getName().endsWith("buffer_bytes")) {
                assertEquals(4 * 1024 * 1024, expected); // the tests use 1 MiB to spare memory
            } else if (expected instanceof String[]) {
                assertEquals(List.of((String[]) expected), List.of((String[]) actual), m.getName());
            } else {
                assertEquals(expected, actual, m.getName());
            }
        }
    }

    @Test
    void badPortBindAddressAndBuffersAreNamed() {
        refused(new Cfg().port(0), "port=0");
        refused(new Cfg().port(70000), "port=70000");
        refused(new Cfg().bind("no-such-host.invalid"), "bind.address=no-such-host.invalid");
        refused(new Cfg().bind(" "), "bind.address= ");
        refused(new Cfg().buffers(10, 1 << 20), "receive.buffer.bytes=10");
        refused(new Cfg().buffers(1 << 20, 20), "send.buffer.bytes=20");
    }

    @Test
    void badSourcePortRangesAreNamed() {
        refused(new Cfg().range("abc"), "source.port.range=abc");
        refused(new Cfg().range("50000-"), "source.port.range=50000-");
        refused(new Cfg().range("50010-50000"), "source.port.range=50010-50000");
        refused(new Cfg().range("0-10"), "source.port.range=0-10");
        refused(new Cfg().range("65530-65536"), "source.port.range=65530-65536");
        refused(new Cfg().range("49152-49216"), "source.port.range=49152-49216 (65 ports; at most 64)");
        refused(new Cfg().range("4780-4790"), "source.port.range=4780-4790 (contains the VXLAN port 4789");
        assertEquals(64, VxlanSettings.of(new Cfg().range("49152-49215")).sourcePorts());
        VxlanSettings one = VxlanSettings.of(new Cfg().range(" 50000 "));
        assertEquals(50000, one.sourcePortMin());
        assertEquals(50000, one.sourcePortMax());
    }

    @Test
    void badVniEntriesAreNamed() {
        refused(new Cfg().vni("42"), "vni=42 (expected VNI=NETWORK");
        refused(new Cfg().vni("0=1"), "vni=0=1 (VNI must be 1..16777215)");
        refused(new Cfg().vni("16777216=1"), "vni=16777216=1");
        refused(new Cfg().vni("x=1"), "vni=x=1");
        refused(new Cfg().vni("42=zz"), "vni=42=zz (not a network id");
        refused(new Cfg().vni("42=12345678901234567"), "vni=42=12345678901234567");
        refused(new Cfg().vni("42="), "vni=42=");
        refused(new Cfg().vni("42=1", "42=2"), "vni=42=2 (VNI 42 is already mapped by 42=1)");
        refused(new Cfg().vni("42=1", "43=0x1"), "vni=43=0x1 (network 0000000000000001 already has a VNI: 42=1");
    }

    @Test
    void vniEntriesMayBeCommaSeparatedAndSpaced() {
        VxlanSettings s = VxlanSettings.of(new Cfg().vni(" 42 = 2a , 43=0x2b", "", "100=ffffffffffffffff"));
        VniMap m = s.vnis();
        assertEquals(0x2a, m.network(42));
        assertEquals(0x2b, m.network(43));
        assertEquals(-1L, m.network(100));
        assertEquals(100, m.vni(-1L));
        assertTrue(VxlanSettings.of(new Cfg().vni("", " ")).vnis().isEmpty());
    }

    @Test
    void badRemotesAreNamed() {
        refused(new Cfg().remotes("192.0.2.1"), "remotes=192.0.2.1 (expected VNI=host[:port]");
        refused(new Cfg().remotes("0=192.0.2.1"), "remotes=0=192.0.2.1 (VNI must be");
        refused(new Cfg().vni("42=1").remotes("7=192.0.2.1"), "remotes=7=192.0.2.1 (VNI 7 is not mapped");
        refused(new Cfg().vni("42=1", "43=2").remotes("42=192.0.2.1:99999"), "remotes=42=192.0.2.1:99999 (port must be 1..65535)");
        refused(new Cfg().vni("42=1", "43=2").remotes("42=192.0.2.1:"), "remotes=42=192.0.2.1: (port must be");
        refused(new Cfg().vni("42=1", "43=2").remotes("42=no-such-host.invalid"), "remotes=42=no-such-host.invalid (unknown host");
        refused(new Cfg().vni("42=1", "43=2").remotes("42="), "remotes=42= (no host)");
        refused(new Cfg().vni("42=1", "43=2").remotes("42=[2001:db8::1"), "remotes=42=[2001:db8::1 (missing ']')");
        refused(new Cfg().vni("42=1", "43=2").remotes("42=[2001:db8::1]4789"), "remotes=42=[2001:db8::1]4789 (expected ':port'");
        refused(new Cfg().vni("42=1", "43=2").remotes("42=0.0.0.0"), "remotes=42=0.0.0.0 (a remote VTEP needs a unicast address)");
        refused(new Cfg().vni("42=1", "43=2").remotes("42=239.1.1.1"), "remotes=42=239.1.1.1 (a remote VTEP needs a unicast");
        refused(new Cfg().vni("42=1", "43=2").remotes("42=[2001:db8::1]"), "remotes=42=[2001:db8::1] (an IPv6 VTEP needs an IPv6");
        refused(new Cfg().bind("::1").vni("42=1").remotes("42=192.0.2.1"), "remotes=42=192.0.2.1 (an IPv4 VTEP needs");
        refused(new Cfg().vni("42=1", "43=2").remotes("42=192.0.2.1", "42=192.0.2.1:4789"), "remotes=42=192.0.2.1:4789 (listed twice)");
        refused(new Cfg().vni("42=1", "43=2").remotes("42=192.0.2.1:5000", "43=192.0.2.1"),
                "remotes: 192.0.2.1 is given with ports 5000 and 4789");
    }

    @Test
    void remotesTakeTheConfiguredPortUnlessTheyNameOne() throws Exception {
        VxlanSettings s = VxlanSettings.of(new Cfg().bind("::").port(8472).vni("42=2a", "43=2b")
                .remotes("42=192.0.2.1, 43=192.0.2.1", "42=[2001:db8::1]:5000", "43=2001:db8::2"));
        assertEquals(List.of(
                new Remote(42, 0x2a, new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 8472)),
                new Remote(43, 0x2b, new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 8472)),
                new Remote(42, 0x2a, new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 5000)),
                new Remote(43, 0x2b, new InetSocketAddress(InetAddress.getByName("2001:db8::2"), 8472))),
                s.remotes());
        assertEquals(new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 5000),
                s.staticVtep().get(InetAddress.getByName("2001:db8::1")));
        assertEquals(3, s.staticVtep().size());
    }

    @Test
    void aRemoteNeedsAMappedVni() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VxlanSettings.of(new Cfg().remotes("42=192.0.2.1")));
        assertTrue(e.getMessage().contains("VNI 42 is not mapped"), e.getMessage());
    }

    @Test
    void allowedVtepsAreAddressesAndIncludeTheStaticRemotes() throws Exception {
        VxlanSettings s = VxlanSettings.of(new Cfg().vni("42=2a").remotes("42=192.0.2.1")
                .allowed("192.0.2.7, [2001:db8::7]", "2001:db8::8"));
        assertEquals(java.util.Set.of(InetAddress.getByName("192.0.2.7"), InetAddress.getByName("2001:db8::7"),
                InetAddress.getByName("2001:db8::8"), InetAddress.getByName("192.0.2.1")), s.allowedVteps());
        assertTrue(s.describe().contains("VTEPs only from 192.0.2.1, 192.0.2.7"), s.describe());
        assertTrue(VxlanSettings.of(new Cfg().vni("42=2a").remotes("42=192.0.2.1")).allowedVteps().isEmpty(),
                "without a list: any source");
        for (String bad : new String[] {"vtep.example", "0.0.0.0", "224.0.0.1", "192.0.2", "deadbeef.cafe"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> VxlanSettings.of(new Cfg().allowed(bad)));
            assertTrue(e.getMessage().contains("allowed.vteps=" + bad), e.getMessage());
        }
    }

    @Test
    void socketsAreKeptOnlyWhenAddressPortAndRangeAreTheSame() {
        VxlanSettings a = VxlanSettings.of(new Cfg());
        assertTrue(a.sameSockets(VxlanSettings.of(new Cfg().vni("1=1").buffers(1 << 17, 1 << 17))));
        assertTrue(!a.sameSockets(VxlanSettings.of(new Cfg().port(4790))));
        assertTrue(!a.sameSockets(VxlanSettings.of(new Cfg().bind("127.0.0.1"))));
        assertTrue(!a.sameSockets(VxlanSettings.of(new Cfg().range("49152-49153"))));
        assertTrue(!a.sameSockets(VxlanSettings.of(new Cfg().io(0, true))), "another I/O mode");
        assertTrue(!a.sameSockets(VxlanSettings.of(new Cfg().io(VxlanTransport.DEFAULT_BATCH, false))));
    }

    @Test
    void theBatchSizeIsChecked() {
        assertEquals(0, VxlanSettings.of(new Cfg().io(0, true)).batch());
        assertEquals(1024, VxlanSettings.of(new Cfg().io(1024, false)).batch());
        for (int bad : new int[] {-1, 1025}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> VxlanSettings.of(new Cfg().io(bad, true)));
            assertTrue(e.getMessage().contains("io.batch=" + bad + " (must be 0..1024"), e.getMessage());
        }
    }
}
