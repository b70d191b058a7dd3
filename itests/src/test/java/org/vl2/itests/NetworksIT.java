package org.vl2.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerSuite;
import org.osgi.service.cm.Configuration;
import org.vl2.api.NetworkInfo;
import org.vl2.protocol.ErrorCode;

/**
 * Networks defined by factory configurations ({@code org.vl2.network}), created and removed at runtime, and
 * vl2-protocol members joining them over real UDP on loopback: admission, address pool, isolation, and the
 * vl2:networks / vl2:ports --network commands.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerSuite.class)
public class NetworksIT extends Vl2TestSupport {

    // These tests drive the plaintext protocol (MembersIT the encrypted one): the networks they create are open to
    // plaintext (network() adds plaintext=true). The networks a test creates are gone before the next test starts.

    private final List<Vl2Member> members = new ArrayList<>();
    private final List<Configuration> configurations = new ArrayList<>();

    @After
    public void cleanUp() throws Exception {
        for (Vl2Member m : members) {
            m.close();
        }
        members.clear();
        List<Long> ids = new ArrayList<>();
        for (Configuration c : configurations) {
            try {
                Object id = c.getProperties().get("id");
                c.delete();
                ids.add(Long.parseLong(String.valueOf(id), 16));
            } catch (IllegalStateException alreadyDeleted) {
                // deleted by the test itself
            } catch (NumberFormatException invalidId) {
                // never was a network
            }
        }
        configurations.clear();
        // deleting a configuration removes its network asynchronously: a later test may define the same id
        awaitCondition("networks " + ids + " removed", () -> ids.stream()
                .allMatch(id -> switchService.network(id).isEmpty()));
    }

    private Configuration network(String... keyValues) throws Exception {
        Configuration c = configurationAdmin.createFactoryConfiguration("org.vl2.network", "?");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("plaintext", "true");
        for (int i = 0; i < keyValues.length; i += 2) {
            props.put(keyValues[i], keyValues[i + 1]);
        }
        c.update(props);
        configurations.add(c);
        return c;
    }

    private Vl2Member member(long id) throws Exception {
        Vl2Member m = new Vl2Member(id, String.format("02:00:00:00:%02x:%02x", id >> 8 & 0xff, id & 0xff),
                vl2TransportPort());
        members.add(m);
        return m;
    }

    @Test
    public void aNetworkConfigurationCreatesTheNetworkAndDeletingItRemovesItAndItsPorts() throws Exception {
        Configuration c = network("id", "a1", "name", "lab", "ipv4.pool", "10.147.17.0/24", "ipv6.prefix",
                "fd00:147::/64");
        awaitCondition("network a1 up", () -> switchService.network(0xa1).isPresent());
        NetworkInfo n = switchService.network(0xa1).get();
        assertEquals("lab", n.name());
        assertEquals(1400, n.mtu());
        assertTrue(n.dhcp());
        String table = executeCommand("vl2:networks --no-format");
        assertTrue(table, table.matches("(?s).*00000000000000a1\\s+lab\\s+plaintext\\s+1400\\s+learning\\s+0\\s+10\\.147\\.17\\.0/24.*"));
        assertTrue("the built-in network of raw ports:\n" + table,
                table.matches("(?s).*ffffffffffffffff\\s+raw\\s+plaintext\\s+1400.*"));

        Vl2Member m = member(0x101);
        assertTrue("joins", m.join(0xa1, null, WAIT));
        assertEquals("10.147.17.1", m.welcome.ipv4().getHostAddress());
        // a plaintext member's interface id is a hash of the id it claims (docs/protocol.md), never the id itself
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        sha.update("vl2 plaintext member ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        byte[] ipv6 = InetAddress.getByName("fd00:147::").getAddress();
        System.arraycopy(sha.digest(java.nio.ByteBuffer.allocate(8).putLong(0x101).array()), 0, ipv6, 8, 8);
        assertEquals(InetAddress.getByAddress(ipv6), m.welcome.ipv6());
        String ports = executeCommand("vl2:ports --network a1 --no-format");
        assertTrue(ports, ports.contains("it-101") && ports.contains("10.147.17.1"));
        String leases = executeCommand("vl2:networks --leases --no-format a1");
        assertTrue(leases, leases.matches("(?s).*10\\.147\\.17\\.1\\s+plaintext:0000000000000101\\s+with port.*"));

        c.delete();
        awaitCondition("network a1 gone", () -> switchService.network(0xa1).isEmpty());
        awaitCondition("its port went with it", () -> switchService.ports().stream()
                .noneMatch(p -> p.network() == 0xa1));
        assertFalse(m.join(0xa1, null, WAIT));
        assertEquals(ErrorCode.UNKNOWN_NETWORK, m.error.code());
    }

    @Test
    public void closingANetworkToPlaintextCutsItsPlaintextMembersOffAndRefusesThemFromThenOn() throws Exception {
        Configuration c = network("id", "e1");
        awaitCondition("network e1 up", () -> switchService.network(0xe1).isPresent());
        assertEquals(NetworkInfo.PLAINTEXT, switchService.network(0xe1).get().access());
        Vl2Member m = member(0x501);
        assertTrue(m.join(0xe1, null, WAIT));
        Dictionary<String, Object> props = c.getProperties();
        props.put("plaintext", "false");
        c.update(props);
        awaitCondition("e1 sealed and its plaintext member cut off", () -> NetworkInfo.SEALED.equals(
                switchService.network(0xe1).get().access()) && switchService.ports().stream()
                .noneMatch(p -> p.network() == 0xe1));
        assertFalse(m.join(0xe1, null, WAIT));
        assertEquals(ErrorCode.NOT_AUTHORIZED, m.error.code());
    }

    @Test
    public void membersOfOneNetworkTalkAndFramesNeverCrossToAnother() throws Exception {
        network("id", "b1", "ipv4.pool", "10.1.0.0/24");
        network("id", "b2", "ipv4.pool", "10.2.0.0/24");
        awaitCondition("networks up", () -> switchService.network(0xb1).isPresent()
                && switchService.network(0xb2).isPresent());
        Vl2Member a = member(0x201);
        Vl2Member b = member(0x202);
        Vl2Member c = member(0x203);
        Vl2Member d = member(0x204); // c's neighbour in b2: sends c the marker that ends its negative check
        assertTrue(a.join(0xb1, null, WAIT));
        assertTrue(b.join(0xb1, null, WAIT));
        assertTrue(c.join(0xb2, null, WAIT));
        assertEquals("10.2.0.1", c.welcome.ipv4().getHostAddress());
        assertTrue(d.join(0xb2, null, WAIT));

        a.send(BROADCAST, "hello-b1");
        assertNotNull("b gets a's broadcast", b.receiveTagged("hello-b1", WAIT));
        b.send(a.mac, "b-to-a");
        assertNotNull("a gets b's unicast", a.receiveTagged("b-to-a", WAIT));
        c.send(BROADCAST, "hello-b2");
        c.send(a.mac, "c-to-a");
        a.send(BROADCAST, "marker");
        assertNotNull(b.receiveTagged("marker", WAIT));
        // b answers after c's frames were handled (they were sent before a's marker): whatever of them crossed to a
        // is ahead of b's marker
        b.send(BROADCAST, "marker-b");
        List<String> atA = tags(a.receiveUntil("marker-b", WAIT));
        assertFalse("nothing crosses from b2 to b1: " + atA, atA.contains("hello-b2"));
        assertFalse(atA.toString(), atA.contains("c-to-a"));
        d.send(BROADCAST, "marker-d"); // long after a's and b's frames in b1 were handled
        List<String> atC = tags(c.receiveUntil("marker-d", WAIT));
        assertFalse("nor from b1 to b2: " + atC, atC.contains("hello-b1"));
        assertFalse(atC.toString(), atC.contains("b-to-a") || atC.contains("marker") || atC.contains("marker-b"));
    }

    private static List<String> tags(List<byte[]> frames) {
        return frames.stream().map(Frames::tag).collect(Collectors.toList());
    }

    @Test
    public void aStaticAddressIsGrantedOnceAndAConflictIsRefusedWithAGenericReason() throws Exception {
        network("id", "c1", "ipv4.pool", "10.3.0.0/24");
        awaitCondition("network up", () -> switchService.network(0xc1).isPresent());
        Inet4Address wanted = (Inet4Address) InetAddress.getByName("10.3.0.77");
        Vl2Member a = member(0x301);
        assertTrue(a.join(0xc1, wanted, WAIT));
        assertEquals(wanted, a.welcome.ipv4());
        Vl2Member b = member(0x302);
        assertFalse(b.join(0xc1, wanted, WAIT));
        assertEquals(ErrorCode.ADDRESS_CONFLICT, b.error.code());
        // an unauthenticated answer names neither the address nor its holder (the switch's log says both)
        assertEquals("address in use or outside the network", b.error.message());
    }

    @Test
    public void anInvalidNetworkConfigurationIsRefusedWithAClearError() throws Exception {
        network("id", "d1", "ipv4.pool", "10.4.0.1/24");
        awaitLog("ipv4.pool=10.4.0.1/24");
        assertTrue(switchService.network(0xd1).isEmpty());
        network("id", "not-hex");
        awaitLog("id='not-hex'");
    }
}
