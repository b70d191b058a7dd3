package org.vl2.shell.command;

import java.io.PrintStream;
import java.util.List;
import java.util.stream.Collectors;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.CommandException;
import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.Networks;

/**
 * {@code vl2:mac-delete}: removes one entry. Without {@code --network}/{@code --vlan} the MAC must identify
 * exactly one entry; when it is in several networks or VLANs the command lists them and removes nothing.
 */
@Service
@Command(scope = "vl2", name = "mac-delete", description = "Removes a MAC table entry (static or dynamic).")
public class MacDeleteCommand implements Action {

    @Reference(optional = true) // see Services
    MacTableAdminService macTable;

    @Argument(index = 0, name = "mac", required = true, description = "The station's MAC address")
    @Completion(MacCompleter.class)
    String mac;

    @Option(name = "--vlan", description = "VLAN id (needed only if the MAC is in several VLANs)")
    String vlan;

    @Option(name = "-n", aliases = "--network", description = "Network id (needed only if the MAC is in several networks)")
    String network;

    @Override
    public Object execute() throws Exception {
        Services.require(macTable, Services.NO_SWITCH);
        execute(System.out);
        return null;
    }

    void execute(PrintStream out) throws CommandException {
        MacAddress m = Args.mac(mac);
        Integer v = vlan == null ? null : Args.vlan(vlan);
        Long n = network == null ? null : Args.network(network);
        List<MacEntry> matches = macTable.entries().stream()
                .filter(e -> e.mac().equals(m))
                .filter(e -> v == null || e.vlan() == v)
                .filter(e -> n == null || e.network() == n)
                .sorted(MacTableCommand.ORDER)
                .toList();
        if (matches.isEmpty()) {
            throw Args.error("no MAC table entry for " + m + where(n, v) + others(m));
        }
        if (matches.size() > 1) {
            throw Args.error(m + " has " + matches.size() + " entries (" + places(matches)
                    + "); choose one with --network and --vlan");
        }
        MacEntry e = matches.get(0);
        if (!macTable.remove(e.network(), e.vlan(), e.mac())) {
            // aged out between the lookup and the removal
            throw Args.error("no MAC table entry for " + m + where(e.network(), e.vlan()));
        }
        out.println("Removed " + (e.isStatic() ? "static" : "dynamic") + " entry " + m + " (network "
                + Networks.format(e.network()) + ", vlan " + e.vlan() + ", port " + e.port() + ")");
    }

    private static String where(Long network, Integer vlan) {
        if (network == null) {
            return vlan == null ? "" : " in vlan " + vlan;
        }
        return " in network " + Networks.format(network) + (vlan == null ? "" : ", vlan " + vlan);
    }

    /** Where else the MAC is, when the filters excluded it, e.g. {@code  (it is in network ..., vlan 5)}. */
    private String others(MacAddress m) {
        if (network == null && vlan == null) {
            return "";
        }
        List<MacEntry> all = macTable.entries().stream().filter(e -> e.mac().equals(m))
                .sorted(MacTableCommand.ORDER).toList();
        return all.isEmpty() ? "" : " (it is in " + places(all) + ")";
    }

    private static String places(List<MacEntry> entries) {
        return entries.stream().map(e -> "network " + Networks.format(e.network()) + " vlan " + e.vlan())
                .collect(Collectors.joining(", "));
    }
}
