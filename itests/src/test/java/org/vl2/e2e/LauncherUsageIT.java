package org.vl2.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.BeforeClass;
import org.junit.Test;
import org.vl2.e2e.Lab.Result;

/**
 * The distribution's launchers, {@code bin/vl2-agent} and {@code bin/vl2-switch}: {@code --help} and usage
 * errors (exit 2, a one-line reason, never a stack trace, nothing written), checked before Karaf boots; and one
 * switch that boots and cannot start (its UDP port is taken), which ends with the component's fatal line. Needs no
 * root: the switch listens on loopback only.
 */
public class LauncherUsageIT {

    private static Path dist;

    @BeforeClass
    public static void unpack() throws Exception {
        ClassTurns.share(); // it boots a switch: not beside a class that runs alone
        Path tarball = Path.of(System.getProperty("vl2.assembly", "../karaf-assembly/target/vl2-karaf.tar.gz"));
        assertTrue("the distribution is missing: " + tarball, Files.isRegularFile(tarball));
        dist = Path.of(System.getProperty("vl2.e2e.workDir", "target/e2e")).toAbsolutePath().resolve("usage-dist");
        Lab.deleteTree(dist);
        Files.createDirectories(dist);
        Lab.run(Duration.ofSeconds(120), "tar", "-xzf", tarball.toString(), "-C", dist.toString(),
                "--strip-components=1").check();
    }

    @Test
    public void helpPrintsTheUsageAndExitsZero() {
        Result agent = launch("vl2-agent", "--help");
        assertEquals(agent.out(), 0, agent.exit());
        for (String text : List.of("Usage: vl2-agent --switch HOST[:PORT]", "--mode MODE", "--network ID",
                "--tap NAME", "--address CIDR",
                "--address6 CIDR", "--mtu N", "--mac MAC", "--bridge BR", "--data DIR", "--ssh-port N",
                "--api ADDR:PORT", "org.vl2.agent.cfg", "--no-pairs", "--no-direct")) {
            assertTrue("vl2-agent --help mentions " + text + ":\n" + agent.out(), agent.out().contains(text));
        }
        Result sw = launch("vl2-switch", "-h");
        assertEquals(sw.out(), 0, sw.exit());
        for (String text : List.of("Usage: vl2-switch", "--listen ADDR:PORT", "--vl2-listen ADDR:PORT",
                "--network SPEC", "--keepalive S", "--idle-timeout S", "--data DIR", "org.vl2.transport.udp.cfg",
                "org.vl2.transport.vl2.cfg", "org.vl2.network-ID.cfg", "org.vl2.switching.cfg",
                "--vxlan [ADDR:]PORT", "--vxlan-vni VNI=NETWORK", "--vxlan-remote VNI=HOST[:PORT]",
                "org.vl2.transport.vxlan.cfg", "--raw-network ID", "--vxlan-allow ADDR", "plaintext",
                "default 127.0.0.1:9990", "--api ADDR:PORT|off", "--api-tls self-signed|FILE", "--no-pairs",
                "--no-direct")) {
            assertTrue("vl2-switch -h mentions " + text + ":\n" + sw.out(), sw.out().contains(text));
        }
        for (Result r : List.of(agent, sw)) {
            assertTrue("points to the option texts:\n" + r.out(), r.out().contains("docs/configuration.md"));
            assertFalse("no literal \\n:\n" + r.out(), r.out().contains("\\n"));
        }
    }

    @Test
    public void agentUsageErrorsExitTwoWithTheReason() {
        bad("vl2-agent", "--switch HOST[:PORT] is required");
        bad("vl2-agent", "--mode must be vl2, raw or vxlan", "--switch", "203.0.113.7", "--mode", "tcp");
        bad("vl2-agent", "--network must be 1 to 16 hex digits", "--switch", "203.0.113.7", "--network", "lab");
        bad("vl2-agent", "--network needs --mode vl2 or vxlan", "--switch", "sw", "--mode", "raw", "--network", "a1");
        bad("vl2-agent", "needs a port between 1 and 65535", "--switch", "203.0.113.7:99999");
        bad("vl2-agent", "IPv6 address needs brackets", "--switch", "2001:db8::7:9990");
        bad("vl2-agent", "option --switch needs a value", "--switch");
        bad("vl2-agent", "--mtu must be a number", "--switch", "sw:9990", "--mtu", "big");
        bad("vl2-agent", "--mtu must be between 68 and 65485", "--switch", "sw:9990", "--mtu=20");
        bad("vl2-agent", "--mac must look like", "--switch", "sw:9990", "--mac", "02:00:5e:10:00");
        bad("vl2-agent", "--address must be an IPv4 address with a prefix length", "--switch", "sw:9990",
                "--address", "10.1.1.101");
        bad("vl2-agent", "--address6 must be an IPv6 address with a prefix length", "--switch", "sw:9990",
                "--address6", "fd00::1");
        bad("vl2-agent", "--tap must be at most 15 characters", "--switch", "sw:9990", "--tap", "averyveryverylongname");
        bad("vl2-agent", "--ssh-port must be between 1 and 65535", "--switch", "sw:9990", "--ssh-port", "0");
        bad("vl2-agent", "--api must be HOST:PORT", "--switch", "sw:9990", "--api", "8182");
        bad("vl2-agent", "--api and --ssh-port both name port 8103", "--switch", "sw:9990", "--ssh-port", "8103",
                "--api", "127.0.0.1:8103");
        bad("vl2-agent", "--api-tls needs --api ADDR:PORT", "--switch", "sw:9990", "--api-tls", "self-signed");
        bad("vl2-agent", "unknown option '--bogus'", "--switch", "sw:9990", "--bogus");
        bad("vl2-agent", "unexpected argument 'now'", "--switch", "sw:9990", "now");
        bad("vl2-agent", "--switch-key KEY is required in vl2 mode", "--switch", "sw");
        bad("vl2-agent", "or --trust-on-first-use to pin the key the switch presents on first contact", "--switch", "sw");
        bad("vl2-agent", "--trust-on-first-use and --switch-key exclude each other", "--switch", "sw", "--switch-key",
                "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=", "--trust-on-first-use");
        bad("vl2-agent", "--trust-on-first-use needs --mode vl2", "--switch", "sw", "--mode", "raw",
                "--trust-on-first-use");
        bad("vl2-agent", "--trust-on-first-use and --no-encryption exclude each other", "--switch", "sw",
                "--no-encryption", "--trust-on-first-use");
        bad("vl2-agent", "--no-pairs needs encrypted vl2 mode", "--switch", "sw", "--mode", "raw", "--no-pairs");
        bad("vl2-agent", "--no-direct needs encrypted vl2 mode", "--switch", "sw", "--no-encryption", "--no-direct");
        assertFalse("a usage error writes nothing", Files.exists(dist.resolve("var")));
    }

    /** Several networks in one agent: --network repeated, as an id or a spec with its own TAP settings. */
    @Test
    public void agentNetworkSpecsAreCheckedBeforeKarafBoots() {
        String key = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
        bad("vl2-agent", "--network: unknown or malformed item 'color=red' in 'id=2a,color=red' (keys: id, tap,"
                + " address, address6, mac, mtu, bridge, vni)", "--switch", "sw", "--switch-key", key, "--network",
                "id=2a,color=red");
        bad("vl2-agent", "--network needs id=1 to 16 hex digits", "--switch", "sw", "--switch-key", key, "--network",
                "tap=vl2a");
        bad("vl2-agent", "--masquerade needs --gateway", "--switch", "sw", "--switch-key", key, "--masquerade", "lo");
        bad("vl2-agent", "--masquerade: there is no interface nosuchif9 on this host", "--switch", "sw",
                "--switch-key", key, "--gateway", "--masquerade", "nosuchif9");
        bad("vl2-agent", "--accept-routes and --accept-default-route need encrypted vl2 mode", "--switch", "sw",
                "--no-encryption", "--accept-routes");
        bad("vl2-agent", "--network: network 2a is given twice", "--switch", "sw", "--switch-key", key, "--network",
                "2a", "--network", "id=0X2A,tap=x");
        bad("vl2-agent", "--network id=2b: TAP name vl2a is given twice", "--switch", "sw", "--switch-key", key,
                "--network", "id=2a,tap=vl2a", "--network", "id=2b,tap=vl2a");
        bad("vl2-agent", "--tap is for one network: with several --network flags give tap= in each", "--switch", "sw",
                "--switch-key", key, "--network", "2a", "--network", "2b", "--tap", "vl2a");
        bad("vl2-agent", "--address is for one network", "--switch", "sw", "--switch-key", key, "--network", "2a",
                "--network", "2b", "--address", "10.1.1.1/24");
        bad("vl2-agent", "--network id=2b: mtu must be between 68 and 65485, got '9'", "--switch", "sw",
                "--switch-key", key, "--network", "2a", "--network", "id=2b,mtu=9");
        bad("vl2-agent", "--network id=2a: address must be an IPv4 address with a prefix length", "--switch", "sw",
                "--switch-key", key, "--network", "id=2a,address=10.1.1.1");
        bad("vl2-agent", "--mode vxlan takes one --network: one agent process has one VXLAN endpoint", "--switch",
                "sw", "--mode", "vxlan", "--network", "2a", "--network", "2b");
        bad("vl2-agent", "--network needs --mode vl2 or vxlan", "--switch", "sw", "--mode", "raw", "--network",
                "id=2a,tap=x");
        assertFalse("a usage error writes nothing", Files.exists(dist.resolve("var")));
    }

    /**
     * One factory configuration per network, org.vl2.agent-ID.cfg, with the network's own TAP settings (the start
     * then ends at once: JAVA_HOME has no java, after the files are written).
     */
    @Test
    public void agentWritesOneFactoryConfigurationPerNetwork() throws Exception {
        Path data = dist.getParent().resolve("usage-agent-networks");
        Lab.deleteTree(data);
        Result r = Lab.run(Duration.ofSeconds(30), null, List.of(dist.resolve("bin/vl2-agent").toString(), "--switch",
                "203.0.113.7", "--no-encryption", "--mtu", "1400", "--network",
                "id=0X2A,tap=vl2a,address=10.42.0.13/24",
                "--network", "2b", "--data", data.toString()), Map.of("JAVA_HOME", "/nonexistent"));
        assertEquals(r.out(), 1, r.exit());
        assertTrue(r.out(), r.out().contains("JAVA_HOME=/nonexistent has no bin/java"));
        List<String> a = Files.readAllLines(data.resolve("etc/org.vl2.agent-2a.cfg"));
        assertTrue(String.join("\n", a), a.containsAll(List.of("switch.address = 203.0.113.7:9991",
                "encryption = false",
                "network = 2a", "tap.name = vl2a", "address = 10.42.0.13/24", "mtu = 1400")));
        List<String> b = Files.readAllLines(data.resolve("etc/org.vl2.agent-2b.cfg"));
        assertTrue(String.join("\n", b), b.containsAll(List.of("network = 2b", "tap.name = vl2-2b", "mtu = 1400")));
        assertFalse(String.join("\n", b), b.stream().anyMatch(l -> l.startsWith("address")));
        assertFalse("no plain configuration", Files.exists(data.resolve("etc/org.vl2.agent.cfg")));
        // one network: the TAP device stays vl2tap0, as before
        r = Lab.run(Duration.ofSeconds(30), null, List.of(dist.resolve("bin/vl2-agent").toString(), "--switch",
                "203.0.113.7", "--no-encryption", "--data", data.toString()), Map.of("JAVA_HOME", "/nonexistent"));
        assertEquals(r.out(), 1, r.exit());
        assertTrue(Files.readAllLines(data.resolve("etc/org.vl2.agent-0.cfg")).contains("tap.name = vl2tap0"));
        assertFalse("pair keys and direct paths on unless --no-pairs, --no-direct",
                Files.readAllLines(data.resolve("etc/org.vl2.agent-0.cfg")).stream()
                        .anyMatch(l -> l.startsWith("pairs") || l.startsWith("direct")));
        r = Lab.run(Duration.ofSeconds(30), null, List.of(dist.resolve("bin/vl2-agent").toString(), "--switch",
                "203.0.113.7", "--trust-on-first-use", "--no-pairs", "--no-direct", "--data", data.toString()),
                Map.of("JAVA_HOME", "/nonexistent"));
        assertEquals(r.out(), 1, r.exit());
        assertTrue(Files.readAllLines(data.resolve("etc/org.vl2.agent-0.cfg")).contains("pairs = false"));
        assertTrue(Files.readAllLines(data.resolve("etc/org.vl2.agent-0.cfg")).contains("direct = false"));
    }

    /**
     * The instance's login (docs/security.md, "Local access and credentials"): the first start generates its password
     * (0600; users.properties gets the SHA-256 only) and keeps it; an agent without --ssh-port turns Karaf's ssh server
     * off, with it bin/vl2-client finds the port; bin/vl2-client's usage errors (exit 2) and the instances it cannot
     * open (exit 1, the reason). The starts end at once: JAVA_HOME has no java, after the files are written.
     */
    @Test
    public void instancesHaveTheirOwnLoginAndTheClientFindsIt() throws Exception {
        Result help = launch("vl2-client", "--help");
        assertEquals(help.out(), 0, help.exit());
        assertTrue(help.out(), help.out().contains("Usage: vl2-client [--data DIR | --agent]")
                && help.out().contains("--ssh-port N"));
        bad("vl2-client", "option --data needs a value", "--data");
        Result none = launch("vl2-client", "--data", dist.resolve("nonexistent").toString(), "vl2:ports");
        assertEquals(none.out(), 1, none.exit());
        assertTrue(none.out(), none.out().contains("vl2-client: no instance directory " + dist.resolve("nonexistent")));

        Path data = dist.getParent().resolve("usage-agent-login");
        Lab.deleteTree(data);
        List<String> agent = List.of(dist.resolve("bin/vl2-agent").toString(), "--switch", "203.0.113.7",
                "--no-encryption", "--data", data.toString());
        Result r = Lab.run(Duration.ofSeconds(30), null, agent, Map.of("JAVA_HOME", "/nonexistent"));
        assertEquals(r.out(), 1, r.exit());
        assertTrue(r.out(), r.out().contains("vl2-agent: generated the shell password of user karaf: " + data
                + "/client/users.properties"));
        Path secret = data.resolve("client/users.properties");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
        String password = Files.readAllLines(secret).stream().filter(l -> l.startsWith("karaf = ")).findFirst()
                .orElseThrow().substring("karaf = ".length());
        List<String> users = Files.readAllLines(data.resolve("etc/users.properties"));
        assertTrue(String.join("\n", users), users.stream().anyMatch(l -> l.matches(
                "karaf = \\{CRYPT\\}[0-9a-f]{64}\\{CRYPT\\},_g_:admingroup"))
                && users.stream().noneMatch(l -> l.contains(password)));
        assertTrue(Files.readAllLines(data.resolve("etc/org.apache.karaf.jaas.cfg")).contains("encryption.enabled = true"));
        assertTrue("no ssh server", Files.readAllLines(data.resolve("etc/system.properties"))
                .contains("karaf.override.karaf.startRemoteShell = false"));
        assertTrue("no shutdown port", Files.readAllLines(data.resolve("etc/config.properties"))
                .contains("karaf.shutdown.port = -1"));
        Result noShell = launch("vl2-client", "--data", data.toString(), "vl2:agent");
        assertEquals(noShell.out(), 1, noShell.exit());
        assertTrue(noShell.out(), noShell.out().contains("runs without a shell: start it with --ssh-port N"));
        // nobody can reach a shell: the agent boots pre-resolved, its bundles (and no shell's) as startup bundles,
        // no boot features to resolve (footprint, boot time)
        assertEquals(List.of(), bootFeatures(data));
        List<String> startup = Files.readAllLines(data.resolve("etc/startup.properties"));
        assertTrue(String.join("\n", startup), startup.stream().anyMatch(l -> l.startsWith("mvn\\:org.vl2/vl2-agent/"))
                && startup.stream().anyMatch(l -> l.startsWith("mvn\\:org.apache.felix/org.apache.felix.scr/"))
                && startup.stream().noneMatch(l -> l.contains("shell") || l.contains("sshd") || l.contains("jaas")
                        || l.contains("features.core")));

        // again, with a shell: the same password; the client's copy of the shell settings
        List<String> withShell = new ArrayList<>(agent);
        withShell.addAll(List.of("--ssh-port", "18103"));
        r = Lab.run(Duration.ofSeconds(30), null, withShell, Map.of("JAVA_HOME", "/nonexistent"));
        assertEquals(r.out(), 1, r.exit());
        assertFalse(r.out(), r.out().contains("generated"));
        assertTrue("kept", Files.readAllLines(secret).contains("karaf = " + password));
        assertTrue(Files.readAllLines(data.resolve("client/org.apache.karaf.shell.cfg"))
                .containsAll(List.of("sshPort = 18103", "sshHost = 127.0.0.1")));
        assertFalse(Files.readString(data.resolve("etc/system.properties")).contains("startRemoteShell"));
        List<String> boot = bootFeatures(data);
        assertTrue(boot.toString(), boot.get(0).equals("vl2-agent") && boot.containsAll(List.of("ssh", "shell", "scr")));
        assertTrue("features, not startup bundles", Files.readAllLines(data.resolve("etc/startup.properties")).stream()
                .noneMatch(l -> l.contains("vl2-agent")));
        bad("vl2-agent", "--ssh-port must be a number, got 'on'", "--switch", "sw:9990", "--ssh-port", "on");

        // a plaintext password in the installation's users.properties: a warning (the instance's copy gets hashed)
        Path installed = dist.resolve("etc/users.properties");
        String shipped = Files.readString(installed);
        try {
            Files.writeString(installed, shipped + "alice = chosen,_g_:admingroup\n");
            r = Lab.run(Duration.ofSeconds(30), null, agent, Map.of("JAVA_HOME", "/nonexistent"));
            assertTrue(r.out(), r.out().contains("vl2-agent: warning: " + installed
                    + " holds a plaintext password (user alice): write its SHA-256 instead"));
        } finally {
            Files.writeString(installed, shipped);
        }
        assertEquals("the installation's users.properties is made 0600", "rw-------",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(installed)));
    }

    /** The names in featuresBoot of an instance's etc/org.apache.karaf.features.cfg (versions cut off), in order. */
    private static List<String> bootFeatures(Path data) throws IOException {
        List<String> names = new ArrayList<>();
        boolean in = false;
        for (String line : Files.readAllLines(data.resolve("etc/org.apache.karaf.features.cfg"))) {
            if (!in && !line.matches("featuresBoot\\s*[=:].*")) { // not featuresBootAsynchronous
                continue;
            }
            String entries = in ? line : line.substring(line.indexOf('=') + 1);
            for (String e : entries.replace("\\", "").split(",")) {
                if (!e.isBlank()) {
                    names.add(e.strip().replaceAll("/.*", ""));
                }
            }
            in = line.endsWith("\\");
            if (!in) {
                break;
            }
        }
        return names;
    }

    @Test
    public void switchUsageErrorsExitTwoWithTheReason() {
        bad("vl2-switch", "--listen must be HOST:PORT", "--listen", "9990");
        bad("vl2-switch", "needs a port between 1 and 65535", "--listen", "0.0.0.0:0");
        bad("vl2-switch", "--idle-timeout must be a number", "--idle-timeout", "-3");
        bad("vl2-switch", "--vl2-listen must be HOST:PORT", "--vl2-listen", "9991");
        bad("vl2-switch", "--keepalive must be between 1 and 3600", "--keepalive", "0");
        bad("vl2-switch", "--network needs id=1 to 16 hex digits", "--network", "name=lab,pool=10.0.0.0/24");
        bad("vl2-switch", "unknown or malformed item 'color=red'", "--network", "id=a1,color=red");
        bad("vl2-switch", "ip.guard=true needs pool=CIDR", "--network", "id=a1,ip.guard=true");
        bad("vl2-switch", "--network id=a1: route=10.9.0.0/16@10.0.1.5: gateway 10.0.1.5 must be an address inside"
                + " pool 10.0.0.0/24", "--network", "id=a1,pool=10.0.0.0/24,route=10.9.0.0/16@10.0.1.5");
        bad("vl2-switch", "route=10.9.0.1/16@10.0.0.5: '10.9.0.1/16' has host bits set", "--network",
                "id=a1,pool=10.0.0.0/24,route=10.9.0.1/16@10.0.0.5");
        bad("vl2-switch", "route=10.9.0.0/16: expected CIDR@GATEWAY[@METRIC]", "--network",
                "id=a1,pool=10.0.0.0/24,route=10.9.0.0/16");
        bad("vl2-switch", "ip.guard must be true or false", "--network", "id=a1,pool=10.0.0.0/24,ip.guard=yes");
        bad("vl2-switch", "--vxlan needs a port between 1 and 65535", "--vxlan", "0");
        bad("vl2-switch", "--vxlan: an IPv6 address needs brackets", "--vxlan", "2001:db8::7:4789");
        bad("vl2-switch", "--vxlan-vni and --vxlan-remote need --vxlan", "--vxlan-remote", "42=192.0.2.10");
        bad("vl2-switch", "(so does --vxlan-allow)", "--vxlan-allow", "192.0.2.10");
        bad("vl2-switch", "--vxlan-allow needs an IPv4 or IPv6 address", "--vxlan", "4789", "--vxlan-allow", "vtep-1");
        bad("vl2-switch", "--raw-network must be 1 to 16 hex digits", "--raw-network", "raw");
        bad("vl2-switch", "--api must be HOST:PORT", "--api", "8181");
        bad("vl2-switch", "--api and --ssh-port both name port 8102", "--api", "127.0.0.1:8102");
        bad("vl2-switch", "--api-tls needs the API", "--api", "off", "--api-tls", "self-signed");
        bad("vl2-switch", "--api-tls: no readable keystore file '/nonexistent/api.p12'", "--api-tls",
                "/nonexistent/api.p12");
        bad("vl2-switch", "--api-tls " + dist.resolve("bin/vl2-inc") + ": set the keystore's password in the "
                + "environment variable VL2_API_TLS_PASSWORD", "--api-tls", dist.resolve("bin/vl2-inc").toString());
        bad("vl2-switch", "private=true and plaintext=true exclude each other", "--network",
                "id=c3,private=true,plaintext=true");
        bad("vl2-switch", "--network id=2a: plaintext must be true or false", "--network", "id=2a,plaintext=yes");
        bad("vl2-switch", "the VNI must be 1..16777215", "--vxlan", "4789", "--vxlan-vni", "0=2a");
        bad("vl2-switch", "need VNI=VALUE", "--vxlan", ":4789", "--vxlan-remote", "42");
        bad("vl2-switch", "--ssh-port must be between 1 and 65535", "--ssh-port", "70000");
        bad("vl2-switch", "unknown option '--switch'", "--switch", "sw:9990");
        bad("vl2-switch", "unexpected argument 'start'", "start");
        assertFalse("a usage error writes nothing", Files.exists(dist.resolve("var")));
    }

    /** What the switch checks in --network and --member is checked before Karaf boots, with the switch's words. */
    @Test
    public void switchChecksNetworksBeforeKarafBoots() {
        bad("vl2-switch", "--network id=2a: pool=10.0.0.0/33: not an IPv4 CIDR: '10.0.0.0/33'", "--network",
                "id=2a,pool=10.0.0.0/33");
        bad("vl2-switch", "pool=10.0.0.1/24 has host bits set (expected the network address: 10.0.0.0/24)",
                "--network", "id=2a,pool=10.0.0.1/24");
        bad("vl2-switch", "prefix length /31 is not supported", "--network", "id=2a,pool=10.0.0.0/31");
        bad("vl2-switch", "10.0.1.1 is not a host address of 10.0.0.0/24", "--network",
                "id=2a,pool=10.0.0.0/24,range=10.0.0.5-10.0.1.1");
        bad("vl2-switch", "range=10.0.0.9-10.0.0.5 is reversed", "--network",
                "id=2a,pool=10.0.0.0/24,range=10.0.0.9-10.0.0.5");
        bad("vl2-switch", "range=10.0.0.1-10.0.0.2 needs pool=CIDR", "--network", "id=2a,range=10.0.0.1-10.0.0.2");
        bad("vl2-switch", "gateway=10.0.1.1 must be an address inside pool 10.0.0.0/24", "--network",
                "id=2a,pool=10.0.0.0/24,gateway=10.0.1.1");
        bad("vl2-switch", "--network id=2a: mtu must be between 576 and 9000, got '100'", "--network",
                "id=2a,mtu=100");
        bad("vl2-switch", "--network id=2a: dhcp must be true or false, got 'yes'", "--network", "id=2a,dhcp=yes");
        bad("vl2-switch", "--network id=2a: ipv6 must be an IPv6 /64 prefix", "--network", "id=2a,ipv6=fd00::/48");
        bad("vl2-switch", "--network id=2a: dns must be an IPv4 address", "--network", "id=2a,dns=10.0.0.256");
        bad("vl2-switch", "--network id=2a: policy must be a policy name", "--network", "id=2a,policy=Hub");
        // '&' and '|' reach no sed replacement: the name is refused as given
        bad("vl2-switch", "--network id=2a: name must be letters, digits, '.', '_' or '-' (up to 63, starting with a "
                + "letter or digit), got 'a&b'", "--network", "id=2a,name=a&b");
        bad("vl2-switch", "got 'lab|x'", "--network", "id=2a,name=lab|x");
        // one spelling of a network id: 0X2A, 0x002a and 2a are the same network
        bad("vl2-switch", "--network: network 2a is given twice", "--network", "id=0X2A", "--network", "id=0x002a");
        bad("vl2-switch", "--member 2b=x: network 2b is not defined by a --network flag", "--network", "id=2a",
                "--member", "2b=x");
        bad("vl2-switch", "'abc' is not a member: a public key", "--network", "id=0X2A", "--member", "2a=abc");
        bad("vl2-agent", "--address must be an IPv4 address with a prefix length", "--switch", "sw:9990", "--address",
                "10.1.1.300/24");
        assertFalse("a usage error writes nothing", Files.exists(dist.resolve("var")));
    }

    /** set -f: a value is taken as given, never expanded to the file names of the working directory. */
    @Test
    public void optionValuesDoNotGlob() {
        Result r = Lab.run(Duration.ofSeconds(30), null, List.of("sh", "-c",
                "cd \"$0\" && exec bin/vl2-switch \"$@\"", dist.toString(), "--network", "id=2a,*"),
                Map.of("JAVA_HOME", System.getProperty("java.home")));
        assertEquals(r.out(), 2, r.exit());
        assertTrue(r.out(), r.out().contains("unknown or malformed item '*' in 'id=2a,*'"));
    }

    /**
     * A start that fails for a reason only the switch can see (its raw UDP port is taken): the component's ERROR on
     * the logger org.vl2.fatal stops the instance, and the launcher's last line names that cause. The console has
     * vl2's lines only (no Karaf warnings, no Felix SCR echoes, no stack trace), and without JAVA_HOME no "JAVA_HOME
     * not set" either. The network id is written in its one spelling (0X2A: org.vl2.network-2a.cfg, id = 2a).
     */
    @Test
    public void aSwitchThatCannotStartEndsWithTheFatalLine() throws Exception {
        Path data = dist.getParent().resolve("usage-fatal-switch");
        Lab.deleteTree(data);
        String key = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            int port = taken.getLocalPort();
            String javaBin = Path.of(System.getProperty("java.home"), "bin").toString();
            Result r = Lab.run(LabKit.BOOT, null, List.of("env", "-u", "JAVA_HOME",
                    "PATH=" + javaBin + ":/usr/sbin:/usr/bin:/sbin:/bin", dist.resolve("bin/vl2-switch").toString(),
                    "--listen", "127.0.0.1:" + port, "--vl2-listen", "127.0.0.1:" + freeUdpPort(), "--ssh-port",
                    String.valueOf(freeTcpPort()), "--data", data.toString(), "--network",
                    "id=0X2A,name=lab,pool=10.0.0.0/24", "--member", "0x002a=" + key), null);
            String[] lines = r.out().strip().split("\n");
            String last = lines[lines.length - 1];
            assertEquals("exit status 1:\n" + r.out(), 1, r.exit());
            assertTrue("the last line names the cause:\n" + r.out(), last.startsWith(
                    "vl2-switch: did not start: udp transport: cannot listen on UDP 127.0.0.1:" + port));
            assertTrue("the component's ERROR on the console:\n" + r.out(),
                    r.out().matches("(?s).*ERROR .*fatal: udp transport: cannot listen.*"));
            for (String noise : List.of("JAVA_HOME not set", "Exception", "\tat ", "FrameworkEvent", "bundle org.vl2",
                    "JMX")) {
                assertFalse("no '" + noise + "' on the console:\n" + r.out(), r.out().contains(noise));
            }
            assertEquals("the fatal file has the cause", last.substring("vl2-switch: did not start: ".length()),
                    Files.readAllLines(data.resolve("data/log/vl2-fatal.log")).get(0));
        }
        Path cfg = data.resolve("etc/org.vl2.network-2a.cfg");
        assertTrue("the network file has the normalised id: " + cfg, Files.isRegularFile(cfg));
        List<String> lines = Files.readAllLines(cfg);
        assertTrue(String.join("\n", lines), lines.contains("id = 2a") && lines.contains("members = " + key)
                && lines.contains("name = lab"));
        try (var files = Files.list(data.resolve("etc"))) {
            assertFalse("no other spelling", files.anyMatch(f -> f.getFileName().toString().contains("0X2A")
                    || f.getFileName().toString().contains("002a")));
        }
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            return s.getLocalPort();
        }
    }

    private static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void bad(String launcher, String reason, String... args) {
        Result r = launch(launcher, args);
        String what = launcher + " " + String.join(" ", args) + ":\n" + r.out();
        assertEquals("exit status of " + what, 2, r.exit());
        assertTrue("says " + reason + ": " + what, r.out().contains(reason));
        assertTrue("points to --help: " + what, r.out().contains("Try '" + launcher + " --help'."));
        assertFalse("no stack trace: " + what, r.out().contains("Exception") || r.out().contains("\tat "));
    }

    private static Result launch(String launcher, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(dist.resolve("bin").resolve(launcher).toString());
        cmd.addAll(List.of(args));
        return Lab.run(Duration.ofSeconds(30), null, cmd, Map.of("JAVA_HOME", System.getProperty("java.home")));
    }
}
