package org.vl2.bench.members;

import java.lang.management.ManagementFactory;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import org.vl2.crypto.CipherPolicy;

/**
 * Protocol-level load generator: N simulated encrypted vl2 members in one JVM against one switch, each with its own
 * X25519 identity and member id, the real handshake (vl2-crypto's {@code Initiator}, as the agent uses it), sealed
 * keepalives at the switch's interval, a trickle of sealed frames between members and rekeys. Members are spread
 * over a few UDP sockets (one loopback source address each) and a few worker threads, not a thread per member.
 *
 * <p>Phases, each announced by an {@code EVENT} line on stdout for scripts (bench/members.sh): join everyone,
 * {@code all-joined}; hold quietly for --quiet-seconds ({@code quiet-start}, {@code quiet-end}); churn (members leave
 * and join again) for --churn-seconds ({@code churn-start}, {@code churn-end}); hold --tail-seconds; then every member
 * leaves and a {@code RESULT key=value ...} line sums up.
 */
public final class MemberGen {

    record Config(InetSocketAddress target, byte[] switchKey, long network, int members, int sources,
                  InetAddress sourceBase, int threads, int inflight, int joinRate, long keepaliveNanos,
                  long frameIntervalNanos, double joinTimeout, double quietSeconds, int churnPerSecond,
                  double churnSeconds, double churnDownSeconds, boolean churnNewIdentity, double tailSeconds,
                  CipherPolicy cipher) {
    }

    private static final long SECOND = 1_000_000_000L;

    private MemberGen() {
    }

    static String usage() {
        return String.join("\n",
                "usage: MemberGen --switch-key BASE64 [options]",
                "  --switch HOST:PORT     the switch's vl2 UDP endpoint (default 127.0.0.1:9991)",
                "  --switch-key BASE64    the switch's X25519 public key (its log: 'Switch public key ...')",
                "  --network HEX          network the members join (default 0); it must admit them (open, sealed)",
                "  --members N            simulated members (default 1000)",
                "  --sources N            UDP sockets, one source address each (default 64); the switch allows",
                "                         ports.per.address unconfirmed members and, under load, 5 handshakes/s",
                "                         per address",
                "  --source-base IPV4     first source address, the next ones count up (default 127.0.1.1)",
                "  --threads N            worker threads (default 2)",
                "  --inflight N           joins in flight per source address (default 4; keep it below the",
                "                         switch's ports.per.address)",
                "  --join-rate R          joins started per second at most, 0 = as fast as the switch answers (default 0)",
                "  --keepalive S          keepalive interval in seconds (default 10, the switch's default)",
                "  --frame-interval S     seconds between two frames of one member, 0 = none (default 30)",
                "  --join-timeout S       announce all-joined after this even if some are missing (default 600)",
                "  --quiet-seconds S      hold after all joined, no churn (default 60)",
                "  --churn N              members that leave and join again per second during the churn (default 20)",
                "  --churn-seconds S      length of the churn (default 30)",
                "  --churn-down S         seconds a churned member stays away (default 2)",
                "  --churn-same-identity  a churned member comes back with its key (an agent restart); default a new",
                "                         member (new key, new member id, new lease)",
                "  --tail-seconds S       hold after the churn (default 5)",
                "  --cipher C             auto, aes-256-gcm or chacha20-poly1305 (default auto)");
    }

    public static void main(String[] args) throws Exception {
        Config c;
        try {
            c = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("members: " + e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }
        if (c == null) {
            System.out.println(usage());
            return;
        }
        run(c);
    }

    private static void run(Config c) throws Exception {
        Fleet fleet = new Fleet(c.members(), c.joinRate());
        int threads = Math.min(c.threads(), c.sources());
        List<MemberWorker> workers = new ArrayList<>();
        int[] firstSource = new int[threads + 1];
        for (int t = 0; t <= threads; t++) {
            firstSource[t] = (int) ((long) c.sources() * t / threads);
        }
        long seed = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            List<InetSocketAddress> sources = new ArrayList<>();
            for (int s = firstSource[t]; s < firstSource[t + 1]; s++) {
                sources.add(new InetSocketAddress(offset(c.sourceBase(), s), 0));
            }
            List<SimMember> own = new ArrayList<>();
            for (int i = t; i < c.members(); i += threads) {
                SimMember m = new SimMember(i, (i / threads) % sources.size());
                m.rejoinAtNanos = 1;
                fleet.members[i] = m;
                own.add(m);
            }
            workers.add(new MemberWorker(c, fleet, sources, own, seed + t));
        }
        long start = System.nanoTime();
        long cpu0 = cpuNanos();
        List<Thread> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(workers.get(t), "members-" + t);
            th.setDaemon(true);
            th.start();
            running.add(th);
        }
        event("start", "members=" + c.members() + " sources=" + c.sources() + " threads=" + threads);

        long deadline = start + (long) (c.joinTimeout() * SECOND);
        long nextStatus = start;
        while (fleet.joined.sum() < c.members() && System.nanoTime() < deadline) {
            nextStatus = status(fleet, start, nextStatus);
            Thread.sleep(100);
        }
        long first = fleet.firstJoinNanos.get();
        long last = fleet.lastJoinNanos.get();
        long joined = fleet.joined.sum();
        double joinSeconds = (last - first) / 1e9;
        event("all-joined", "joined=" + joined + " seconds=" + fmt(joinSeconds) + " rate=" + fmt(joined / Math.max(joinSeconds, 1e-9))
                + " mean_join_ms=" + fmt(fleet.joinLatencySumNanos.sum() / 1e6 / Math.max(1, joined))
                + " max_join_ms=" + fmt(fleet.joinLatencyMaxNanos.get() / 1e6) + " gen_cpu_s=" + fmt((cpuNanos() - cpu0) / 1e9)
                + " " + counters(fleet));
        String joinSummary = "joined=" + joined + " join_seconds=" + fmt(joinSeconds) + " join_rate="
                + fmt(joined / Math.max(joinSeconds, 1e-9));

        event("quiet-start", counters(fleet));
        nextStatus = hold(fleet, start, nextStatus, c.quietSeconds());
        event("quiet-end", counters(fleet));

        event("churn-start", "per_second=" + c.churnPerSecond());
        SplittableRandom random = new SplittableRandom(seed);
        long churnEnd = System.nanoTime() + (long) (c.churnSeconds() * SECOND);
        long churned = 0;
        while (System.nanoTime() < churnEnd) {
            long backAt = System.nanoTime() + (long) (c.churnDownSeconds() * SECOND);
            for (int k = 0; k < c.churnPerSecond(); k++) {
                int i = random.nextInt(c.members());
                SimMember m = fleet.members[i];
                MemberWorker w = workers.get(i % threads);
                w.submit(() -> w.leave(m, backAt));
                churned++;
            }
            nextStatus = hold(fleet, start, nextStatus, 1);
        }
        event("churn-end", "churned=" + churned + " " + counters(fleet));
        hold(fleet, start, nextStatus, c.tailSeconds());

        for (MemberWorker w : workers) {
            w.submit(w::leaveAll);
        }
        Thread.sleep(2 * MemberWorker.TICK_NANOS / 1_000_000 + 200);
        for (MemberWorker w : workers) {
            w.stop();
        }
        for (Thread th : running) {
            th.join(5_000);
        }
        System.out.println("RESULT members=" + c.members() + " " + joinSummary + " " + counters(fleet)
                + " gen_cpu_s=" + fmt((cpuNanos() - cpu0) / 1e9) + " wall_s=" + fmt((System.nanoTime() - start) / 1e9));
    }

    private static long hold(Fleet fleet, long start, long nextStatus, double seconds) throws InterruptedException {
        long end = System.nanoTime() + (long) (seconds * SECOND);
        while (System.nanoTime() < end) {
            nextStatus = status(fleet, start, nextStatus);
            Thread.sleep(Math.max(1, Math.min(100, (end - System.nanoTime()) / 1_000_000)));
        }
        return nextStatus;
    }

    private static long status(Fleet fleet, long start, long nextStatus) {
        long now = System.nanoTime();
        if (now < nextStatus) {
            return nextStatus;
        }
        System.out.println("STATUS t=" + fmt((now - start) / 1e9) + " " + counters(fleet));
        return nextStatus + SECOND; // each second: the bench script reads the handshakes answered in a window
    }

    private static String counters(Fleet f) {
        StringBuilder errors = new StringBuilder();
        for (int i = 0; i < f.errorsByCode.length; i++) {
            long n = f.errorsByCode[i].sum();
            if (n > 0) {
                errors.append(errors.length() == 0 ? "" : ",").append(i).append(':').append(n);
            }
        }
        return "up=" + f.up.sum() + " initiations=" + f.initiations.sum() + " responses=" + f.responses.sum()
                + " cookie_replies=" + f.cookieReplies.sum() + " timeouts=" + f.timeouts.sum() + " rekeys="
                + f.rekeys.sum() + " silences=" + f.silences.sum() + " keepalives=" + f.keepalives.sum() + " acks=" + f.acks.sum() + " frames_sent="
                + f.framesSent.sum() + " frames_received=" + f.framesReceived.sum() + " leaves=" + f.leaves.sum()
                + " unopened=" + f.unopened.sum() + " bad_answers=" + f.badAnswers.sum() + " send_drops="
                + f.sendDrops.sum() + " errors=" + f.errors.sum() + (errors.length() == 0 ? "" : " errors_by_code=" + errors);
    }

    private static void event(String name, String detail) {
        System.out.println("EVENT " + name + " at=" + System.currentTimeMillis() + " " + detail);
        System.out.flush();
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static String fmt(double d) {
        return String.format(java.util.Locale.ROOT, "%.2f", d);
    }

    private static InetAddress offset(InetAddress base, int k) throws java.net.UnknownHostException {
        byte[] b = base.getAddress();
        int a = ((b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | b[3] & 0xff) + k;
        return InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
    }

    static Config parse(String[] args) {
        Map<String, String> a = new HashMap<>();
        boolean sameIdentity = false;
        for (int i = 0; i < args.length; i++) {
            String k = args[i];
            if (k.equals("-h") || k.equals("--help")) {
                return null;
            }
            if (k.equals("--churn-same-identity")) {
                sameIdentity = true;
                continue;
            }
            if (!k.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("bad argument '" + k + "'");
            }
            a.put(k.substring(2), args[++i]);
        }
        Set<String> known = Set.of("switch", "switch-key", "network", "members", "sources", "source-base", "threads",
                "inflight", "join-rate", "keepalive", "frame-interval", "join-timeout", "quiet-seconds", "churn",
                "churn-seconds", "churn-down", "tail-seconds", "cipher");
        for (String k : a.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("unknown option --" + k);
            }
        }
        String sw = a.getOrDefault("switch", "127.0.0.1:9991");
        int colon = sw.lastIndexOf(':');
        if (colon < 1) {
            throw new IllegalArgumentException("--switch takes HOST:PORT, got '" + sw + "'");
        }
        InetSocketAddress target = new InetSocketAddress(sw.substring(0, colon), intIn(sw.substring(colon + 1), "--switch port", 1, 65535));
        if (target.isUnresolved()) {
            throw new IllegalArgumentException("--switch: cannot resolve " + sw);
        }
        String keyText = a.get("switch-key");
        if (keyText == null) {
            throw new IllegalArgumentException("--switch-key is required");
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(keyText.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--switch-key is not base64: " + keyText);
        }
        if (key.length != 32) {
            throw new IllegalArgumentException("--switch-key is " + key.length + " bytes, an X25519 key is 32");
        }
        long network;
        try {
            network = Long.parseUnsignedLong(a.getOrDefault("network", "0"), 16);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--network takes 1-16 hex digits, got " + a.get("network"));
        }
        InetAddress base;
        try {
            base = InetAddress.getByName(a.getOrDefault("source-base", "127.0.1.1"));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("--source-base: " + e.getMessage());
        }
        if (!(base instanceof Inet4Address)) {
            throw new IllegalArgumentException("--source-base takes an IPv4 address");
        }
        CipherPolicy cipher;
        try {
            cipher = CipherPolicy.parse(a.getOrDefault("cipher", "auto"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--cipher takes " + CipherPolicy.VALUES);
        }
        return new Config(target, key, network, intIn(a.getOrDefault("members", "1000"), "--members", 1, 1_000_000),
                intIn(a.getOrDefault("sources", "64"), "--sources", 1, 65_536), base,
                intIn(a.getOrDefault("threads", "2"), "--threads", 1, 64),
                intIn(a.getOrDefault("inflight", "4"), "--inflight", 1, 1_000),
                intIn(a.getOrDefault("join-rate", "0"), "--join-rate", 0, 1_000_000),
                (long) (seconds(a.getOrDefault("keepalive", "10"), "--keepalive", 0.01) * SECOND),
                (long) (seconds(a.getOrDefault("frame-interval", "30"), "--frame-interval", 0) * SECOND),
                seconds(a.getOrDefault("join-timeout", "600"), "--join-timeout", 1),
                seconds(a.getOrDefault("quiet-seconds", "60"), "--quiet-seconds", 0),
                intIn(a.getOrDefault("churn", "20"), "--churn", 0, 1_000_000),
                seconds(a.getOrDefault("churn-seconds", "30"), "--churn-seconds", 0),
                seconds(a.getOrDefault("churn-down", "2"), "--churn-down", 0), !sameIdentity,
                seconds(a.getOrDefault("tail-seconds", "5"), "--tail-seconds", 0), cipher);
    }

    private static int intIn(String v, String flag, int min, int max) {
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(flag + " takes a whole number " + min + ".." + max + ", got '" + v + "'");
    }

    private static double seconds(String v, String flag, double min) {
        try {
            double d = Double.parseDouble(v.trim());
            if (d >= min && d <= 86_400) {
                return d;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(flag + " takes seconds >= " + min + ", got '" + v + "'");
    }
}
