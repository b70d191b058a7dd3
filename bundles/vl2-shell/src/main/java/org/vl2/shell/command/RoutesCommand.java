package org.vl2.shell.command;

import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
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
public class RoutesCommand extends NetworkListingCommand<NetworkRoute> {

    @Override
    List<NetworkRoute> all(SwitchService sw) {
        return sw.routes();
    }

    @Override
    long networkOf(NetworkRoute r) {
        return r.network();
    }

    @Override
    com.fasterxml.jackson.databind.JsonNode json(List<NetworkRoute> routes) {
        return Views.networkRoutes(routes);
    }

    @Override
    ShellTable table(List<NetworkRoute> routes) {
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
        return table;
    }
}
