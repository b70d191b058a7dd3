package org.vl2.shell.command;

import java.io.PrintStream;
import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.CommandException;
import org.apache.karaf.shell.support.table.ShellTable;
import org.vl2.api.NetworkRoute;
import org.vl2.api.Networks;
import org.vl2.api.SwitchService;
import org.vl2.json.Views;

/** {@code vl2:routes}: the managed routes of the switch's networks and which are in force. */
@Service
@Command(scope = "vl2", name = "routes",
        description = "Lists the managed routes of the networks (the 'routes' key of org.vl2.network-*.cfg, "
                + "docs/routes.md): destination, gateway, metric, and whether the route is in force (an encrypted "
                + "member holds the gateway's address, so the members get it), with the version of the routes pushed.")
public class RoutesCommand extends ListingCommand {

    @Reference(optional = true) // see Services
    SwitchService switchService;

    @Argument(index = 0, name = "network", description = "Only this network (up to 16 hex digits)",
            required = false)
    @Completion(NetworkCompleter.class)
    String network;

    @Override
    public Object execute() throws Exception {
        Services.require(switchService, Services.NO_SWITCH);
        execute(System.out);
        return null;
    }

    void execute(PrintStream out) throws CommandException {
        List<NetworkRoute> routes = switchService.routes();
        if (network != null) {
            long id = Args.network(network);
            if (switchService.network(id).isEmpty()) {
                throw Args.error("no network " + Networks.format(id) + " on this switch");
            }
            routes = routes.stream().filter(r -> r.network() == id).toList();
        }
        if (json) {
            out.println(Views.text(Views.networkRoutes(routes)));
            return;
        }
        ShellTable table = new ShellTable().emptyTableText("No managed routes");
        table.column("Network");
        table.column("Destination");
        table.column("Gateway");
        table.column("Metric").alignRight();
        table.column("In force");
        table.column("Version");
        for (NetworkRoute r : routes) {
            table.addRow().addContent(Networks.format(r.network()), r.destination(), r.gateway(), r.metric(),
                    r.inForce() ? "yes" : "no (gateway not a member now)",
                    r.versionText());
        }
        table.print(out, !noFormat);
    }
}
