package org.vl2.shell.command;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.CommandException;
import org.apache.karaf.shell.support.table.ShellTable;
import org.vl2.json.Views;
import org.vl2.api.Networks;
import org.vl2.api.PortCounters;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchService;

/** {@code vl2:ports}: the switch ports and their counters. */
@Service
@Command(scope = "vl2", name = "ports", description = "Lists the switch ports with their counters.")
public class PortsCommand extends ListingCommand {

    /** Remote endpoints longer than this are cut (an IPv6 address with port fits). */
    static final int MAX_REMOTE = 48;

    @Reference(optional = true) // see Services
    SwitchService switchService;

    @Option(name = "-n", aliases = "--network", description = "Only ports of this network (up to 16 hex digits)")
    @Completion(NetworkCompleter.class)
    String network;

    @Override
    public Object execute() throws Exception {
        Services.require(switchService, Services.NO_SWITCH);
        execute(System.out, Instant.now());
        return null;
    }

    void execute(PrintStream out, Instant now) throws CommandException {
        List<PortInfo> ports = switchService.ports().stream().sorted(Comparator.comparing(PortInfo::id)).toList();
        if (network != null) {
            long n = Args.network(network);
            if (switchService.network(n).isEmpty()) {
                throw Args.error("no network " + Networks.format(n) + " on this switch (see vl2:networks)");
            }
            ports = ports.stream().filter(p -> p.network() == n).toList();
        }
        if (json) {
            out.println(json(ports, now));
        } else {
            render(ports, now, out, !noFormat);
        }
    }

    /** Prints {@code ports} in the given order; "Last seen" is relative to {@code now}. */
    static void render(List<PortInfo> ports, Instant now, PrintStream out, boolean format) {
        ShellTable table = new ShellTable().emptyTableText("No ports");
        table.column("Port").alignRight();
        table.column("Network");
        table.column("Transport");
        table.column("Mode");
        table.column("Remote").maxSize(MAX_REMOTE);
        table.column("Member");
        table.column("Address");
        table.column("RX frames").alignRight();
        table.column("RX bytes").alignRight();
        table.column("TX frames").alignRight();
        table.column("TX bytes").alignRight();
        table.column("Drops").alignRight();
        table.column("Last seen");
        for (PortInfo p : ports) {
            PortCounters c = counters(p);
            table.addRow().addContent(p.id().toString(), Networks.format(p.network()), Formats.orNone(p.transport()),
                    Formats.orNone(p.mode()), Formats.orNone(p.remote()), member(p), Formats.orNone(p.address()), c.rxFrames(), c.rxBytes(), c.txFrames(),
                    c.txBytes(), c.rxDrops() + c.txDrops(), Formats.ago(p.lastSeen(), now));
        }
        table.print(out, format);
    }

    /**
     * A JSON array of the ports. Times are ISO-8601 ({@code null} if unknown); {@code lastSeenSecondsAgo} is
     * relative to {@code now} ({@code null} if never seen).
     */
    static String json(List<PortInfo> ports, Instant now) {
        return Views.text(Views.ports(ports, now));
    }

    /** A vl2 member by its name when it gave one, else its id; "-" for ports without identity (raw, VXLAN). */
    static String member(PortInfo p) {
        if (p.member() == null) {
            return Formats.NONE;
        }
        return p.name() == null || p.name().isEmpty() ? p.member() : p.name();
    }

    private static PortCounters counters(PortInfo p) {
        return p.counters() == null ? PortCounters.ZERO : p.counters();
    }
}
