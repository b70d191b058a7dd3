package org.vl2.shell.command;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.vl2.json.Views;
import org.vl2.api.AgentRoutes;
import org.vl2.api.AgentService;
import org.vl2.api.AgentStatus;
import org.vl2.api.Networks;

/**
 * {@code vl2:agent}: every port agent instance of this process (one per network it is in: a table each, sorted by
 * network and TAP name, a blank line between them; {@code --network} shows one), with its TAP device, switch, state
 * and counters, whether its traffic is encrypted, in vl2 mode its network, member id and public key, port, assigned
 * addresses, the switch's pinned key and round trip time, in vxlan mode its VNI; with managed routes or gateway mode
 * (docs/routes.md) what it accepts, each route the switch pushed (installed or why not) and the kernel routes it
 * installed. The agent service exists only where
 * an agent is configured; elsewhere the command says so.
 */
@Service
@Command(scope = "vl2", name = "agent", description = "Shows the port agent, a table per network it is in: its"
        + " TAP device, the switch it connects to (in vl2 mode: network, member, public key, port, assigned"
        + " addresses, the switch's key, round trip time; in vxlan mode: the VNI), whether it is encrypted, its state"
        + " and its frame counters; its managed routes (accepted, refused and why, installed) and gateway mode.")
public class AgentCommand extends ListingCommand {

    /** In the formatted table, a long problem description wraps (at spaces) to lines this wide. */
    static final int MAX_VALUE = 80;
    /** What the Mode row adds for vxlan: RFC 7348 has no encryption and no notion of who a VTEP is. */
    static final String VXLAN_NOTE = "plaintext, no identity";
    /** The Encryption row: sealed frames (encrypted vl2 mode), or not (plaintext vl2, raw, vxlan). */
    static final String ENCRYPTED = "encrypted";
    static final String PLAINTEXT = "plaintext";

    @Reference(optional = true) // see Services
    List<AgentService> agents;

    @Option(name = "-n", aliases = "--network",
            description = "Only the instance in this network (up to 16 hex digits)")
    @Completion(AgentNetworkCompleter.class)
    String network;

    @Override
    public Object execute() throws Exception {
        Services.require(agents == null || agents.isEmpty() ? null : agents, Services.NO_AGENT);
        List<Shown> all = sorted(agents);
        if (network != null) {
            String n = Networks.format(Args.network(network));
            all.removeIf(s -> !n.equals(s.status().network()));
            if (all.isEmpty()) {
                throw Args.error("no port agent of this process is in network " + n + " (see vl2:agent)");
            }
        }
        print(all, System.out, Instant.now());
        return null;
    }

    void execute(PrintStream out, Instant now) {
        print(sorted(agents), out, now);
    }

    /** One instance's status and, where it has them, its managed routes and gateway mode (else null). */
    record Shown(AgentStatus status, AgentRoutes routes, java.util.Map<String, Long> counters) {
        Shown(AgentStatus status, AgentRoutes routes) {
            this(status, routes, java.util.Map.of());
        }
    }

    /**
     * One instance: its table, or its JSON object, as always. Several: the tables one after the other (a blank
     * line between them), or a JSON array of the objects.
     */
    private void print(List<Shown> all, PrintStream out, Instant now) {
        if (json) {
            if (all.size() == 1) {
                out.println(json(all.get(0).status(), all.get(0).routes(), now));
            } else {
                out.println(all.stream().map(s -> json(s.status(), s.routes(), now))
                        .collect(Collectors.joining(",", "[", "]")));
            }
            return;
        }
        for (int i = 0; i < all.size(); i++) {
            if (i > 0) {
                out.println();
            }
            render(all.get(i).status(), all.get(i).routes(), all.get(i).counters(), now, out, !noFormat);
        }
    }

    /** The instances by network, then TAP name (raw mode, without a network, first). */
    static List<Shown> sorted(List<AgentService> agents) {
        List<Shown> all = new ArrayList<>();
        for (AgentService a : agents) {
            all.add(new Shown(a.status(), a.routes(), a.counters()));
        }
        all.sort(Comparator.comparing((Shown s) -> s.status().network() == null ? "" : s.status().network())
                .thenComparing(s -> s.status().tapName() == null ? "" : s.status().tapName()));
        return all;
    }

    /**
     * Name/value rows in a fixed order: state first (and the problem, only when there is one), then the mode, the
     * encryption and what vl2 and vxlan modes add (network, VNI, member, public key, port; "-" where a mode has
     * none), the TAP device, the switch (and its pinned key), the counters and the times ("ago" relative to
     * {@code now}).
     */
    static void render(AgentStatus s, Instant now, PrintStream out, boolean format) {
        render(s, null, now, out, format);
    }

    /**
     * The rows above, then, for an agent with managed routes or gateway mode ({@code routes} not null), what it
     * accepts, its gateway mode, the version of the switch's routes, one row per route the switch pushed (installed,
     * or why not) and one per kernel route it installed.
     */
    static void render(AgentStatus s, AgentRoutes routes, Instant now, PrintStream out, boolean format) {
        render(s, routes, java.util.Map.of(), now, out, format);
    }

    /**
     * The rows above; with pair keys ({@code counters} has them: encrypted vl2 mode) also the pairs held and the
     * frames on them, and those that went straight to or came straight from another member (direct paths).
     */
    static void render(AgentStatus s, AgentRoutes routes, java.util.Map<String, Long> counters, Instant now,
                       PrintStream out, boolean format) {
        ShellTable table = new ShellTable();
        table.column("Name");
        table.column("Value");
        row(table, "State", s.state());
        if (s.problem() != null) {
            // wrapped here rather than by ShellTable, whose wrap drops a character when a word ends at the width;
            // --no-format keeps it on one line for scripts
            wrapped(table, "Problem", s.problem(), format);
        }
        row(table, "Mode", "vxlan".equals(s.mode()) ? s.mode() + " (" + VXLAN_NOTE + ")" : Formats.orNone(s.mode()));
        row(table, "Encryption", !s.encrypted() ? PLAINTEXT : ENCRYPTED + " (" + (s.cipher() != null ? s.cipher()
                : "cipher negotiated at the first handshake") + ")");
        row(table, "Network", Formats.orNone(s.network()));
        row(table, "VNI", s.vni() == 0 ? Formats.NONE : Integer.toString(s.vni()));
        row(table, "Member", Formats.orNone(s.memberId()));
        row(table, "Public key", Formats.orNone(s.publicKey()));
        row(table, "Port", s.portId() == 0 ? Formats.NONE : Long.toString(s.portId()));
        row(table, "TAP", Formats.orNone(s.tapName()));
        row(table, "MAC", s.tapMac() == null ? Formats.NONE : s.tapMac().toString());
        row(table, "MTU", s.mtu());
        row(table, "Addresses", list(s.addresses()));
        row(table, "Assigned", list(s.assignedAddresses()));
        row(table, "Bridge", Formats.orNone(s.bridge()));
        row(table, "Switch", Formats.orNone(s.switchAddress()));
        row(table, "Switch key", Formats.orNone(s.switchKey()));
        row(table, "Switch resolved", Formats.orNone(s.switchResolved()));
        row(table, "Local address", Formats.orNone(s.localAddress()));
        row(table, "Switch RTT", s.switchRtt() == null ? Formats.NONE : rtt(s.switchRtt()));
        // sent and received in all: through the switch and, on direct paths, straight to and from other members
        row(table, "Frames sent", s.tapRxFrames());
        row(table, "Bytes sent", s.tapRxBytes());
        row(table, "Frames received", s.tapTxFrames());
        row(table, "Bytes received", s.tapTxBytes());
        row(table, "Drops", s.drops());
        if (counters.containsKey(AgentService.PAIRS_SENDING)) {
            row(table, "Pairs", "send " + counters.get(AgentService.PAIRS_SENDING) + " (direct "
                    + counters.getOrDefault(AgentService.PAIRS_DIRECT, 0L) + "), receive "
                    + counters.getOrDefault(AgentService.PAIRS_RECEIVING, 0L));
            row(table, "Pair frames", "sealed " + counters.getOrDefault(AgentService.PAIR_FRAMES_SEALED, 0L)
                    + ", opened " + counters.getOrDefault(AgentService.PAIR_FRAMES_OPENED, 0L));
            row(table, "Direct frames", "sent " + counters.getOrDefault(AgentService.DIRECT_FRAMES_SENT, 0L)
                    + ", received " + counters.getOrDefault(AgentService.DIRECT_FRAMES_RECEIVED, 0L));
        }
        row(table, "Up since", s.since() == null ? Formats.NONE
                : s.since().truncatedTo(ChronoUnit.SECONDS) + " (" + Formats.ago(s.since(), now) + ")");
        row(table, "Last from switch", Formats.ago(s.lastFromSwitch(), now));
        if (routes != null) {
            routeRows(table, routes, format);
        }
        table.print(out, format);
    }

    private static void routeRows(ShellTable table, AgentRoutes r, boolean format) {
        row(table, "Accepts routes", "specific " + yesNo(r.acceptRoutes()) + ", default (0.0.0.0/0, ::/0) "
                + yesNo(r.acceptDefaultRoute()));
        wrapped(table, "Gateway mode", r.gateway() == null ? "off" : r.gateway(), format);
        row(table, "Routes version", r.version() == null ? Formats.NONE + " (none from the switch yet)" : r.version());
        for (AgentRoutes.Offered o : r.offered()) {
            wrapped(table, "Route", o.route() + ": " + (o.installed() ? "installed" : "not installed, " + o.reason()),
                    format);
        }
        if (r.offered().isEmpty()) {
            row(table, "Route", Formats.NONE);
        }
        for (String k : r.installed()) {
            wrapped(table, "Kernel route", k, format);
        }
        if (r.installed().isEmpty()) {
            row(table, "Kernel route", Formats.NONE);
        }
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }

    /** A long value on lines of at most {@link #MAX_VALUE} characters (formatted), the name on the first. */
    private static void wrapped(ShellTable table, String name, String value, boolean format) {
        List<String> lines = format ? wrap(value, MAX_VALUE) : List.of(value);
        for (int i = 0; i < lines.size(); i++) {
            row(table, i == 0 ? name : "", lines.get(i));
        }
    }

    /** {@code 0.84 ms}: microsecond resolution, as ping prints it. */
    static String rtt(Duration rtt) {
        return String.format(Locale.ROOT, "%.2f ms", rtt.toNanos() / 1e6);
    }

    private static String list(List<String> values) {
        return values.isEmpty() ? Formats.NONE : String.join(", ", values);
    }

    /**
     * One object with the record's component names ({@code encrypted} a boolean, the keys {@code null} where a
     * mode has none); times ISO-8601 ({@code null} if unknown), {@code lastFromSwitchSecondsAgo} relative to
     * {@code now} ({@code null} if nothing came yet), {@code portId} and {@code vni} {@code null} when there is none,
     * the round trip as {@code switchRttMicros} ({@code null} if unknown).
     */
    static String json(AgentStatus s, Instant now) {
        return json(s, null, now);
    }

    /** As above, with a {@code routes} object last where the agent has managed routes or gateway mode. */
    static String json(AgentStatus s, AgentRoutes routes, Instant now) {
        ObjectNode o = Views.agent(s, now);
        if (routes != null) {
            o.set("routes", Views.agentRoutes(routes));
        }
        return Views.text(o);
    }

    /** Splits {@code text} at spaces into lines of at most {@code width} characters (longer words stay whole). */
    static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.trim().split("\\s+")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(word);
        }
        lines.add(line.toString());
        return lines;
    }

    private static void row(ShellTable table, String name, Object value) {
        table.addRow().addContent(name, value);
    }
}
