package org.vl2.agent.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gateway mode (docs/routes.md): this agent forwards between its network and the host's other networks, as the middle
 * host of seed 004 and the NAT host of seed 003, with as little host-wide change as possible:
 * <ul>
 * <li>IPv4 forwarding on the TAP device and on the masquerade uplink only ({@code net.ipv4.conf.IF.forwarding}: a
 * packet is forwarded when the interface it came in on allows it), not {@code ip_forward} for every interface;</li>
 * <li>reverse-path filtering off on the TAP device ({@code rp_filter}: replies from the far side may come back another
 * way than the kernel would route them); {@code conf.all.rp_filter} wins if higher, which the log says;</li>
 * <li>with an uplink, masquerade of what the TAP device sends out of it, in an nftables table of its own
 * ({@code vl2_gw_TAP}), which nothing else touches.</li>
 * </ul>
 * Each change is recorded in the {@link RouteJournal} before it is made (the old sysctl value, the table's name) and
 * undone when the agent stops, or by the next start after a crash. The nftables table is loaded with the {@code nft}
 * tool (nftables has no stable library interface besides its netlink protocol).
 */
final class GatewayMode {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayMode.class);
    static final Path SYS = Path.of("/proc/sys/net/ipv4/conf");

    private final String uplink;
    private final RouteJournal journal;
    private final String tag;
    private String table;
    /** Set by {@link #stop}: for good, nothing is turned on after it. */
    private boolean stopped;
    /** The interfaces it turned forwarding on for (or found on), TAP device first: what vl2:agent shows. */
    private final java.util.Set<String> forwarding = new java.util.LinkedHashSet<>();

    GatewayMode(String uplink, RouteJournal journal, String tag) {
        this.uplink = uplink == null || uplink.isBlank() ? null : uplink.trim();
        this.journal = journal;
        this.tag = tag;
    }

    /**
     * Why the configuration cannot work on this host (an uplink that does not exist), or null.
     */
    static String check(String uplink) {
        if (uplink == null || uplink.isBlank()) {
            return null;
        }
        if (!Files.isDirectory(Path.of("/sys/class/net", uplink.trim()))) {
            return "Invalid configuration org.vl2.agent: masquerade=" + uplink.trim() + " (must be an interface of this"
                    + " host: there is no " + uplink.trim() + "; ip link lists them)";
        }
        return null;
    }

    /** Turns gateway mode on for TAP device {@code tap} (again after the device was re-created). */
    synchronized void start(String tap) throws IOException {
        if (stopped) {
            return; // the TAP device re-created while the agent stopped: nothing is turned on again
        }
        set(SYS.resolve(tap).resolve("forwarding"), "1");
        set(SYS.resolve(tap).resolve("rp_filter"), "0");
        forwarding.add(tap);
        String all = read(SYS.resolve("all").resolve("rp_filter"));
        if (all != null && !all.equals("0")) {
            LOG.warn("{}Port agent: net.ipv4.conf.all.rp_filter is {}, which overrides {}'s 0: replies that come back"
                    + " another way than the kernel routes them are dropped (set it to 0 or 2 if the far side routes"
                    + " asymmetrically)", tag, all, tap);
        }
        if (uplink != null) {
            set(SYS.resolve(uplink).resolve("forwarding"), "1");
            forwarding.add(uplink);
            if (table == null) {
                table = "vl2_gw_" + tap.replaceAll("[^A-Za-z0-9_]", "_");
                journal.add("nft " + table);
                nft("add table ip " + table + "\ndelete table ip " + table + "\ntable ip " + table + " {\n"
                        + "  chain postrouting {\n"
                        + "    type nat hook postrouting priority srcnat; policy accept;\n"
                        + "    iifname \"" + tap + "\" oifname \"" + uplink + "\" masquerade\n"
                        + "  }\n}\n");
            }
        }
        LOG.info("{}Port agent: gateway mode on {}: forwarding{}", tag, tap, uplink == null ? " (no NAT)"
                : " with " + uplink + ", masquerading out of " + uplink + " (nftables table ip " + table + ")");
    }

    /**
     * Forwarding also on interface {@code name}: the way to a network this agent is the gateway of (packets coming
     * back from there are forwarded only if the interface they come in on allows it).
     */
    synchronized void forwardOn(String name) {
        if (stopped) {
            return;
        }
        try {
            Path p = SYS.resolve(name).resolve("forwarding");
            forwarding.add(name);
            if (!"1".equals(read(p))) {
                set(p, "1");
                LOG.info("{}Port agent: gateway mode: forwarding on {} too (a network this agent is the gateway of is"
                        + " reached through it)", tag, name);
            }
        } catch (IOException e) {
            LOG.warn("{}Port agent: gateway mode: cannot turn on forwarding on {}: {}", tag, name, e.getMessage());
        }
    }

    /** The name of interface {@code index} ({@code /sys/class/net/NAME/ifindex}), or null. */
    static String ifname(int index) {
        try (java.util.stream.Stream<Path> links = Files.list(Path.of("/sys/class/net"))) {
            for (Path l : (Iterable<Path>) links::iterator) {
                String i = read(l.resolve("ifindex"));
                if (String.valueOf(index).equals(i)) {
                    return l.getFileName().toString();
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    /** Stopping: every change undone, in reverse. */
    synchronized void stop() {
        stopped = true;
        undo(journal.entries(), journal, tag);
        table = null;
        forwarding.clear();
    }

    /**
     * As vl2:agent shows it: {@code forwarding on vl2tap0, up0, lan0; masquerade out of up0 (nftables table ip
     * vl2_gw_vl2tap0)}, or {@code off (stopped)}.
     */
    synchronized String describe() {
        if (forwarding.isEmpty()) {
            return "off (stopped)";
        }
        return "IPv4 forwarding on " + String.join(", ", forwarding) + (uplink == null ? "; no masquerade"
                : "; masquerade out of " + uplink + (table == null ? "" : " (nftables table ip " + table + ")"));
    }

    /**
     * Undoes the {@code sysctl} and {@code nft} entries of {@code entries} (newest first); returns how many it
     * handled (a sysctl of an interface that is gone counts: nothing is left to restore).
     */
    static int undo(List<String> entries, RouteJournal journal, String tag) {
        int undone = 0;
        List<String> reversed = new ArrayList<>(entries);
        java.util.Collections.reverse(reversed);
        for (String e : reversed) {
            String[] w = e.split(" ");
            try {
                if (w[0].equals("sysctl") && w.length == 3) {
                    Path p = Path.of(w[1]);
                    if (Files.exists(p)) {
                        Files.writeString(p, w[2], StandardCharsets.US_ASCII);
                    }
                } else if (w[0].equals("nft") && w.length == 2) {
                    if (nftQuiet("list table ip " + w[1]) == 0) {
                        nft("delete table ip " + w[1]);
                    }
                } else {
                    continue;
                }
                journal.remove(e);
                undone++;
            } catch (IOException | RuntimeException ex) {
                LOG.warn("{}Port agent: cannot undo '{}': {}", tag, e, ex.getMessage());
            }
        }
        return undone;
    }

    private void set(Path p, String value) throws IOException {
        String old = read(p);
        if (old == null) {
            throw new IOException(p + " does not exist");
        }
        if (old.equals(value)) {
            return;
        }
        journal.add("sysctl " + p + " " + old);
        Files.writeString(p, value, StandardCharsets.US_ASCII);
    }

    private static String read(Path p) throws IOException {
        try {
            return Files.readString(p, StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static void nft(String script) throws IOException {
        int rc = run(script, true);
        if (rc != 0) {
            throw new IOException("nft failed (exit " + rc + ") on: " + script.replace('\n', ' ').trim());
        }
    }

    private static int nftQuiet(String script) throws IOException {
        return run(script, false);
    }

    private static int run(String script, boolean logErrors) throws IOException {
        Process p = new ProcessBuilder("nft", "-f", "-").redirectErrorStream(true).start();
        p.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("nft did not finish in 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0 && logErrors) {
            LOG.warn("nft: {}", out);
        }
        return p.exitValue();
    }
}
