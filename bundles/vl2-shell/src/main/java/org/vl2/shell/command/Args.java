package org.vl2.shell.command;

import java.util.function.Function;

import org.apache.karaf.shell.support.CommandException;
import org.apache.karaf.shell.support.ansi.SimpleAnsi;
import org.vl2.api.MacAddress;
import org.vl2.api.Networks;
import org.vl2.api.PortId;

/**
 * Parses what users type into vl2 values. Bad input becomes a {@link CommandException} with a one-line
 * "Error: ..." message: Karaf prints its {@link CommandException#getNiceHelp() nice help} as the whole
 * output (no stack trace), logs it at DEBUG only, and the command still fails (exit code 1 from
 * {@code bin/client}). Any other exception would be logged at ERROR with its stack trace.
 */
final class Args {

    /** Highest VLAN id (12 bits); 0 means untagged. */
    static final int MAX_VLAN = 4095;

    private Args() {
    }

    static MacAddress mac(String text) throws CommandException {
        return parse(MacAddress::valueOf, text);
    }

    static PortId port(String text) throws CommandException {
        return parse(PortId::valueOf, text);
    }

    static long network(String text) throws CommandException {
        return parse(Networks::parse, text);
    }

    /** {@link #network(String)}, and the switch must host it: else an error naming it. */
    static long hostedNetwork(org.vl2.api.SwitchService sw, String text) throws CommandException {
        long id = network(text);
        if (sw.network(id).isEmpty()) {
            throw error("no network " + Networks.format(id) + " on this switch");
        }
        return id;
    }

    static int vlan(String text) throws CommandException {
        String s = text == null ? "" : text.trim();
        try {
            int vlan = Integer.parseInt(s);
            if (vlan >= 0 && vlan <= MAX_VLAN) {
                return vlan;
            }
        } catch (NumberFormatException e) {
            // fall through to the common message
        }
        throw error("not a VLAN id: '" + text + "' (expected 0 for untagged, or 1 to " + MAX_VLAN + ")");
    }

    /**
     * A failure shown to the user as {@code Error: <message>} (in red, like Karaf's own errors). The "help"
     * text is what Karaf prints; without it Karaf would print "Error executing command: " + message.
     */
    static CommandException error(String message) {
        String text = "Error: " + message;
        return new CommandException(SimpleAnsi.COLOR_RED + text + SimpleAnsi.COLOR_DEFAULT, text);
    }

    private static <T> T parse(Function<String, T> parser, String text) throws CommandException {
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException e) {
            throw error(e.getMessage());
        }
    }
}
