package org.vl2.shell.command;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.vl2.api.SwitchService;

/** Completes names the switch knows now (its networks, ports, policies); nothing where no switch runs. */
abstract class SwitchCompleter implements Completer {

    @Reference(optional = true) // see Services; Karaf injects the fields of superclasses too
    SwitchService switchService;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return new StringsCompleter(values()).complete(session, commandLine, candidates);
    }

    final List<String> values() {
        SwitchService s = switchService;
        return s == null ? List.of() : values(s);
    }

    /** The candidates, in the order they are offered. */
    abstract List<String> values(SwitchService s);
}
