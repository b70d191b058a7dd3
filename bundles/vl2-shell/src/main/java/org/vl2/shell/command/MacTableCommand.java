package org.vl2.shell.command;

import java.io.PrintStream;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.CommandException;
import org.apache.karaf.shell.support.table.ShellTable;
import org.vl2.json.Views;
import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.MacTableService;
import org.vl2.api.Networks;
import org.vl2.api.PortId;

/** {@code vl2:mactable}: the MAC table (forwarding database). */
@Service
@Command(scope = "vl2", name = "mactable", description = "Lists the MAC table (forwarding database) entries.")
public class MacTableCommand extends ListingCommand {

    /** Order of the rows: network (as unsigned, like its hex form), VLAN, MAC. */
    static final Comparator<MacEntry> ORDER = Comparator
            .comparing(MacEntry::network, Long::compareUnsigned)
            .thenComparingInt(MacEntry::vlan)
            .thenComparing(MacEntry::mac);

    @Reference(optional = true) // see Services
    MacTableService macTable;

    @Option(name = "-p", aliases = "--port", description = "Only entries behind this port")
    @Completion(PortCompleter.class)
    String port;

    @Option(name = "-m", aliases = "--mac", description = "Only entries for this MAC address")
    @Completion(MacCompleter.class)
    String mac;

    @Option(name = "-n", aliases = "--network", description = "Only entries in this network (up to 16 hex digits)")
    @Completion(NetworkCompleter.class)
    String network;

    @Option(name = "--vlan", description = "Only entries in this VLAN (0 = untagged)")
    String vlan;

    @Override
    public Object execute() throws Exception {
        Services.require(macTable, Services.NO_SWITCH);
        execute(System.out);
        return null;
    }

    void execute(PrintStream out) throws CommandException {
        Predicate<MacEntry> filter = filter();
        List<MacEntry> entries = macTable.entries().stream().filter(filter).sorted(ORDER).toList();
        if (json) {
            out.println(json(entries));
        } else {
            render(entries, out, !noFormat);
        }
    }

    /** The options as one predicate; validates them all before anything is printed. */
    Predicate<MacEntry> filter() throws CommandException {
        Predicate<MacEntry> filter = e -> true;
        if (port != null) {
            PortId p = Args.port(port);
            filter = filter.and(e -> p.equals(e.port()));
        }
        if (mac != null) {
            MacAddress m = Args.mac(mac);
            filter = filter.and(e -> m.equals(e.mac()));
        }
        if (network != null) {
            long n = Args.network(network);
            filter = filter.and(e -> e.network() == n);
        }
        if (vlan != null) {
            int v = Args.vlan(vlan);
            filter = filter.and(e -> e.vlan() == v);
        }
        return filter;
    }

    /** Prints {@code entries} in the given order as a table (borders and header unless !format). */
    static void render(List<MacEntry> entries, PrintStream out, boolean format) {
        ShellTable table = new ShellTable().emptyTableText("No MAC entries");
        table.column("MAC");
        table.column("Network");
        table.column("VLAN").alignRight();
        table.column("Port").alignRight();
        table.column("Type");
        table.column("Age").alignRight();
        table.column("Moves").alignRight();
        for (MacEntry e : entries) {
            table.addRow().addContent(e.mac().toString(), Networks.format(e.network()), e.vlan(),
                    e.port().toString(), type(e), e.isStatic() ? Formats.NONE : Formats.seconds(e.ageMillis()),
                    e.moves());
        }
        table.print(out, format);
    }

    /** A JSON array of the entries, e.g. {@code [{"mac":"02:00:00:00:00:01","network":"0000000000000000",...}]}. */
    static String json(List<MacEntry> entries) {
        return Views.text(Views.macEntries(entries));
    }

    private static String type(MacEntry e) {
        return e.isStatic() ? "static" : "dynamic";
    }
}
