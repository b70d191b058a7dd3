package org.vl2.shell.command;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.vl2.api.MacEntry;
import org.vl2.api.MacTableService;

/** Completes the MAC addresses now in the MAC table. */
@Service
public class MacCompleter implements Completer {

    @Reference(optional = true) // see Services
    MacTableService macTable;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return new StringsCompleter(values()).complete(session, commandLine, candidates);
    }

    List<String> values() {
        if (macTable == null) {
            return List.of();
        }
        return macTable.entries().stream().map(MacEntry::mac).distinct().sorted().map(m -> m.toString()).toList();
    }
}
