package org.vl2.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.BeforeClass;
import org.junit.Test;
import org.vl2.e2e.Lab.Result;

/**
 * The distribution's launchers, {@code bin/vl2-agent} and {@code bin/vl2-switch}: {@code --help} and usage
 * errors (exit 2, a one-line reason, never a stack trace, nothing written). Needs no root: nothing starts.
 */
public class LauncherUsageIT {

    private static Path dist;

    @BeforeClass
    public static void unpack() throws Exception {
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
                "org.vl2.agent.cfg")) {
            assertTrue("vl2-agent --help mentions " + text + ":\n" + agent.out(), agent.out().contains(text));
        }
        Result sw = launch("vl2-switch", "-h");
        assertEquals(sw.out(), 0, sw.exit());
        for (String text : List.of("Usage: vl2-switch", "--listen ADDR:PORT", "--vl2-listen ADDR:PORT",
                "--network SPEC", "--keepalive S", "--idle-timeout S", "--data DIR", "org.vl2.transport.udp.cfg",
                "org.vl2.transport.vl2.cfg", "org.vl2.network-ID.cfg", "org.vl2.switching.cfg",
                "--vxlan [ADDR:]PORT", "--vxlan-vni VNI=NETWORK", "--vxlan-remote VNI=HOST[:PORT]",
                "org.vl2.transport.vxlan.cfg")) {
            assertTrue("vl2-switch -h mentions " + text + ":\n" + sw.out(), sw.out().contains(text));
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
        assertFalse("a usage error writes nothing", Files.exists(dist.resolve("var")));
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
        bad("vl2-switch", "--vxlan needs a port between 1 and 65535", "--vxlan", "0");
        bad("vl2-switch", "--vxlan: an IPv6 address needs brackets", "--vxlan", "2001:db8::7:4789");
        bad("vl2-switch", "--vxlan-vni and --vxlan-remote need --vxlan", "--vxlan-remote", "42=192.0.2.10");
        bad("vl2-switch", "the VNI must be 1..16777215", "--vxlan", "4789", "--vxlan-vni", "0=2a");
        bad("vl2-switch", "need VNI=VALUE", "--vxlan", ":4789", "--vxlan-remote", "42");
        bad("vl2-switch", "--ssh-port must be between 1 and 65535", "--ssh-port", "70000");
        bad("vl2-switch", "unknown option '--switch'", "--switch", "sw:9990");
        bad("vl2-switch", "unexpected argument 'start'", "start");
        assertFalse("a usage error writes nothing", Files.exists(dist.resolve("var")));
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
