package org.vl2.shell.command;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.CommandException;
import org.vl2.api.MacAddress;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.PortId;

/** {@code vl2:mac-flush}: removes dynamic entries (all, one port's, or one MAC's); static entries stay. */
@Service
@Command(scope = "vl2", name = "mac-flush", description = "Removes dynamic MAC table entries: all of them, those"
        + " behind one port, or those of one MAC. Static entries stay.")
public class MacFlushCommand implements Action {

    @Reference(optional = true) // see Services
    MacTableAdminService macTable;

    @Option(name = "-p", aliases = "--port", description = "Only the entries behind this port")
    @Completion(PortCompleter.class)
    String port;

    @Option(name = "-m", aliases = "--mac", description = "Only the entries of this MAC (in every network and VLAN)")
    @Completion(MacCompleter.class)
    String mac;

    @Override
    public Object execute() throws Exception {
        Services.require(macTable, Services.NO_SWITCH);
        execute(System.out);
        return null;
    }

    void execute(PrintStream out) throws CommandException {
        if (port != null && mac != null) {
            throw Args.error("use either --port or --mac, not both");
        }
        int removed;
        String scope;
        if (port != null) {
            PortId p = Args.port(port);
            removed = macTable.flushPort(p);
            scope = " behind port " + p;
        } else if (mac != null) {
            MacAddress m = Args.mac(mac);
            removed = macTable.flushMac(m);
            scope = " for " + m;
        } else {
            removed = macTable.flush();
            scope = "";
        }
        out.println("Flushed " + Formats.count(removed, "dynamic entry", "dynamic entries") + scope);
    }
}
