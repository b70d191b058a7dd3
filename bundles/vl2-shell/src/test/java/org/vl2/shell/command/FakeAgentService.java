package org.vl2.shell.command;

import org.vl2.api.AgentService;
import org.vl2.api.AgentStatus;

/** An agent whose status the test sets directly. */
class FakeAgentService implements AgentService {

    AgentStatus status;

    @Override
    public AgentStatus status() {
        return status;
    }
}
