package org.vl2.shell.command;

import java.io.PrintStream;
import java.time.Instant;
import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.CommandException;
import org.apache.karaf.shell.support.table.ShellTable;
import org.vl2.json.Views;
import org.vl2.api.NetworkInfo;
import org.vl2.api.Networks;
import org.vl2.api.SwitchService;

/** {@code vl2:networks}: the networks of the switch, or the address leases of one or all. */
@Service
@Command(scope = "vl2", name = "networks",
        description = "Lists the networks of the switch (id, who may be a port: sealed, plaintext or private, MTU, "
                + "policy, ports, address pool), or with --leases their address leases. Networks are defined by "
                + "org.vl2.network-*.cfg files; 'default' and 'raw' exist without one.")
public class NetworksCommand extends ListingCommand {

    @Reference(optional = true) // see Services
    SwitchService switchService;

    @Argument(index = 0, name = "network", description = "Only this network (up to 16 hex digits)",
            required = false)
    @Completion(NetworkCompleter.class)
    String network;

    @Option(name = "-l", aliases = "--leases", description = "List the address leases instead")
    boolean leases;

    @Override
    public Object execute() throws Exception {
        Services.require(switchService, Services.NO_SWITCH);
        execute(System.out, Instant.now());
        return null;
    }

    void execute(PrintStream out, Instant now) throws CommandException {
        List<NetworkInfo> networks = switchService.networks();
        if (network != null) {
            long id = Args.network(network);
            networks = networks.stream().filter(n -> n.id() == id).toList();
            if (networks.isEmpty()) {
                throw Args.error("no network " + Networks.format(id) + " on this switch");
            }
        }
        if (json) {
            out.println(json(networks));
        } else if (leases) {
            renderLeases(networks, now, out, !noFormat);
        } else {
            render(networks, out, !noFormat);
        }
    }

    static void render(List<NetworkInfo> networks, PrintStream out, boolean format) {
        ShellTable table = new ShellTable().emptyTableText("No networks");
        table.column("Network");
        table.column("Name");
        table.column("Access");
        table.column("MTU").alignRight();
        table.column("Policy");
        table.column("Ports").alignRight();
        table.column("IPv4 pool");
        table.column("Leases").alignRight();
        table.column("IPv6 prefix");
        table.column("DHCP");
        for (NetworkInfo n : networks) {
            table.addRow().addContent(Networks.format(n.id()), n.name(), n.access(), n.mtu(), n.policy(), n.ports(),
                    Formats.orNone(n.ipv4Pool()), n.ipv4Pool() == null ? Formats.NONE : n.leases().size(),
                    Formats.orNone(n.ipv6Prefix()), n.dhcp() ? "on" : "off");
        }
        table.print(out, format);
    }

    static void renderLeases(List<NetworkInfo> networks, Instant now, PrintStream out, boolean format) {
        ShellTable table = new ShellTable().emptyTableText("No leases");
        table.column("Network");
        table.column("Address");
        table.column("Holder");
        table.column("Expires");
        for (NetworkInfo n : networks) {
            for (NetworkInfo.Lease l : n.leases()) {
                table.addRow().addContent(Networks.format(n.id()), l.address(), l.holder(), expires(l, now));
            }
        }
        table.print(out, format);
    }

    /** {@code with port} for a member's lease held while its port lives, else {@code in 42s} / {@code 3m}. */
    static String expires(NetworkInfo.Lease l, Instant now) {
        if (l.expires() == null) {
            return "with port";
        }
        long s = Math.max(0, l.expires().getEpochSecond() - now.getEpochSecond());
        return "in " + (s < 120 ? s + "s" : s < 7200 ? s / 60 + "m" : s / 3600 + "h");
    }

    static String json(List<NetworkInfo> networks) {
        return Views.text(Views.networks(networks));
    }
}
