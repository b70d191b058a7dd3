package org.vl2.shell.command;

import java.io.PrintStream;
import java.util.List;
import java.util.Optional;
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
import org.vl2.api.MacTableAdminService;
import org.vl2.api.Networks;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchService;

/** {@code vl2:mac-add}: a static MAC table entry. */
@Service
@Command(scope = "vl2", name = "mac-add", description = "Adds (or replaces) a static MAC table entry: the station is"
        + " always behind the given port, never aged and never overwritten by learning.")
public class MacAddCommand implements Action {

    @Reference(optional = true) // see Services
    MacTableAdminService macTable;

    @Reference(optional = true) // see Services
    SwitchService switchService;

    @Argument(index = 0, name = "mac", required = true, description = "The station's MAC address, e.g. 02:00:5e:10:00:01")
    String mac;

    @Argument(index = 1, name = "port", required = true, description = "The port the station is behind, e.g. 3")
    @Completion(PortCompleter.class)
    String port;

    @Option(name = "--vlan", description = "VLAN id (default 0 = untagged)")
    String vlan;

    @Option(name = "-n", aliases = "--network", description = "Network id (default: the port's network; must match it)")
    String network;

    @Override
    public Object execute() throws Exception {
        Services.require(macTable, Services.NO_SWITCH);
        Services.require(switchService, Services.NO_SWITCH);
        execute(System.out);
        return null;
    }

    void execute(PrintStream out) throws CommandException {
        MacAddress m = Args.mac(mac);
        PortId p = Args.port(port);
        int v = vlan == null ? 0 : Args.vlan(vlan);
        Long requested = network == null ? null : Args.network(network);
        if (m.isMulticast()) {
            throw Args.error(m + " is a group (multicast or broadcast) address; static entries need a unicast MAC");
        }
        List<PortInfo> ports = switchService.ports();
        Optional<PortInfo> info = ports.stream().filter(pi -> p.equals(pi.id())).findFirst();
        if (info.isEmpty()) {
            throw Args.error("no such port: " + p + " (" + portList(ports) + ")");
        }
        long n = info.get().network();
        if (requested != null && requested != n) {
            throw Args.error("port " + p + " is in network " + Networks.format(n) + ", not in "
                    + Networks.format(requested));
        }
        try {
            macTable.addStatic(n, v, m, p);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw Args.error(e.getMessage());
        }
        out.println("Added static entry " + m + " -> port " + p + " (network " + Networks.format(n) + ", vlan " + v
                + ")");
    }

    /** {@code ports: 1, 2, 3} or {@code the switch has no ports}, for error messages. */
    static String portList(List<PortInfo> ports) {
        String list = ports.stream().map(PortInfo::id).sorted().map(PortId::toString)
                .collect(Collectors.joining(", "));
        return list.isEmpty() ? "the switch has no ports" : "ports: " + list;
    }
}
