package org.vl2.shell.command;

import java.io.PrintStream;
import java.util.Set;
import java.util.TreeSet;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.CommandException;
import org.vl2.json.Views;
import org.vl2.api.SwitchAdminService;
import org.vl2.api.SwitchService;

/** {@code vl2:policy [name]}: shows or selects the forwarding policy. */
@Service
@Command(scope = "vl2", name = "policy", description = "Shows the forwarding policy, or selects another one (at"
        + " runtime and persistently; the MAC table and the ports are kept).")
public class PolicyCommand implements Action {

    @Reference(optional = true) // see Services
    SwitchService switchService;

    @Reference(optional = true) // see Services
    SwitchAdminService switchAdmin;

    @Argument(index = 0, name = "name", required = false, description = "The policy to use, e.g. learning or hub")
    @Completion(PolicyCompleter.class)
    String name;

    @Option(name = "-j", aliases = "--json", description = "Output JSON (when showing the policy)")
    boolean json;

    @Override
    public Object execute() throws Exception {
        Services.require(switchService, Services.NO_SWITCH);
        execute(System.out);
        return null;
    }

    void execute(PrintStream out) throws CommandException {
        Set<String> available = new TreeSet<>(switchService.policies());
        if (name == null) {
            String policy = switchService.policy();
            boolean active = switchService.policyActive();
            if (json) {
                out.println(json(policy, active, available));
            } else {
                render(policy, active, available, out);
            }
            return;
        }
        String wanted = name.trim();
        if (!available.contains(wanted)) {
            throw unknown(wanted, available);
        }
        Services.require(switchAdmin, Services.NO_SWITCH);
        try {
            switchAdmin.setPolicy(wanted);
        } catch (IllegalArgumentException e) {
            // unregistered between the check and the call
            throw unknown(wanted, new TreeSet<>(switchService.policies()));
        }
        out.println("Forwarding policy set to " + wanted);
    }

    static void render(String policy, boolean active, Set<String> available, PrintStream out) {
        out.println("Policy:    " + policy + (active ? " (active)"
                : " (NOT active: no such policy is registered, frames are dropped)"));
        out.println("Available: " + list(available));
    }

    static String json(String policy, boolean active, Set<String> available) {
        com.fasterxml.jackson.databind.node.ObjectNode o = Views.MAPPER.createObjectNode()
                .put("policy", policy)
                .put("active", active);
        new TreeSet<>(available).forEach(o.putArray("available")::add);
        return Views.text(o);
    }

    private static CommandException unknown(String wanted, Set<String> available) {
        return Args.error("unknown forwarding policy '" + wanted + "' (available: " + list(available) + ")");
    }

    private static String list(Set<String> available) {
        return available.isEmpty() ? "none" : String.join(", ", new TreeSet<>(available));
    }
}
