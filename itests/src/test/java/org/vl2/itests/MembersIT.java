package org.vl2.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;

import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerSuite;
import org.osgi.service.cm.Configuration;
import org.vl2.crypto.CipherPolicy;
import org.vl2.crypto.Identity;
import org.vl2.protocol.ErrorCode;

/**
 * Private networks over real UDP: encrypted members (docs/crypto.md) admitted only once {@code vl2:members}
 * authorizes them, sealed frames between them, and a deauthorized member cut off at once.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerSuite.class)
public class MembersIT extends Vl2TestSupport {

    /** Network e1: an id no other class uses, so that no earlier definition of it can still be on its way out. */
    private static final long NETWORK = 0xe1;

    private final List<Vl2Member> members = new ArrayList<>();
    private Configuration network;

    @After
    public void cleanUp() throws Exception {
        for (Vl2Member m : members) {
            m.close();
        }
        if (network != null) {
            network.delete();
            awaitCondition("network e1 removed", () -> switchService.network(NETWORK).isEmpty());
        }
    }

    private Vl2Member member(int n) throws Exception {
        Vl2Member m = new Vl2Member(n, String.format("02:00:00:00:07:%02x", n), vl2TransportPort());
        members.add(m);
        return m;
    }

    @Test
    public void onlyAuthorizedMembersJoinAPrivateNetworkAndDeauthorizingCutsThemOff() throws Exception {
        network = configurationAdmin.createFactoryConfiguration("org.vl2.network", "?");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("id", "e1");
        props.put("name", "secret");
        props.put("private", "true");
        props.put("ipv4.pool", "10.9.0.0/24");
        network.update(props);
        awaitCondition("network e1", () -> switchService.network(NETWORK).isPresent());
        byte[] switchKey = Identity.parsePublicKey(switchService.publicKey());
        String listed = executeCommand("vl2:members --no-format e1");
        assertFalse(listed, listed.contains("Switch public key")); // --no-format: the table only

        Identity alice = Identity.generate();
        Identity bob = Identity.generate();
        Vl2Member a = member(1);
        assertFalse("not authorized yet", a.joinEncrypted(alice, switchKey, NETWORK, WAIT));
        assertEquals(ErrorCode.NOT_AUTHORIZED, a.error.code());
        String aRemote = a.address();
        assertTrue("no port for it: " + switchService.ports(), switchService.ports().stream()
                .noneMatch(p -> p.network() == NETWORK || p.remote().equals(aRemote)));

        String out = executeCommand("vl2:members -a " + alice.fingerprint() + " e1");
        assertTrue(out, out.contains("Authorized"));
        executeCommand("vl2:members -a " + Identity.formatMemberId(bob.memberId()) + " e1");
        awaitCondition("both authorized", () -> switchService.members(NETWORK).stream().filter(m -> m.authorized())
                .count() == 2);
        assertTrue(a.joinEncrypted(alice, switchKey, NETWORK, WAIT));
        Vl2Member b = member(2);
        assertTrue(b.joinEncrypted(bob, switchKey, NETWORK, WAIT));
        assertEquals("10.9.0.2", b.welcome.ipv4().getHostAddress());

        a.send("ff:ff:ff:ff:ff:ff", "sealed-hello");
        assertNotNull("bob opens alice's sealed broadcast", b.receiveTagged("sealed-hello", WAIT));
        b.send(a.mac, "sealed-reply");
        assertNotNull(a.receiveTagged("sealed-reply", WAIT));
        String table = executeCommand("vl2:members e1");
        // both ends auto: AES-256-GCM where this host has AES instructions, else ChaCha20-Poly1305
        String cipher = CipherPolicy.auto().choose(CipherPolicy.auto().offer()).displayName();
        assertTrue(table, table.contains("Switch public key: " + switchService.publicKey())
                && table.contains(alice.fingerprint()) && table.contains(cipher));

        long t0 = System.nanoTime();
        executeCommand("vl2:members -d " + Identity.formatMemberId(bob.memberId()) + " e1");
        awaitCondition("bob's port is gone", () -> switchService.ports().stream()
                .noneMatch(p -> Identity.formatMemberId(bob.memberId()).equals(p.member())));
        long millis = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("[it] vl2:members -d to the member's port gone: " + millis + " ms");
        assertTrue("cut off within 1 s of the command: " + millis + " ms", millis < 1_000);
        a.send("ff:ff:ff:ff:ff:ff", "after-cut-off");
        b.send(a.mac, "from-the-cut-off");
        assertEquals(null, a.receiveTagged("from-the-cut-off", 500));
        assertFalse("and it cannot come back", b.joinEncrypted(bob, switchKey, NETWORK, WAIT));
        assertEquals(ErrorCode.NOT_AUTHORIZED, b.error.code());
    }
}
