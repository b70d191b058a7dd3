package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.apache.karaf.shell.api.action.Action;

/**
 * One bundle serves a switch (no agent) and a port agent (no switch): the references are optional, and a
 * command whose service is missing says so instead of failing with a NullPointerException.
 */
class MissingServicesTest {

    @Test
    void switchCommandsOnAnAgentSayThereIsNoSwitch() {
        for (Action a : List.of(new PortsCommand(), new StatsCommand(), new MacTableCommand(), new MacAddCommand(),
                new MacDeleteCommand(), new MacFlushCommand(), new PolicyCommand())) {
            IllegalStateException e = assertThrows(IllegalStateException.class, a::execute, a.getClass().getName());
            assertEquals(Services.NO_SWITCH, e.getMessage());
        }
    }

    @Test
    void agentCommandOnASwitchSaysThereIsNoAgent() {
        IllegalStateException e = assertThrows(IllegalStateException.class, new AgentCommand()::execute);
        assertTrue(e.getMessage().startsWith("no port agent runs in this instance"), e.getMessage());
    }

    @Test
    void tokenCommandsWithoutTheApiSaySo() {
        for (Action a : List.of(new TokensCommand(), new TokenCreateCommand(), new TokenRevokeCommand())) {
            IllegalStateException e = assertThrows(IllegalStateException.class, a::execute, a.getClass().getName());
            assertEquals(Services.NO_API, e.getMessage());
        }
    }

    @Test
    void completersOfferNothingWithoutTheSwitch() {
        assertEquals(List.of(), new PortCompleter().values());
        assertEquals(List.of(), new MacCompleter().values());
        assertEquals(List.of(), new PolicyCompleter().values());
    }
}
