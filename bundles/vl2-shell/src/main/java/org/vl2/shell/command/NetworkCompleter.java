package org.vl2.shell.command;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.vl2.api.NetworkInfo;
import org.vl2.api.Networks;
import org.vl2.api.SwitchService;

/** Completes network ids (16 hex digits) from the switch's networks. */
@Service
public class NetworkCompleter implements Completer {

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
        return switchService.networks().stream().map(NetworkInfo::id).map(Networks::format).toList();
    }
}
