package org.vl2.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.DatagramEndpoints;

/** LoadGen's command line: what it may send where (a loopback switch only), checked before anything is opened. */
record Options(InetSocketAddress target, int ports, int size, double seconds, double warmup, long rate,
               int senders, int receivers, int socketBuffer, int batch, boolean offload, boolean quiet) {

    static final int MAX_PORTS = 65_535;

    static String usage() {
        return String.join("\n",
                "usage: LoadGen --switch HOST:PORT --ports N --size BYTES --seconds S [options]",
                "  --switch HOST:PORT  the switch's UDP endpoint; must be a loopback address (default 127.0.0.1:9990)",
                "  --ports N           simulated ports, 2..65535 (default 2)",
                "  --size BYTES        Ethernet frame size without FCS, 60..9216, e.g. 64 or 1514 (default 64)",
                "  --seconds S         measured time (default 5)",
                "  --rate R            offered frames/s over all ports; 0 = as fast as possible (default 0)",
                "  --warmup S          traffic before the measurement starts, not counted in the rates (default 1)",
                "  --senders T         sender threads, 1..4 (default 1)",
                "  --receivers T       receiver threads, 1..4 (default 1)",
                "  --socket-buffer B   SO_RCVBUF/SO_SNDBUF of each port's socket (default 4194304; capped by the",
                "                      kernel at net.core.rmem_max / wmem_max)",
                "  --batch N           frames per sendmmsg/recvmmsg, 1..1024; 0 = one system call per frame",
                "                      (Java NIO) (default 32)",
                "  --offload B         with --batch: a port's burst leaves as one UDP GSO message and arrives",
                "                      by GRO, true/false (default true)",
                "  --quiet             only the final RESULT line");
    }

    static Options parse(String[] args) {
        Map<String, String> a = new HashMap<>();
        boolean quiet = false;
        for (int i = 0; i < args.length; i++) {
            String k = args[i];
            if (k.equals("-h") || k.equals("--help")) {
                return null;
            }
            if (k.equals("--quiet")) {
                quiet = true;
                continue;
            }
            if (!k.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("bad argument '" + k + "'");
            }
            a.put(k.substring(2), args[++i]);
        }
        Set<String> known = Set.of("switch", "ports", "size", "seconds", "rate", "warmup", "senders", "receivers",
                "socket-buffer", "batch", "offload");
        for (String k : a.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("unknown option --" + k);
            }
        }
        String sw = a.getOrDefault("switch", "127.0.0.1:9990");
        int colon = sw.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("--switch must be HOST:PORT, got '" + sw + "'");
        }
        InetSocketAddress target;
        try {
            String host = sw.substring(0, colon).replace("[", "").replace("]", "");
            target = new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(sw.substring(colon + 1)));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("--switch " + sw + ": " + e.getMessage());
        }
        if (!target.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("--switch " + sw + " is not a loopback address: LoadGen only floods "
                    + "this host");
        }
        Options o = new Options(target,
                intIn(a, "ports", 2, 2, MAX_PORTS),
                intIn(a, "size", 64, 60, 9216),
                doubleIn(a, "seconds", 5, 0.1, 3600),
                doubleIn(a, "warmup", 1, 0, 600),
                (long) doubleIn(a, "rate", 0, 0, 1e9),
                intIn(a, "senders", 1, 1, 4),
                intIn(a, "receivers", 1, 1, 4),
                intIn(a, "socket-buffer", 4 << 20, 65536, 1 << 30),
                intIn(a, "batch", 32, 0, DatagramEndpoint.MAX_BATCH),
                bool(a, "offload", true),
                quiet);
        if (o.batch() > 0 && DatagramEndpoints.batchedUnavailableReason() != null) {
            throw new IllegalArgumentException("--batch " + o.batch() + ": " + DatagramEndpoints.batchedUnavailableReason()
                    + " (use --batch 0)");
        }
        if (o.senders() > o.ports() || o.receivers() > o.ports()) {
            throw new IllegalArgumentException("more threads than ports");
        }
        return o;
    }

    private static boolean bool(Map<String, String> a, String k, boolean def) {
        String v = a.get(k);
        if (v == null) {
            return def;
        }
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException("--" + k + " " + v + " must be true or false");
        }
        return Boolean.parseBoolean(v);
    }

    private static int intIn(Map<String, String> a, String k, int def, int min, int max) {
        return (int) doubleIn(a, k, def, min, max);
    }

    private static double doubleIn(Map<String, String> a, String k, double def, double min, double max) {
        String v = a.get(k);
        if (v == null) {
            return def;
        }
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + k + " " + v + " is not a number");
        }
        if (d < min || d > max) {
            throw new IllegalArgumentException("--" + k + " " + v + " out of range " + min + ".." + max);
        }
        return d;
    }
}
