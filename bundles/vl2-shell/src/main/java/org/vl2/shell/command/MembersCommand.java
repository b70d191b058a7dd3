package org.vl2.shell.command;

import java.io.PrintStream;
import java.util.ArrayList;
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
import org.vl2.api.MemberInfo;
import org.vl2.api.NetworkInfo;
import org.vl2.api.Networks;
import org.vl2.api.SwitchAdminService;
import org.vl2.api.SwitchService;

/**
 * {@code vl2:members}: who may join a private network and who is on it; authorizes and deauthorizes members
 * (persistently, in the network's configuration; a deauthorized member is cut off at once).
 */
@Service
@Command(scope = "vl2", name = "members",
        description = "Lists the members of the networks (authorized ones and those with a port), with the switch's "
                + "public key; -a authorizes a member (public key or member id) on NETWORK, -d deauthorizes one "
                + "(cut off at once on a private network).")
public class MembersCommand extends ListingCommand {

    @Reference(optional = true) // see Services
    SwitchService switchService;

    @Reference(optional = true) // see Services
    SwitchAdminService switchAdmin;

    @Argument(index = 0, name = "network", description = "The network (up to 16 hex digits); all when left out",
            required = false)
    @Completion(NetworkCompleter.class)
    String network;

    @Option(name = "-a", aliases = "--authorize", description = "Authorize this member (public key or member id)")
    String authorize;

    @Option(name = "-d", aliases = "--deauthorize", description = "Deauthorize this member (public key or member id)")
    String deauthorize;

    @Override
    public Object execute() throws Exception {
        Services.require(switchService, Services.NO_SWITCH);
        execute(System.out);
        return null;
    }

    void execute(PrintStream out) throws CommandException {
        if (authorize != null && deauthorize != null) {
            throw Args.error("use either --authorize or --deauthorize");
        }
        Long id = network == null ? null : Args.network(network);
        if (id != null && switchService.network(id).isEmpty()) {
            throw Args.error("no network " + Networks.format(id) + " on this switch (see vl2:networks)");
        }
        if (authorize != null || deauthorize != null) {
            if (id == null) {
                throw Args.error("name the network: vl2:members " + (authorize != null ? "-a " : "-d ") + "MEMBER NETWORK");
            }
            Services.require(switchAdmin, Services.NO_SWITCH);
            try {
                if (authorize != null) {
                    switchAdmin.authorize(id, authorize);
                    out.println("Authorized " + authorize.trim() + " on network " + Networks.format(id));
                } else if (switchAdmin.deauthorize(id, deauthorize)) {
                    out.println("Deauthorized " + deauthorize.trim() + " on network " + Networks.format(id));
                } else {
                    out.println(deauthorize.trim() + " was not authorized on network " + Networks.format(id));
                }
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw Args.error(e.getMessage());
            }
            return;
        }
        List<MemberInfo> members = new ArrayList<>();
        for (NetworkInfo n : switchService.networks()) {
            if (id == null || n.id() == id) {
                members.addAll(switchService.members(n.id()));
            }
        }
        if (json) {
            out.println(json(switchService.publicKey(), members));
            return;
        }
        if (!noFormat) {
            out.println("Switch public key: " + switchService.publicKey());
        }
        render(members, out, !noFormat);
    }

    static void render(List<MemberInfo> members, PrintStream out, boolean format) {
        ShellTable table = new ShellTable().emptyTableText("No members");
        table.column("Network");
        table.column("Member");
        table.column("Public key");
        table.column("Authorized");
        table.column("Port").alignRight();
        table.column("Address");
        table.column("Name");
        table.column("Encryption");
        for (MemberInfo m : members) {
            table.addRow().addContent(Networks.format(m.network()), m.member(), Formats.orNone(m.publicKey()),
                    m.authorized() ? "yes" : "no", m.port() == null ? Formats.NONE : m.port().toString(),
                    Formats.orNone(m.address()), Formats.orNone(m.name()),
                    m.port() == null ? Formats.NONE : !m.encrypted() ? "plaintext" : Formats.orNone(m.cipher()));
        }
        table.print(out, format);
    }

    static String json(String switchKey, List<MemberInfo> members) {
        return Views.text(Views.members(switchKey, members));
    }
}
