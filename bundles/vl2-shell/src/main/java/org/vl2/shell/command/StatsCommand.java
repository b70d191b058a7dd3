package org.vl2.shell.command;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.vl2.json.Views;
import org.vl2.api.MacTableService;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.SwitchService;
import org.vl2.api.SwitchStatistics;

/** {@code vl2:stats}: switch and MAC table counters. */
@Service
@Command(scope = "vl2", name = "stats", description = "Shows the switch counters (including drops by reason) and"
        + " the MAC table counters.")
public class StatsCommand extends ListingCommand {

    @Reference(optional = true) // see Services
    SwitchService switchService;

    @Reference(optional = true) // see Services
    MacTableService macTable;

    @Override
    public Object execute() throws Exception {
        Services.require(switchService, Services.NO_SWITCH);
        Services.require(macTable, Services.NO_SWITCH);
        execute(System.out);
        return null;
    }

    void execute(PrintStream out) {
        SwitchStatistics s = switchService.statistics();
        MacTableStatistics m = macTable.statistics();
        if (json) {
            out.println(json(s, m));
        } else {
            render(s, m, out, !noFormat);
        }
    }

    /** Two name/value tables, "Switch" and "MAC table", rows in a fixed logical order. */
    static void render(SwitchStatistics s, MacTableStatistics m, PrintStream out, boolean format) {
        ShellTable sw = table("Switch");
        row(sw, "Ports", s.ports());
        row(sw, "RX frames", s.rxFrames());
        row(sw, "RX bytes", s.rxBytes());
        row(sw, "TX frames", s.txFrames());
        row(sw, "TX bytes", s.txBytes());
        row(sw, "Unicast", s.unicast());
        row(sw, "Flooded", s.flooded());
        row(sw, "Filtered", s.filtered());
        row(sw, "Drops: runt", s.dropRunt());
        row(sw, "Drops: oversize", s.dropOversize());
        row(sw, "Drops: source multicast", s.dropSourceMulticast());
        row(sw, "Drops: no policy", s.dropNoPolicy());
        row(sw, "Drops: by policy", s.dropPolicy());
        row(sw, "Drops: port limit", s.dropPortLimit());
        row(sw, "Drops: port quota", s.dropPortQuota());
        row(sw, "Drops: unknown network", s.dropUnknownNetwork());
        row(sw, "Drops: malformed message", s.malformed());
        row(sw, "Drops: bad session", s.badSession());
        row(sw, "Drops: storm control", s.dropStorm());
        row(sw, "Drops: MAC limit", s.dropMacLimit());
        row(sw, "Drops: DHCP client MAC", s.dropDhcpSpoofed());
        row(sw, "Drops: DHCP rate", s.dropDhcpRate());
        row(sw, "Drops: IP guard", s.dropIpGuard());
        row(sw, "Drops: sealed network", s.dropSealed());
        row(sw, "Drops: pair", s.pairDrops());
        row(sw, "Drops: total", s.drops());
        row(sw, "TX errors", s.txErrors());
        row(sw, "Handshakes", s.handshakes());
        row(sw, "Cookie replies", s.cookieReplies());
        row(sw, "Handshakes throttled", s.handshakesThrottled());
        row(sw, "Pair frames", s.pairFrames());
        row(sw, "Pairs made", s.pairsMade());
        row(sw, "Pairs ended", s.pairsEnded());
        sw.print(out, format);
        if (format) {
            out.println();
        }
        ShellTable mt = table("MAC table");
        row(mt, "Entries", m.size());
        row(mt, "Static entries", m.staticSize());
        row(mt, "Capacity", m.capacity());
        row(mt, "Per-port limit", m.perPortLimit() == 0 ? "none" : Integer.toString(m.perPortLimit()));
        row(mt, "Ageing", m.ageingSeconds() == 0 ? "never" : m.ageingSeconds() + "s");
        row(mt, "Learned", m.learned());
        row(mt, "Moved", m.moved());
        row(mt, "Aged", m.aged());
        row(mt, "Evicted", m.evicted());
        row(mt, "Refused", m.refused());
        mt.print(out, format);
    }

    /** {@code {"switch":{...},"macTable":{...}}} with the records' component names; {@code drops} is the total. */
    static String json(SwitchStatistics s, MacTableStatistics m) {
        return Views.text(Views.statistics(s, m));
    }

    private static ShellTable table(String title) {
        ShellTable table = new ShellTable();
        table.column(title);
        table.column("Value").alignRight();
        return table;
    }

    private static void row(ShellTable table, String name, Object value) {
        table.addRow().addContent(name, value);
    }
}
