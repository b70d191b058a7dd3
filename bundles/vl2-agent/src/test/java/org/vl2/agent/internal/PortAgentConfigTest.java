package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.Base64;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vl2.api.Endpoints;
import org.vl2.api.MacAddress;
import org.vl2.crypto.Identity;

/** Configuration checks: every message names the PID, the property and its value, and says what is allowed. */
class PortAgentConfigTest {

    private static final String PREFIX = "Invalid configuration org.vl2.agent: ";

    private static String error(TestConfig config) {
        return assertThrows(IllegalArgumentException.class, () -> AgentConfig.validate(config)).getMessage();
    }

    @Test
    void defaultsAreTheAnnotationDefaults() throws Exception {
        Class<AgentConfig.Config> c = AgentConfig.Config.class;
        assertNull(c.getMethod("switch_address").getDefaultValue(), "switch.address is required: no default");
        assertEquals("vl2tap0", c.getMethod("tap_name").getDefaultValue());
        assertEquals(0, c.getMethod("mtu").getDefaultValue(), "automatic");
        assertEquals("", c.getMethod("mac").getDefaultValue());
        assertEquals("", c.getMethod("address").getDefaultValue());
        assertEquals("", c.getMethod("address6").getDefaultValue());
        assertEquals("", c.getMethod("bridge").getDefaultValue());
        assertEquals("vl2", c.getMethod("mode").getDefaultValue());
        assertEquals("0", c.getMethod("network").getDefaultValue());
        assertEquals("", c.getMethod("name").getDefaultValue());
        assertEquals("${karaf.data}/vl2/agent-identity", c.getMethod("identity_file").getDefaultValue());
        assertEquals(25, c.getMethod("keepalive_seconds").getDefaultValue());
        assertEquals(0, c.getMethod("vni").getDefaultValue(), "the network id");
        assertEquals(true, c.getMethod("encryption").getDefaultValue(), "encrypted unless switched off");
        assertEquals("", c.getMethod("switch_key").getDefaultValue(), "required when encrypted, but no default");

        // and TestConfig starts from them
        TestConfig t = new TestConfig();
        for (var m : c.getDeclaredMethods()) {
            if (m.getDefaultValue() != null) {
                assertEquals(m.getDefaultValue(), m.invoke(t), m.getName());
            }
        }
    }

    @Test
    void defaultMtuFitsATaggedFrameInOne1500ByteIpv4Datagram() {
        assertEquals(1500 - 20 - 8 - 14 - 4, AgentConfig.DEFAULT_MTU);
        assertEquals(1454, AgentConfig.DEFAULT_MTU);
        int taggedFrame = AgentConfig.DEFAULT_MTU + 14 + 4;
        assertEquals(1500, taggedFrame + 8 + 20, "IPv4 + UDP + frame with one 802.1Q tag");
        // and the largest allowed MTU still fits its longest frame (two tags) into one UDP datagram
        assertEquals(65_507, AgentConfig.MAX_MTU + 22);
    }

    @Test
    void validConfiguration() {
        AgentConfig.Settings s = AgentConfig.validate(new TestConfig().raw().switchAddress(" 203.0.113.7:9990 ")
                .tapName("vl2p%d").mtu(1400).mac("02:00:5e:10:00:01").address("10.1.1.101/24")
                .address6("fd00:1::101/64").bridge("br0"));

        assertEquals("203.0.113.7", s.switchAddress().host());
        assertEquals(9990, s.switchAddress().port());
        assertFalse(s.switchAddress().isName());
        assertEquals("vl2p%d", s.tap().name());
        assertEquals(1400, s.tap().mtu());
        assertEquals(MacAddress.valueOf("02:00:5e:10:00:01"), s.tap().mac());
        assertEquals("10.1.1.101/24", s.tap().ipv4().toString());
        assertEquals("fd00:1::101/64", s.tap().ipv6().toString());
        assertEquals("br0", s.tap().bridge());
        assertTrue(s.tap().up());
        assertEquals("raw", s.mode());
        assertFalse(s.vl2());
        assertTrue(s.mtuConfigured());
    }

    @Test
    void validVl2Configuration() {
        AgentConfig.Settings s = AgentConfig.validate(new TestConfig().switchAddress("sw.example.org").network(
                "0x8056C2E21C000001").name("höst-1").identityFile("/var/lib/vl2/id").address("10.1.1.101/24"));

        assertTrue(s.vl2());
        assertEquals(9991, s.switchAddress().port(), "the vl2 transport's port when none is given");
        assertEquals(0x8056c2e21c000001L, s.network());
        assertEquals("höst-1", s.name());
        assertEquals("/var/lib/vl2/id", s.identityFile());
        assertEquals("10.1.1.101/24", s.tap().ipv4().toString());
        assertFalse(s.mtuConfigured());
        assertEquals(1454, s.tap().mtu(), "provisional until the WELCOME says the network's MTU");

        assertEquals(1500, AgentConfig.validate(new TestConfig().mtu(1500)).tap().mtu());
        assertTrue(AgentConfig.validate(new TestConfig().mtu(1500)).mtuConfigured());
        assertEquals(5L, AgentConfig.validate(new TestConfig().network(" 5 ")).network());
    }

    @Test
    void emptyOptionalsMeanNone() {
        AgentConfig.Settings s = AgentConfig.validate(new TestConfig().network("").identityFile(" "));

        assertEquals("vl2tap0", s.tap().name());
        assertEquals(1454, s.tap().mtu());
        assertNull(s.tap().mac());
        assertNull(s.tap().ipv4());
        assertNull(s.tap().ipv6());
        assertNull(s.tap().bridge());
        assertEquals(0L, s.network());
        assertNull(s.name(), "the host name");
        assertEquals("${karaf.data}/vl2/agent-identity", s.identityFile());
    }

    @Test
    void switchAddressWithoutPortTakesTheModesPort() {
        assertEquals(9991, AgentConfig.validate(new TestConfig().switchAddress("foo")).switchAddress().port());
        assertEquals(9990, AgentConfig.validate(new TestConfig().raw().switchAddress("foo")).switchAddress().port());
        SwitchAddress v6 = AgentConfig.validate(new TestConfig().switchAddress("[2001:db8::7]")).switchAddress();
        assertEquals("[2001:db8::7]:9991", v6.toString());
        SwitchAddress v4 = AgentConfig.validate(new TestConfig().raw().switchAddress("203.0.113.7")).switchAddress();
        assertEquals("203.0.113.7:9990", v4.toString());
        assertFalse(v4.isName());
    }

    @Test
    void switchAddressForms() throws Exception {
        SwitchAddress v4 = SwitchAddress.parse("203.0.113.7:9990");
        assertEquals(InetAddress.getByName("203.0.113.7"), v4.literal());
        assertEquals("203.0.113.7:9990", v4.toString());

        SwitchAddress v6 = SwitchAddress.parse("[2001:db8::7]:9990");
        assertEquals("2001:db8::7", v6.host());
        assertEquals(InetAddress.getByName("2001:db8::7"), v6.literal());
        assertEquals(9990, v6.port());
        assertEquals("[2001:db8::7]:9990", v6.toString());
        assertEquals("[2001:db8::7]:9990", Endpoints.format(v6.resolve(h -> null)));

        SwitchAddress name = SwitchAddress.parse("switch.example.org:1");
        assertTrue(name.isName());
        assertEquals("switch.example.org", name.host());
        assertEquals(1, name.port());
        assertEquals("switch.example.org:1", name.toString());
        assertEquals("192.0.2.9:1", Endpoints.format(name.resolve(h -> InetAddress.getByName("192.0.2.9"))));

        assertEquals(65535, SwitchAddress.parse("localhost:65535").port());
        assertEquals("[::1]:9990", Endpoints.format(SwitchAddress.parse("[::1]:9990").resolve(h -> null)));
        assertEquals("[fd00:0:1:0:1::1]:1", Endpoints.format(
                SwitchAddress.parse("[FD00:0000:0001:0000:0001:0000:0000:0001]:1").resolve(h -> null)));
        assertTrue(SwitchAddress.parse("sw-1.example.org.:9990").isName());
    }

    @Test
    void validationDoesNoDns() {
        // a name that cannot resolve is valid configuration: it is resolved (and retried) when the agent runs
        AgentConfig.Settings s = AgentConfig.validate(new TestConfig().switchAddress("no-such-host.invalid:9990"));
        assertTrue(s.switchAddress().isName());
    }

    @Test
    void switchAddressWithAColonButNoPortHasTheDocumentedMessage() {
        assertEquals(PREFIX + "switch.address=foo: (no port; expected host or host:port (port 9991 if left out),"
                + " e.g. 203.0.113.7, switch.example.org:9991 or [2001:db8::7]:9991)",
                error(new TestConfig().switchAddress("foo:")));
    }

    @Test
    void switchAddressMissing() {
        String expected = PREFIX + "switch.address is missing (expected host or host:port (port 9991 if left out),"
                + " e.g. 203.0.113.7, switch.example.org:9991 or [2001:db8::7]:9991)";
        assertEquals(expected, error(new TestConfig().switchAddress(null)));
        assertEquals(expected, error(new TestConfig().switchAddress("  ")));
        assertEquals(PREFIX + "switch.address is missing (expected host or host:port (port 9990 if left out),"
                + " e.g. 203.0.113.7, switch.example.org:9990 or [2001:db8::7]:9990 (raw mode))",
                error(new TestConfig().raw().switchAddress("")));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "10.0.0.1:            | no port",
        "10.0.0.1:0           | port 0 is out of range (1..65535)",
        "10.0.0.1:65536       | port 65536 is out of range (1..65535)",
        "10.0.0.1:99999       | port 99999 is out of range (1..65535)",
        "10.0.0.1:123456      | port '123456' is not a number",
        "10.0.0.1:http        | port 'http' is not a number",
        "10.0.0.1:-1          | port '-1' is not a number",
        ":9990                | no host",
        "10.0.0.300:9990      | '10.0.0.300' is not an IPv4 address",
        "10.0.1:9990          | '10.0.1' is not an IPv4 address",
        "010.0.0.1:9990       | '010.0.0.1' is not an IPv4 address",
        "bad_host!:9990       | 'bad_host!' is not a host name or address",
        "-sw.example.org:9990 | '-sw.example.org' is not a host name or address",
        "sw..example.org:9990 | 'sw..example.org' is not a host name or address",
        "2001:db8::7:9990     | an IPv6 address needs brackets: [address]:port",
        "2001:db8::7          | an IPv6 address needs brackets: [address]:port",
        "[2001:db8::7]:       | no port",
        "[2001:db8::7]9990    | expected ':' and a port after ']'",
        "[2001:db8::7:9990    | '[' without ']'",
        "[zz::1]:9990         | 'zz::1' is not an IPv6 address",
        "[10.0.0.1]:9990      | '10.0.0.1' is not an IPv6 address",
        "[2001:db8::7]:70000  | port 70000 is out of range (1..65535)",
    })
    void badSwitchAddresses(String value, String why) {
        assertEquals(PREFIX + "switch.address=" + value + " (" + why + "; expected host or host:port (port 9990 if"
                + " left out), e.g. 203.0.113.7, switch.example.org:9990 or [2001:db8::7]:9990 (raw mode))",
                error(new TestConfig().raw().switchAddress(value)));
    }

    @Test
    void badMode() {
        assertEquals(PREFIX + "mode=geneve (supported: vl2, the vl2 protocol (the default), raw, one Ethernet"
                + " frame per UDP datagram, or vxlan, RFC 7348 VXLAN)", error(new TestConfig().mode("geneve")));
        assertTrue(error(new TestConfig().mode("")).startsWith(PREFIX + "mode= (supported: vl2"));
    }

    @Test
    void validVxlanConfiguration() {
        AgentConfig.Settings s = AgentConfig.validate(new TestConfig().vxlan(42).switchAddress("203.0.113.7")
                .address("10.1.1.101/24"));

        assertTrue(s.vxlan());
        assertFalse(s.vl2());
        assertEquals("vxlan", s.mode());
        assertEquals(42, s.vni());
        assertEquals(4789, s.switchAddress().port(), "the IANA VXLAN port when none is given");
        assertEquals("[2001:db8::7]:4789", AgentConfig.validate(new TestConfig().vxlan(42)
                .switchAddress("[2001:db8::7]")).switchAddress().toString());
        assertEquals(1450, s.tap().mtu(), "1500 - 20 IPv4 - 8 UDP - 8 VXLAN - 14 Ethernet, as a Linux vxlan device");
        assertFalse(s.mtuConfigured());
        assertEquals("10.1.1.101/24", s.tap().ipv4().toString(), "configured: nobody assigns addresses");
        assertEquals(25_000, s.keepaliveMillis());

        // the extremes of 24 bits
        assertEquals(1, AgentConfig.validate(new TestConfig().vxlan(1)).vni());
        assertEquals(16_777_215, AgentConfig.validate(new TestConfig().vxlan(16_777_215)).vni());
        // a configured vni wins over the network, whatever the network
        assertEquals(7, AgentConfig.validate(new TestConfig().vxlan(7).network("8056c2e21c000001")).vni());
        // the other modes have no VNI
        assertEquals(0, AgentConfig.validate(new TestConfig().vni(42)).vni());
        assertEquals(0, AgentConfig.validate(new TestConfig().raw().vni(42)).vni());
    }

    @Test
    void vxlanVniDefaultsToTheNetworkId() {
        AgentConfig.Settings s = AgentConfig.validate(new TestConfig().vxlan(0).network("2a"));
        assertEquals(42, s.vni());
        assertEquals(42L, s.network());
        assertEquals(0xff_ffff, AgentConfig.validate(new TestConfig().vxlan(0).network("0xFFFFFF")).vni());
        assertEquals(1, AgentConfig.validate(new TestConfig().vxlan(0).network("0000000000000001")).vni());
    }

    @Test
    void vxlanConfigurationErrors() {
        String range = " (allowed: 1..16777215, the 24-bit VXLAN network identifier, or 0: the network id)";
        assertEquals(PREFIX + "vni=16777216" + range, error(new TestConfig().vxlan(16_777_216)));
        assertEquals(PREFIX + "vni=-1" + range, error(new TestConfig().vxlan(-1)));
        assertEquals(PREFIX + "vni=16777216" + range, error(new TestConfig().vni(16_777_216)),
                "checked in every mode: a typo is a typo");

        assertEquals(PREFIX + "vni is missing (vxlan mode needs a VNI, 1..16777215: set vni, or set network to a"
                + " network id of at most 6 hex digits (1 to ffffff), which is its VNI by the switch's default"
                + " mapping)", error(new TestConfig().vxlan(0)));
        assertEquals(PREFIX + "vni is missing (network 8056c2e21c000001 does not fit a 24-bit VNI: set vni to the"
                + " VNI that the switch's vxlan transport maps to this network, 1..16777215)",
                error(new TestConfig().vxlan(0).network("8056c2e21c000001")));
        assertTrue(error(new TestConfig().vxlan(0).network("1000000")).startsWith(PREFIX + "vni is missing (network"
                + " 0000000001000000 does not fit a 24-bit VNI"));

        assertEquals(PREFIX + "switch.address=foo: (no port; expected host or host:port (port 4789 if left out), e.g."
                + " 203.0.113.7, switch.example.org:4789 or [2001:db8::7]:4789 (vxlan mode))",
                error(new TestConfig().vxlan(42).switchAddress("foo:")));

        String mtu = "allowed: 0 (automatic: 1450) or 68..65477, so that the longest frame, MTU + 22 + the 8-byte VXLAN"
                + " header, fits one UDP datagram)";
        assertEquals(PREFIX + "mtu=65478 (" + mtu, error(new TestConfig().vxlan(42).mtu(65478)));
        assertEquals(65477, AgentConfig.validate(new TestConfig().vxlan(42).mtu(65477)).tap().mtu());
        assertEquals(65_507, AgentConfig.MAX_VXLAN_MTU + 22 + 8);
    }

    @Test
    void badNetwork() {
        String why = " (1 to 16 hex digits, e.g. 0 (the default network) or 8056c2e21c000001)";
        assertEquals(PREFIX + "network=xyz" + why, error(new TestConfig().network("xyz")));
        assertEquals(PREFIX + "network=18056c2e21c000001" + why, error(new TestConfig().network("18056c2e21c000001")));
        assertEquals(PREFIX + "network=-1" + why, error(new TestConfig().network("-1")));
    }

    @Test
    void badName() {
        assertEquals(PREFIX + "name=a-name-that-is-too-long-for-a-join (34 bytes of UTF-8; the JOIN carries at"
                + " most 27)", error(new TestConfig().name("a-name-that-is-too-long-for-a-join")));
        // bytes, not characters: 14 two-byte characters are 28 bytes
        String umlauts = "ä".repeat(14);
        assertEquals(PREFIX + "name=" + umlauts + " (28 bytes of UTF-8; the JOIN carries at most 27)",
                error(new TestConfig().name(umlauts)));
        AgentConfig.validate(new TestConfig().name("ä".repeat(13) + "x"));
    }

    @Test
    void badIdentityFile() {
        String m = error(new TestConfig().identityFile("vl2/a\u0000b"));
        assertTrue(m.startsWith(PREFIX + "identity.file=vl2/a"), m);
        assertTrue(m.endsWith(" (not a file path: Nul character not allowed)"), m);
    }

    @Test
    void badIpv4Address() {
        String m = error(new TestConfig().address("10.1.1/24"));
        assertTrue(m.startsWith(PREFIX + "address=10.1.1/24 ('10.1.1/24' is not an IPv4 address (expected an IPv4"
                + " address and prefix length such as 10.1.1.101/24"), m);

        m = error(new TestConfig().address("10.1.1.101"));
        assertTrue(m.startsWith(PREFIX + "address=10.1.1.101 ('10.1.1.101' has no prefix length"), m);

        m = error(new TestConfig().address("10.1.1.101/33"));
        assertTrue(m.startsWith(PREFIX + "address=10.1.1.101/33 ("), m);
        assertTrue(m.contains("prefix 1..32"), m);

        m = error(new TestConfig().address("fd00::1/64"));
        assertTrue(m.startsWith(PREFIX + "address=fd00::1/64 ("), m);
        assertTrue(m.endsWith("; an IPv6 address goes in address6)"), m);
    }

    @Test
    void badIpv6Address() {
        String m = error(new TestConfig().address6("fd00::1"));
        assertTrue(m.startsWith(PREFIX + "address6=fd00::1 ('fd00::1' has no prefix length (expected an IPv6 address"),
                m);

        m = error(new TestConfig().address6("10.1.1.1/24"));
        assertTrue(m.startsWith(PREFIX + "address6=10.1.1.1/24 ('10.1.1.1/24' is not an IPv6 address"), m);

        m = error(new TestConfig().address6("fd00::1/64").mtu(1000));
        assertEquals(PREFIX + "address6=fd00::1/64 (an IPv6 address needs mtu >= 1280 (Linux disables IPv6 below"
                + " that), but mtu is 1000; raise mtu or drop address6)", m);
    }

    @Test
    void badMac() {
        String m = error(new TestConfig().mac("02:00:5e:10:00"));
        assertEquals(PREFIX + "mac=02:00:5e:10:00 (not a MAC address: '02:00:5e:10:00' (expected six hex octets such"
                + " as 02:00:5e:10:00:01))", m);

        m = error(new TestConfig().mac("01:00:5e:00:00:01"));
        assertTrue(m.startsWith(PREFIX + "mac=01:00:5e:00:00:01 (01:00:5e:00:00:01 cannot be an interface address"),
                m);
    }

    @Test
    void badMtu() {
        String raw = "allowed: 0 (automatic: 1454) or 68..65485, so that the longest frame, MTU + 22, fits one UDP"
                + " datagram)";
        assertEquals(PREFIX + "mtu=67 (" + raw, error(new TestConfig().raw().mtu(67)));
        assertEquals(PREFIX + "mtu=65486 (" + raw, error(new TestConfig().raw().mtu(65486)));
        assertEquals(PREFIX + "mtu=-1 (" + raw, error(new TestConfig().raw().mtu(-1)));
        AgentConfig.validate(new TestConfig().raw().mtu(68));
        AgentConfig.validate(new TestConfig().raw().mtu(65485));
        assertEquals(1454, AgentConfig.validate(new TestConfig().raw().mtu(0)).tap().mtu());

        // vl2: the 16-byte header takes room too
        String vl2 = "allowed: 0 (automatic: the network's MTU) or 68..65469, so that the longest frame, MTU + 22 +"
                + " the 16-byte header, fits one UDP datagram)";
        assertEquals(PREFIX + "mtu=65470 (" + vl2, error(new TestConfig().plaintext().mtu(65470)));
        assertEquals(PREFIX + "mtu=67 (" + vl2, error(new TestConfig().plaintext().mtu(67)));
        AgentConfig.validate(new TestConfig().plaintext().mtu(65469));
        assertEquals(65_507, AgentConfig.MAX_VL2_MTU + 22 + 16);

        // encrypted: and the 16-byte tag
        String sealed = "allowed: 0 (automatic: the network's MTU) or 68..65453, so that the longest frame, MTU + 22"
                + " + the 16-byte header + the 16-byte tag, fits one UDP datagram)";
        assertEquals(PREFIX + "mtu=65454 (" + sealed, error(new TestConfig().mtu(65454)));
        assertEquals(PREFIX + "mtu=67 (" + sealed, error(new TestConfig().mtu(67)));
        AgentConfig.validate(new TestConfig().mtu(65453));
        assertEquals(65_507, AgentConfig.MAX_SEALED_MTU + 22 + 16 + 16);
        assertEquals(65_507, AgentConfig.MAX_SEALED_FRAME + 16 + 16);
    }

    @Test
    void encryptionIsOnByDefaultAndTakesTheSwitchKeyInBase64OrHex() {
        String key = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="; // RFC 7748's Alice, as docs/crypto.md shows it
        AgentConfig.Settings s = AgentConfig.validate(new TestConfig().switchKey(" " + key + " "));
        assertTrue(s.encrypted());
        assertEquals(key, Identity.fingerprint(s.switchKey()));
        String hex = HexFormat.of().formatHex(Base64.getDecoder().decode(key));
        assertArrayEquals(s.switchKey(), AgentConfig.validate(new TestConfig().switchKey(hex.toUpperCase())).switchKey());

        // without a key validate passes: the agent says what to do when it starts (PortAgentEncryptedTest)
        assertTrue(AgentConfig.validate(new TestConfig()).encrypted());
        assertNull(AgentConfig.validate(new TestConfig()).switchKey());

        // plaintext, raw and vxlan modes: no encryption, the key is not even looked at
        assertFalse(AgentConfig.validate(new TestConfig().plaintext().switchKey("junk")).encrypted());
        assertNull(AgentConfig.validate(new TestConfig().plaintext().switchKey(key)).switchKey());
        assertFalse(AgentConfig.validate(new TestConfig().raw().switchKey("junk")).encrypted());
        assertFalse(AgentConfig.validate(new TestConfig().vxlan(42).switchKey("junk")).encrypted());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo",
        "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo==",
        "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm!=",
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6",
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6aX",
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6g",
        "0123456789abcdef",
    })
    void aMalformedSwitchKeyNamesTheProperty(String key) {
        assertEquals(PREFIX + "switch.key=" + key + " (not a public key: expected the switch's public key, 44"
                + " characters of base64 or 64 hex digits, as the switch logs it at start ('Switch public key ...')"
                + " and vl2:members shows it)", error(new TestConfig().switchKey(key)));
    }

    @Test
    void theCipherIsAutoOrOneOfTheTwo() {
        assertEquals("auto", AgentConfig.validate(new TestConfig()).cipher().configValue());
        assertEquals("aes-256-gcm", AgentConfig.validate(new TestConfig().cipher("aes-256-gcm")).cipher().configValue());
        assertEquals(PREFIX + "cipher=aes-128-gcm (allowed: auto, aes-256-gcm or chacha20-poly1305)",
                error(new TestConfig().cipher("aes-128-gcm")));
    }

    @Test
    void badTapNameAndBridge() {
        String m = error(new TestConfig().tapName("a-name-too-long-for-linux"));
        assertTrue(m.startsWith(PREFIX + "tap.name=a-name-too-long-for-linux ('a-name-too-long-for-linux' is too long"),
                m);

        m = error(new TestConfig().tapName("vl2/0"));
        assertTrue(m.startsWith(PREFIX + "tap.name=vl2/0 ('vl2/0' contains '/'"), m);

        m = error(new TestConfig().bridge("br%d"));
        assertTrue(m.startsWith(PREFIX + "bridge=br%d ('br%d' contains '%'"), m);
    }
}
