package org.vl2.agent.internal;

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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/** Real-kernel test helpers: the root/tun assumption, unique interface names, {@code ip}, cleanup. */
final class Kernel {

    /** Prefix of every interface these tests create ({@code vl2a} + 6 random characters). */
    static final String PREFIX = "vl2a";

    private final List<String> created = new ArrayList<>();
    private final List<String> namespaces = new ArrayList<>();

    /** Skips the calling test unless it has CAP_NET_ADMIN (e.g. root), /dev/net/tun and the ip command. */
    static void assumeRootAndTun() {
        boolean netAdmin = hasNetAdmin();
        boolean tun = Files.exists(Path.of("/dev/net/tun"));
        boolean ip = List.of("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip").stream()
                .anyMatch(p -> Files.isExecutable(Path.of(p)));
        assumeTrue(netAdmin && tun && ip, "skipped: needs root and /dev/net/tun, because it creates a real TAP"
                + " device (CAP_NET_ADMIN=" + netAdmin + ", /dev/net/tun=" + tun + ", ip=" + ip + "); run the build"
                + " as root to include it");
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

    /** A fresh name {@code vl2a<6 random chars>}, remembered for {@link #cleanup()}. */
    String uniqueName() {
        String name = randomName();
        created.add(name);
        return name;
    }

    /** A network namespace {@code vl2a<6 random chars>}, created now and deleted by {@link #cleanup()}. */
    String namespace() {
        String name = randomName();
        namespaces.add(name);
        Result r = exec("ip", "netns", "add", name);
        if (r.exitCode() != 0) {
            throw new AssertionError("ip netns add " + name + ": " + r.output());
        }
        return name;
    }

    private static String randomName() {
        String chars = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder sb = new StringBuilder(PREFIX);
        for (int i = 0; i < 6; i++) {
            sb.append(chars.charAt(ThreadLocalRandom.current().nextInt(chars.length())));
        }
        return sb.toString();
    }

    /**
     * Deletes every remembered interface that still exists (a failed test may have left it), then every namespace
     * (with what is in it).
     */
    void cleanup() {
        for (String name : created) {
            if (exists(name)) {
                exec("ip", "link", "del", name);
            }
        }
        created.clear();
        for (String ns : namespaces) {
            exec("ip", "netns", "del", ns);
        }
        namespaces.clear();
    }

    static boolean exists(String name) {
        return exec("ip", "link", "show", "dev", name).exitCode() == 0;
    }

    /** A third octet {@code x} such that nothing on this host routes 10.213.x.0/24 yet. */
    static int freeSubnet() {
        for (int i = 0; i < 50; i++) {
            int x = ThreadLocalRandom.current().nextInt(1, 255);
            if (exec("ip", "-4", "route", "show", "to", "match", "10.213." + x + ".1").output().lines()
                    .noneMatch(l -> l.startsWith("10.213."))) {
                return x;
            }
        }
        throw new AssertionError("no free 10.213.x.0/24 subnet for the test");
    }

    record Result(int exitCode, String output) {
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
}
