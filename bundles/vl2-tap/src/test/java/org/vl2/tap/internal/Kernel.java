package org.vl2.tap.internal;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Test helpers for real-kernel tests: the root/tun assumption, unique interface names, {@code ip}
 * commands, and cleanup of whatever a failed test left behind.
 */
final class Kernel {

    /** Prefix of every interface the tests create; with a 6-character suffix, 10 characters. */
    static final String PREFIX = "vl2t";

    private final List<String> created = new ArrayList<>();

    /** Skips the calling test unless it has CAP_NET_ADMIN (e.g. root), /dev/net/tun and the ip command. */
    static void assumeRootAndTun() {
        boolean netAdmin = hasNetAdmin();
        boolean tun = Files.exists(Path.of("/dev/net/tun"));
        boolean ip = Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip"))
                || Files.isExecutable(Path.of("/usr/bin/ip")) || Files.isExecutable(Path.of("/bin/ip"));
        assumeTrue(netAdmin && tun && ip, "needs root and /dev/net/tun: creating real TAP devices needs"
                + " CAP_NET_ADMIN, /dev/net/tun and iproute2's ip (CAP_NET_ADMIN=" + netAdmin + ", /dev/net/tun="
                + tun + ", ip=" + ip + "); run the build as root to include these tests");
    }

    /** CAP_NET_ADMIN (bit 12) in the effective capability set of this process. */
    private static boolean hasNetAdmin() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << 12)) != 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return false;
    }

    /** A fresh name {@code vl2t<6 random chars>}, remembered for {@link #cleanup()}. */
    String uniqueName() {
        String name = PREFIX + suffix(6);
        created.add(name);
        return name;
    }

    /** Remembers an interface whose name the kernel chose, for {@link #cleanup()}. */
    void remember(String name) {
        created.add(name);
    }

    static String suffix(int n) {
        String chars = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(chars.charAt(ThreadLocalRandom.current().nextInt(chars.length())));
        }
        return sb.toString();
    }

    /** Deletes every remembered interface that still exists (a failed test may have left it). */
    void cleanup() {
        for (String name : created) {
            if (exists(name)) {
                run("link", "del", name);
            }
        }
        created.clear();
    }

    static boolean exists(String name) {
        return exec("ip", "link", "show", "dev", name).exitCode == 0;
    }

    /** Waits up to {@code millis} for the condition; true if it held. */
    static boolean await(long millis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Runs {@code ip <args>} and returns its output; fails the test on a non-zero exit. */
    static String run(String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "ip";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Result r = exec(cmd);
        if (r.exitCode != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed (" + r.exitCode + "): " + r.output);
        }
        return r.output;
    }

    /** {@code ip -o link show dev <name>}. */
    static String link(String name) {
        return run("-o", "link", "show", "dev", name);
    }

    /** {@code ip -o addr show dev <name>}. */
    static String addr(String name) {
        return run("-o", "addr", "show", "dev", name);
    }

    static final class Result {
        final int exitCode;
        final String output;

        Result(int exitCode, String output) {
            this.exitCode = exitCode;
            this.output = output;
        }
    }

    static Result exec(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (InputStream in = p.getInputStream()) {
                in.transferTo(out);
            }
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not finish in 10 s");
            }
            return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    static String hex(int octet) {
        return String.format(Locale.ROOT, "%02x", octet);
    }
}
