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

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.vl2.json.Views;
import org.vl2.api.AgentService;
import org.vl2.api.AgentStatus;
import org.vl2.api.Networks;

/**
 * {@code vl2:agent}: every port agent instance of this process (one per network it is in: a table each, sorted by
 * network and TAP name, a blank line between them; {@code --network} shows one), with its TAP device, switch, state
 * and counters, whether its traffic is encrypted, in vl2 mode its network, member id and public key, port, assigned
 * addresses, the switch's pinned key and round trip time, in vxlan mode its VNI. The agent service exists only where
 * an agent is configured; elsewhere the command says so.
 */
@Service
@Command(scope = "vl2", name = "agent", description = "Shows the port agent, a table per network it is in: its"
        + " TAP device, the switch it connects to (in vl2 mode: network, member, public key, port, assigned"
        + " addresses, the switch's key, round trip time; in vxlan mode: the VNI), whether it is encrypted, its state"
        + " and its frame counters.")
public class AgentCommand implements Action {

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

    @Option(name = "--no-format", description = "Disable table rendered output (tab-separated, no header)")
    boolean noFormat;

    @Option(name = "-j", aliases = "--json", description = "Output JSON")
    boolean json;

    @Override
    public Object execute() throws Exception {
        Services.require(agents == null || agents.isEmpty() ? null : agents, Services.NO_AGENT);
        List<AgentStatus> all = sorted(agents);
        if (network != null) {
            String n = Networks.format(Args.network(network));
            all.removeIf(s -> !n.equals(s.network()));
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

    /**
     * One instance: its table, or its JSON object, as always. Several: the tables one after the other (a blank
     * line between them), or a JSON array of the objects.
     */
    private void print(List<AgentStatus> all, PrintStream out, Instant now) {
        if (json) {
            if (all.size() == 1) {
                out.println(json(all.get(0), now));
            } else {
                out.println(all.stream().map(s -> json(s, now)).collect(Collectors.joining(",", "[", "]")));
            }
            return;
        }
        for (int i = 0; i < all.size(); i++) {
            if (i > 0) {
                out.println();
            }
            render(all.get(i), now, out, !noFormat);
        }
    }

    /** The instances' statuses by network, then TAP name (raw mode, without a network, first). */
    static List<AgentStatus> sorted(List<AgentService> agents) {
        List<AgentStatus> all = new ArrayList<>();
        for (AgentService a : agents) {
            all.add(a.status());
        }
        all.sort(Comparator.comparing((AgentStatus s) -> s.network() == null ? "" : s.network())
                .thenComparing(s -> s.tapName() == null ? "" : s.tapName()));
        return all;
    }

    /**
     * Name/value rows in a fixed order: state first (and the problem, only when there is one), then the mode, the
     * encryption and what vl2 and vxlan modes add (network, VNI, member, public key, port; "-" where a mode has
     * none), the TAP device, the switch (and its pinned key), the counters and the times ("ago" relative to
     * {@code now}).
     */
    static void render(AgentStatus s, Instant now, PrintStream out, boolean format) {
        ShellTable table = new ShellTable();
        table.column("Name");
        table.column("Value");
        row(table, "State", s.state());
        if (s.problem() != null) {
            // wrapped here rather than by ShellTable, whose wrap drops a character when a word ends at the width;
            // --no-format keeps it on one line for scripts
            List<String> lines = format ? wrap(s.problem(), MAX_VALUE) : List.of(s.problem());
            for (int i = 0; i < lines.size(); i++) {
                row(table, i == 0 ? "Problem" : "", lines.get(i));
            }
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
        row(table, "Frames to switch", s.tapRxFrames());
        row(table, "Bytes to switch", s.tapRxBytes());
        row(table, "Frames from switch", s.tapTxFrames());
        row(table, "Bytes from switch", s.tapTxBytes());
        row(table, "Drops", s.drops());
        row(table, "Up since", s.since() == null ? Formats.NONE
                : s.since().truncatedTo(ChronoUnit.SECONDS) + " (" + Formats.ago(s.since(), now) + ")");
        row(table, "Last from switch", Formats.ago(s.lastFromSwitch(), now));
        table.print(out, format);
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
        return Views.text(Views.agent(s, now));
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
