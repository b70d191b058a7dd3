package org.vl2.shell.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Option;

/**
 * A command that lists: a table by default, tab-separated rows without a header for scripts ({@code --no-format},
 * as Karaf's own list commands), or JSON ({@code -j}, the HTTP API's views). Karaf reads the options of
 * superclasses too.
 */
abstract class ListingCommand implements Action {

    @Option(name = "--no-format", description = "Disable table rendered output (tab-separated, no header)")
    boolean noFormat;

    @Option(name = "-j", aliases = "--json", description = "Output JSON")
    boolean json;
}
