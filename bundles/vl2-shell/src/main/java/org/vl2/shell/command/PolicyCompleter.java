package org.vl2.shell.command;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.vl2.api.SwitchService;

/** Completes the names of the forwarding policies registered now. */
@Service
public class PolicyCompleter implements Completer {

    @Reference(optional = true) // see Services
    SwitchService switchService;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return new StringsCompleter(values()).complete(session, commandLine, candidates);
    }

    List<String> values() {
        if (switchService == null) {
            return List.of();
        }
        return switchService.policies().stream().sorted().toList();
    }
}
