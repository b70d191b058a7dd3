package org.vl2.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;

import javax.inject.Inject;

import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.ops4j.pax.exam.util.Filter;
import org.osgi.service.cm.Configuration;
import org.vl2.api.NetworkInfo;
import org.vl2.api.SwitchService;
import org.vl2.protocol.ErrorCode;

/**
 * Networks defined by factory configurations ({@code org.vl2.network}), created and removed at runtime, and
 * vl2-protocol members joining them over real UDP on loopback: admission, address pool, isolation, and the
 * vl2:networks / vl2:ports --network commands.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NetworksIT extends Vl2TestSupport {

    private static final String BROADCAST = "ff:ff:ff:ff:ff:ff";
    private static final long WAIT = 5_000;

    @Inject
    @Filter(timeout = 30_000)
    private SwitchService switchService;

    /** These tests drive the plaintext protocol (MembersIT the encrypted one). */
    @Override
    protected org.ops4j.pax.exam.Option[] additionalOptions() {
        return options(pidConfig("org.vl2.switching", "allow.plaintext", "true"));
    }

    private final List<Vl2Member> members = new ArrayList<>();
    private final List<Configuration> configurations = new ArrayList<>();

    @After
    public void cleanUp() throws Exception {
        for (Vl2Member m : members) {
            m.close();
        }
        members.clear();
        for (Configuration c : configurations) {
            try {
                c.delete();
            } catch (IllegalStateException alreadyDeleted) {
                // deleted by the test itself
            }
        }
        configurations.clear();
    }

    private Configuration network(String... keyValues) throws Exception {
        Configuration c = configurationAdmin.createFactoryConfiguration("org.vl2.network", "?");
        Dictionary<String, Object> props = new Hashtable<>();
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
        assertTrue(table, table.matches("(?s).*00000000000000a1\\s+lab\\s+1400\\s+learning\\s+0\\s+10\\.147\\.17\\.0/24.*"));

        Vl2Member m = member(0x101);
        assertTrue("joins", m.join(0xa1, null, WAIT));
        assertEquals("10.147.17.1", m.welcome.ipv4().getHostAddress());
        assertEquals(InetAddress.getByName("fd00:147::101"), m.welcome.ipv6());
        String ports = executeCommand("vl2:ports --network a1 --no-format");
        assertTrue(ports, ports.contains("it-101") && ports.contains("10.147.17.1"));
        String leases = executeCommand("vl2:networks --leases --no-format a1");
        assertTrue(leases, leases.matches("(?s).*10\\.147\\.17\\.1\\s+member:0000000000000101\\s+with port.*"));

        c.delete();
        awaitCondition("network a1 gone", () -> switchService.network(0xa1).isEmpty());
        assertTrue("its port went with it", switchService.ports().stream().noneMatch(p -> p.network() == 0xa1));
        assertFalse(m.join(0xa1, null, WAIT));
        assertEquals(ErrorCode.UNKNOWN_NETWORK, m.error.code());
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
        assertTrue(a.join(0xb1, null, WAIT));
        assertTrue(b.join(0xb1, null, WAIT));
        assertTrue(c.join(0xb2, null, WAIT));
        assertEquals("10.2.0.1", c.welcome.ipv4().getHostAddress());

        a.send(BROADCAST, "hello-b1");
        assertNotNull("b gets a's broadcast", b.receiveTagged("hello-b1", WAIT));
        b.send(a.mac, "b-to-a");
        assertNotNull("a gets b's unicast", a.receiveTagged("b-to-a", WAIT));
        c.send(BROADCAST, "hello-b2");
        c.send(a.mac, "c-to-a");
        a.send(BROADCAST, "marker");
        assertNotNull(b.receiveTagged("marker", WAIT));
        assertNull("nothing crosses from b2 to b1", a.receiveTagged("hello-b2", 300));
        assertNull(a.receiveTagged("c-to-a", 300));
        assertNull("nor from b1 to b2", c.receiveTagged("hello-b1", 300));
    }

    @Test
    public void aStaticAddressIsGrantedOnceAndAConflictIsRefusedWithTheReason() throws Exception {
        network("id", "c1", "ipv4.pool", "10.3.0.0/24");
        awaitCondition("network up", () -> switchService.network(0xc1).isPresent());
        Inet4Address wanted = (Inet4Address) InetAddress.getByName("10.3.0.77");
        Vl2Member a = member(0x301);
        assertTrue(a.join(0xc1, wanted, WAIT));
        assertEquals(wanted, a.welcome.ipv4());
        Vl2Member b = member(0x302);
        assertFalse(b.join(0xc1, wanted, WAIT));
        assertEquals(ErrorCode.ADDRESS_CONFLICT, b.error.code());
        assertTrue(b.error.message(), b.error.message().contains("10.3.0.77"));
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
