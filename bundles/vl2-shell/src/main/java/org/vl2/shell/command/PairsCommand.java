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
import org.vl2.api.Networks;
import org.vl2.api.PairInfo;
import org.vl2.api.SwitchService;
import org.vl2.json.Views;

/** {@code vl2:pairs}: the unicast flows the switch forwards sealed end to end under pair keys. */
@Service
@Command(scope = "vl2", name = "pairs",
        description = "Lists the pair keys (docs/protocol.md, Pair keys): each a unicast flow between two encrypted "
                + "members (VLAN, source and destination MAC) that the switch forwards sealed end to end, without "
                + "opening it; from which port to which, its state (offered, active, ending, refused) and age. "
                + "Never a key. The switch's 'pairs' setting turns them off (vl2-switch --no-pairs).")
public class PairsCommand extends ListingCommand {

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
        List<PairInfo> pairs = switchService.pairs();
        if (network != null) {
            long id = Args.network(network);
            if (switchService.network(id).isEmpty()) {
                throw Args.error("no network " + Networks.format(id) + " on this switch");
            }
            pairs = pairs.stream().filter(p -> p.network() == id).toList();
        }
        if (json) {
            out.println(Views.text(Views.pairs(pairs)));
            return;
        }
        ShellTable table = new ShellTable().emptyTableText("No pair keys (unicast between encrypted members gets them"
                + " when the switch's pairs setting is on, on networks with the learning policy and without ip.guard)");
        table.column("Network");
        table.column("From port").alignRight();
        table.column("To port").alignRight();
        table.column("VLAN").alignRight();
        table.column("Source MAC");
        table.column("Destination MAC");
        table.column("State");
        table.column("Age").alignRight();
        table.column("Index");
        for (PairInfo p : pairs) {
            table.addRow().addContent(Networks.format(p.network()), p.sender().number(), p.receiver().number(),
                    p.vlan() < 0 ? "-" : Integer.toString(p.vlan()), p.source(), p.destination(), p.state(),
                    p.age().toSeconds() + "s", Integer.toHexString(p.index()));
        }
        table.print(out, !noFormat);
    }
}
