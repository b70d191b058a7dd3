package org.vl2.shell.command;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.vl2.api.AgentService;
import org.vl2.api.AgentStatus;

/** Completes the networks (16 hex digits) of this process's port agent instances. */
@Service
public class AgentNetworkCompleter implements Completer {

    @Reference(optional = true) // see Services
    List<AgentService> agents;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return new StringsCompleter(values()).complete(session, commandLine, candidates);
    }

    List<String> values() {
        if (agents == null) {
            return List.of();
        }
        return agents.stream().map(AgentService::status).map(AgentStatus::network)
                .filter(n -> n != null).distinct().sorted().toList();
    }
}
