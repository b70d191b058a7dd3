package org.vl2.api.test;

import org.vl2.api.AgentService;
import org.vl2.api.AgentStatus;

/** A port agent whose status the test sets directly. */
public class FakeAgentService implements AgentService {

    public volatile AgentStatus status;

    @Override
    public AgentStatus status() {
        return status;
    }
}
