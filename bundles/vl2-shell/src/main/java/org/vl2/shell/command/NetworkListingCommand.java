package org.vl2.shell.command;

import java.io.PrintStream;
import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.support.CommandException;
import org.apache.karaf.shell.support.table.ShellTable;
import org.vl2.api.SwitchService;
import org.vl2.json.Views;

/**
 * A listing of the switch's (routes, pairs, ...) that an optional network argument narrows, naming a network the
 * switch does not host as an error. Karaf injects the references and arguments of superclasses too.
 *
 * @param <T> what is listed
 */
abstract class NetworkListingCommand<T> extends ListingCommand {

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
        List<T> items = all(switchService);
        if (network != null) {
            long id = Args.hostedNetwork(switchService, network);
            items = items.stream().filter(i -> networkOf(i) == id).toList();
        }
        if (json) {
            out.println(Views.text(json(items)));
            return;
        }
        table(items).print(out, !noFormat);
    }

    /** Everything the switch has to list, in order. */
    abstract List<T> all(SwitchService sw);

    abstract long networkOf(T item);

    /** The HTTP API's view of the items. */
    abstract com.fasterxml.jackson.databind.JsonNode json(List<T> items);

    abstract ShellTable table(List<T> items);
}
