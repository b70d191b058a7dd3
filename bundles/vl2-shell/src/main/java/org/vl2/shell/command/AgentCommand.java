package org.vl2.shell.command;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.vl2.api.AgentService;
import org.vl2.api.AgentStatus;

/**
 * {@code vl2:agent}: the port agent's TAP device, switch, state and counters. The agent service exists only
 * where an agent is configured, so this command exists only there too.
 */
@Service
@Command(scope = "vl2", name = "agent", description = "Shows the port agent: its TAP device, the switch it"
        + " connects to, its state and its frame counters.")
public class AgentCommand implements Action {

    /** In the formatted table, a long problem description wraps (at spaces) to lines this wide. */
    static final int MAX_VALUE = 80;

    @Reference(optional = true) // see Services
    AgentService agent;

    @Option(name = "--no-format", description = "Disable table rendered output (tab-separated, no header)")
    boolean noFormat;

    @Option(name = "-j", aliases = "--json", description = "Output JSON")
    boolean json;

    @Override
    public Object execute() throws Exception {
        Services.require(agent, Services.NO_AGENT);
        execute(System.out, Instant.now());
        return null;
    }

    void execute(PrintStream out, Instant now) {
        AgentStatus s = agent.status();
        if (json) {
            out.println(json(s, now));
        } else {
            render(s, now, out, !noFormat);
        }
    }

    /**
     * Name/value rows in a fixed order: state first (and the problem, only when there is one), then the TAP
     * device, the switch, the counters and the times ("ago" relative to {@code now}).
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
        row(table, "Mode", Formats.orNone(s.mode()));
        row(table, "TAP", Formats.orNone(s.tapName()));
        row(table, "MAC", s.tapMac() == null ? Formats.NONE : s.tapMac().toString());
        row(table, "MTU", s.mtu());
        row(table, "Addresses", s.addresses().isEmpty() ? Formats.NONE : String.join(", ", s.addresses()));
        row(table, "Bridge", Formats.orNone(s.bridge()));
        row(table, "Switch", Formats.orNone(s.switchAddress()));
        row(table, "Switch resolved", Formats.orNone(s.switchResolved()));
        row(table, "Local address", Formats.orNone(s.localAddress()));
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

    /**
     * One object with the record's component names; times ISO-8601 ({@code null} if unknown) and
     * {@code lastFromSwitchSecondsAgo} relative to {@code now} ({@code null} if nothing came yet).
     */
    static String json(AgentStatus s, Instant now) {
        JsonWriter w = new JsonWriter().beginObject()
                .field("state", s.state() == null ? null : s.state().name())
                .field("problem", s.problem())
                .field("mode", s.mode())
                .field("tapName", s.tapName())
                .field("tapMac", s.tapMac() == null ? null : s.tapMac().toString())
                .field("mtu", s.mtu());
        w.name("addresses").beginArray();
        for (String a : s.addresses()) {
            w.value(a);
        }
        w.endArray()
                .field("bridge", s.bridge())
                .field("switchAddress", s.switchAddress())
                .field("switchResolved", s.switchResolved())
                .field("localAddress", s.localAddress())
                .field("tapRxFrames", s.tapRxFrames())
                .field("tapRxBytes", s.tapRxBytes())
                .field("tapTxFrames", s.tapTxFrames())
                .field("tapTxBytes", s.tapTxBytes())
                .field("drops", s.drops())
                .field("since", s.since() == null ? null : s.since().toString())
                .field("lastFromSwitch", s.lastFromSwitch() == null ? null : s.lastFromSwitch().toString());
        w.name("lastFromSwitchSecondsAgo");
        if (s.lastFromSwitch() == null) {
            w.nullValue();
        } else {
            w.value(Math.max(0, Duration.between(s.lastFromSwitch(), now).getSeconds()));
        }
        return w.endObject().toString();
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
