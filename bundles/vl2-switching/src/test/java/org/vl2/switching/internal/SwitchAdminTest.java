package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.MacAddress;
import org.vl2.api.Networks;
import org.vl2.api.PortId;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.crypto.Identity;

/**
 * The operator's changes go through the configuration: SwitchAdmin writes it, the switch applies what comes back
 * (here delivered synchronously, as ConfigAdmin would deliver it), and a change returns once the switch shows it.
 */
class SwitchAdminTest {

    private static final String NETWORK_PID = "org.vl2.network.6d1a";
    private static final String ALICE = "0000000000000a11";
    private static final String BOB = "0000000000000b0b";

    private final AtomicLong clock = new AtomicLong();
    private final FakeMacTable fdb = new FakeMacTable();
    private final FakeConfigAdmin cm = new FakeConfigAdmin();
    private SwitchCore sw;
    private SwitchAdmin admin;
    private NetworkDefinition network;

    @BeforeEach
    void setUp() {
        sw = new SwitchCore(fdb, Fakes.defaults(), clock::get, false);
        sw.bindPolicy(new LearningPolicy());
        sw.bindPolicy(new HubPolicy());
        network = new NetworkDefinition(FakeConfigAdmin.annotation(NetworkConfig.class,
                Map.of("id", "6d1a", "private", "true", "members", new String[] {ALICE})),
                Map.of("service.pid", NETWORK_PID));
        cm.put(NETWORK_PID, Map.of("id", "6d1a", "private", "true", "members", new String[] {ALICE}));
        sw.bindNetwork(network);
        cm.deliver = (pid, props) -> {
            if (pid.equals(SwitchCore.PID)) {
                Settings s = sw.settings();
                Hashtable<String, Object> all = new Hashtable<>(Map.of("max.frame.size", s.maxFrameSize(),
                        "max.ports", s.maxPorts(), "allow.plaintext", s.allowPlaintext()));
                all.putAll(props);
                sw.modified(FakeConfigAdmin.annotation(SwitchConfig.class, all));
            } else if (pid.equals(NETWORK_PID)) {
                network.modified(FakeConfigAdmin.annotation(NetworkConfig.class, props));
                sw.updatedNetwork(network);
            }
        };
        admin = new SwitchAdmin(sw, cm.admin(), 2_000);
    }

    @Test
    void aPolicyIsWrittenToTheConfigurationAndInUseWhenSetPolicyReturns() {
        admin.setPolicy("hub");
        assertEquals("hub", sw.policy());
        assertTrue(sw.policyActive());
        assertEquals("hub", cm.properties(SwitchCore.PID).get("policy"));
        admin.setPolicy(" learning ");
        assertEquals("learning", sw.policy());
        assertEquals(List.of("hub", "learning"), cm.updates.stream().map(u -> u.getValue().get("policy")).toList(),
                "one write each, in order: the switch applies them as they come back, the newest last");
        admin.setPolicy("learning");
        assertEquals(2, cm.updates.size(), "nothing to write when the configuration says so already");
        sw.modified(Fakes.config("hub", 1522, 300, 1024)); // an operator's own edit of the file applies as usual
        assertEquals("hub", sw.policy());
    }

    @Test
    void anUnknownPolicyIsRefusedAndNothingIsWritten() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> admin.setPolicy("nope"));
        assertEquals("unknown forwarding policy 'nope' (available: hub, learning)", e.getMessage());
        assertTrue(cm.updates.isEmpty());
        assertEquals("learning", sw.policy());
    }

    @Test
    void aChangeTheSwitchDoesNotApplyIsReportedNotHidden() {
        cm.deliver = (pid, props) -> { }; // the configuration is saved but never comes back
        SwitchAdmin impatient = new SwitchAdmin(sw, cm.admin(), 20);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> impatient.setPolicy("hub"));
        assertTrue(e.getMessage().contains("policy hub (org.vl2.switching) is saved, but the switch has not applied"),
                e.getMessage());
        assertEquals("learning", sw.policy(), "the switch changes only with its configuration");
    }

    @Test
    void authorizingAndDeauthorizingEditTheNetworksConfiguration() {
        admin.authorize(0x6d1a, BOB.toUpperCase());
        assertEquals(List.of(ALICE, BOB), Arrays.asList((String[]) cm.properties(NETWORK_PID).get("members")));
        assertTrue(sw.members(0x6d1a).stream().allMatch(m -> m.authorized()));
        assertEquals(2, sw.members(0x6d1a).size());
        admin.authorize(0x6d1a, BOB);
        assertEquals(1, cm.updates.size(), "already authorized: nothing written");

        assertTrue(admin.deauthorize(0x6d1a, ALICE));
        assertEquals(List.of(BOB), Arrays.asList((String[]) cm.properties(NETWORK_PID).get("members")));
        assertEquals(List.of(BOB), sw.members(0x6d1a).stream().map(m -> m.member()).toList());
        assertFalse(admin.deauthorize(0x6d1a, ALICE), "not authorized any more");
        assertEquals(2, cm.updates.size());
    }

    @Test
    void membersNeedANetworkConfigurationAndAWellFormedMember() {
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> admin.authorize(0, ALICE));
        assertTrue(none.getMessage().contains("has no configuration to keep members in"), none.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> admin.authorize(0x6d1a, "not-a-key"));
        assertTrue(bad.getMessage().contains("members='not-a-key'"), bad.getMessage());
        assertTrue(cm.updates.isEmpty());
    }

    @Test
    void removingAPortFlushesItsEntries() {
        FakeTransport udp = new FakeTransport("udp");
        sw.attach(udp);
        udp.inject(TestFrames.endpoint(5001), TestFrames.frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0a", -1, 46));
        PortId id = sw.ports().get(0).id();
        assertEquals(id, fdb.lookup(Networks.RAW, 0, MacAddress.valueOf("02:00:00:00:00:0a").toLong()),
                "learned in the raw network");
        assertTrue(admin.removePort(id));
        assertFalse(admin.removePort(id));
        assertTrue(sw.ports().isEmpty());
        assertNull(fdb.lookup(Networks.RAW, 0, MacAddress.valueOf("02:00:00:00:00:0a").toLong()));
    }

    /** Resets the network's configuration as bin/vl2-switch does at a restart (its --member flags), and applies it. */
    private void configured(String... members) {
        Map<String, Object> props = Map.of("id", "6d1a", "private", "true", "members", members);
        cm.put(NETWORK_PID, props);
        network.modified(FakeConfigAdmin.annotation(NetworkConfig.class, props));
        sw.updatedNetwork(network);
    }

    @Test
    void deauthorizingAKeyAlsoRemovesItsMemberIdAndTheReverse() {
        Identity carol = Identity.generate();
        String key = carol.fingerprint();
        String id = Identity.formatMemberId(carol.memberId());
        configured(key, id, BOB);
        assertTrue(admin.deauthorize(0x6d1a, key));
        assertEquals(List.of(BOB), Arrays.asList((String[]) cm.properties(NETWORK_PID).get("members")));

        configured(key, id, BOB);
        assertTrue(admin.deauthorize(0x6d1a, id.toUpperCase()));
        assertEquals(List.of(BOB), Arrays.asList((String[]) cm.properties(NETWORK_PID).get("members")),
                "the member id takes the key that derives it");
        assertFalse(sw.networks.get(0x6d1a).settings().authorizes(carol.publicKey(), carol.memberId()));
    }

    /**
     * A member deauthorized in the shell stays deauthorized when a restart writes it back into the configuration
     * (bin/vl2-switch --member): the revocation, kept in the instance, wins (with a WARN); authorizing it in the
     * shell lifts it.
     */
    @Test
    void aRevocationInTheShellWinsOverTheConfigurationUntilTheMemberIsAuthorizedAgain() {
        assertTrue(admin.deauthorize(0x6d1a, ALICE));
        configured(ALICE, BOB); // the launcher's --member flags at the next start
        assertEquals(Set.of(BOB), sw.authorizedMembers(0x6d1a), "alice stays deauthorized");
        assertFalse(sw.networks.get(0x6d1a).settings().authorizes(null, 0xa11L));

        admin.authorize(0x6d1a, ALICE);
        assertEquals(Set.of(ALICE, BOB), sw.authorizedMembers(0x6d1a), "authorized again in the shell");
        configured(ALICE, BOB);
        assertEquals(Set.of(ALICE, BOB), sw.authorizedMembers(0x6d1a), "and no longer revoked");
    }

    @Test
    void revocationsAreKeptInTheInstanceAcrossRestarts(@TempDir Path data) throws Exception {
        Path file = data.resolve(Revocations.FILE_NAME);
        Identity carol = Identity.generate();
        Revocations r = new Revocations(file);
        r.revoke(0x6d1a, carol.fingerprint());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        Revocations again = new Revocations(file);
        assertTrue(again.revoked(0x6d1a, carol.fingerprint()));
        assertTrue(again.revoked(0x6d1a, Identity.formatMemberId(carol.memberId())), "its member id too");
        assertFalse(again.revoked(0x6d1b, carol.fingerprint()), "on that network only");
        again.lift(0x6d1a, Identity.formatMemberId(carol.memberId()));
        assertFalse(new Revocations(file).revoked(0x6d1a, carol.fingerprint()));
    }

    @Test
    void aNetworkChangeIsValidatedWholeWrittenAndAppliedWhenPutNetworkReturns() {
        assertFalse(admin.putNetwork(0x6d1a, Map.of("mtu", "1280", "name", "lab"), true), "it existed: changed");
        assertEquals(1280, sw.network(0x6d1a).orElseThrow().mtu());
        assertEquals("lab", sw.network(0x6d1a).orElseThrow().name());
        Map<String, String> now = admin.networkSettings(0x6d1a);
        assertEquals("1280", now.get("mtu"));
        assertEquals(ALICE, now.get("members"), "a merge keeps what it does not name");
        assertEquals("true", now.get("private"));
    }

    @Test
    void anInvalidNetworkSettingNamesTheFieldAndChangesNothing() {
        org.vl2.api.InvalidSettingException e = assertThrows(org.vl2.api.InvalidSettingException.class,
                () -> admin.putNetwork(0x6d1a, Map.of("mtu", "9999", "name", "lab"), true));
        assertEquals("mtu", e.setting());
        e = assertThrows(org.vl2.api.InvalidSettingException.class,
                () -> admin.putNetwork(0x6d1a, Map.of("mtu", "many"), true));
        assertEquals("mtu", e.setting());
        e = assertThrows(org.vl2.api.InvalidSettingException.class,
                () -> admin.putNetwork(0x6d1a, Map.of("colour", "blue"), true));
        assertEquals("colour", e.setting());
        e = assertThrows(org.vl2.api.InvalidSettingException.class,
                () -> admin.putNetwork(0x6d1a, Map.of("ipv4.pool", "10.0.0.0/33"), true));
        assertEquals("ipv4.pool", e.setting());
        e = assertThrows(org.vl2.api.InvalidSettingException.class,
                () -> admin.putNetwork(0x6d1a, Map.of("id", "6d1b"), true));
        assertEquals("id", e.setting());
        e = assertThrows(org.vl2.api.InvalidSettingException.class,
                () -> admin.putNetwork(0x6d1a, Map.of("plaintext", "true"), true));
        assertEquals("plaintext", e.setting(), "private and plaintext exclude each other, judged on the whole");
        assertTrue(cm.updates.isEmpty(), "nothing written");
        assertEquals(1400, sw.network(0x6d1a).orElseThrow().mtu());
    }

    @Test
    void membersThatWereRefusedAreListedAsWaitingUntilAuthorized() {
        WaitingMembers w = new WaitingMembers(2);
        byte[] key = new byte[32];
        for (int i = 0; i < 3; i++) {
            key[0] = (byte) i;
            w.refused(i, key, "h" + i, "192.0.2.1:1", java.time.Instant.EPOCH);
        }
        assertEquals(List.of(1L, 2L), w.all().stream().map(WaitingMembers.Waiting::member).toList(),
                "bounded: the refusal longest ago goes");
        w.admitted(1);
        assertEquals(List.of(2L), w.all().stream().map(WaitingMembers.Waiting::member).toList());
    }
}
