package org.vl2.shell.command;

import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
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
                + "opening it; from which port to which, its state (offered, active, direct: its sender sends the "
                + "frames straight to the receiver, ending, refused) and age. Never a key. The switch's 'pairs' "
                + "setting turns them off (vl2-switch --no-pairs), its 'direct' setting direct paths "
                + "(vl2-switch --no-direct).")
public class PairsCommand extends NetworkListingCommand<PairInfo> {

    @Override
    List<PairInfo> all(SwitchService sw) {
        return sw.pairs();
    }

    @Override
    long networkOf(PairInfo p) {
        return p.network();
    }

    @Override
    com.fasterxml.jackson.databind.JsonNode json(List<PairInfo> pairs) {
        return Views.pairs(pairs);
    }

    @Override
    ShellTable table(List<PairInfo> pairs) {
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
        return table;
    }
}
