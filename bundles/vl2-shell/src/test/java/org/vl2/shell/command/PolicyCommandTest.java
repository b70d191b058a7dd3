package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.test.FakeSwitchAdminService;
import org.vl2.api.test.FakeSwitchService;

class PolicyCommandTest {

    private static final String NL = System.lineSeparator();

    private final FakeSwitchService switchService = new FakeSwitchService();
    private final FakeSwitchAdminService switchAdmin = new FakeSwitchAdminService(switchService);
    private final PolicyCommand command = new PolicyCommand();
    private final Out out = new Out();

    @BeforeEach
    void setUp() {
        command.switchService = switchService;
        command.switchAdmin = switchAdmin;
    }

    @Test
    void showsTheActivePolicyAndTheAvailableOnes() throws Exception {
        command.execute(out.stream);

        assertEquals("Policy:    learning (active)" + NL + "Available: hub, learning" + NL, out.text());
        assertEquals(List.of(), switchAdmin.policyCalls);
    }

    @Test
    void showsAnInactivePolicy() throws Exception {
        switchService.policy = "fancy";
        switchService.policyActive = false;
        switchService.policies.clear();
        command.execute(out.stream);

        assertEquals("Policy:    fancy (NOT active: no such policy is registered, frames are dropped)" + NL
                + "Available: none" + NL, out.text());
    }

    @Test
    void setsAPolicy() throws Exception {
        command.name = "hub";
        command.execute(out.stream);

        assertEquals("Forwarding policy set to hub" + NL, out.text());
        assertEquals(List.of("hub"), switchAdmin.policyCalls);
        assertEquals("hub", switchService.policy);
    }

    @Test
    void unknownPolicyListsTheAvailableOnes() {
        command.name = "flood";

        assertEquals("Error: unknown forwarding policy 'flood' (available: hub, learning)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
        assertEquals(List.of(), switchAdmin.policyCalls);
        assertEquals("", out.text());
    }

    @Test
    void policyThatVanishesBeforeTheCallIsStillAClearError() {
        // policies() still lists it, but setPolicy refuses, as when the policy bundle stops in between
        FakeSwitchAdminService racing = new FakeSwitchAdminService(switchService) {
            @Override
            public void setPolicy(String name) {
                switchService.policies.remove(name);
                throw new IllegalArgumentException("no forwarding policy named " + name);
            }
        };
        command.switchAdmin = racing;
        command.name = "hub";

        assertEquals("Error: unknown forwarding policy 'hub' (available: learning)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
    }

    @Test
    void json() throws Exception {
        command.json = true;
        command.execute(out.stream);

        assertEquals("{\"policy\":\"learning\",\"active\":true,\"available\":[\"hub\",\"learning\"]}" + NL, out.text());
        assertEquals(Map.of("policy", "learning", "active", true, "available", List.of("hub", "learning")),
                Json.parse(out.text().trim()));
        assertEquals("{\"policy\":\"x\",\"active\":false,\"available\":[]}",
                PolicyCommand.json("x", false, Set.of()));
    }
}
