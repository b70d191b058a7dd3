package org.vl2.tap.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for real-kernel tests, named {@code vl2t<6 random chars>} like the test interfaces, and
 * the processes run in them; {@link #close()} kills the processes and deletes the namespaces, whatever happened.
 */
final class Netns implements AutoCloseable {

    private final List<String> names = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    /** Creates a namespace with its loopback up. */
    String create() {
        String name = Kernel.PREFIX + Kernel.suffix(6);
        Kernel.run("netns", "add", name);
        names.add(name);
        Kernel.run("-n", name, "link", "set", "lo", "up");
        return name;
    }

    /** Moves a device (created in this namespace) into {@code ns}, gives it the addresses and brings it up. */
    static void moveAndConfigure(String device, String ns, String ipv4, String ipv6) {
        Kernel.run("link", "set", device, "netns", ns);
        Kernel.run("-n", ns, "addr", "add", ipv4, "dev", device);
        Kernel.run("-n", ns, "addr", "add", ipv6, "dev", device, "nodad");
        Kernel.run("-n", ns, "link", "set", device, "up");
    }

    /** Starts {@code cmd} in {@code ns} in the background; its output goes to the test's output. */
    Process start(String ns, String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(cmd));
        try {
            Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code cmd} in {@code ns}, waiting at most {@code seconds}; the exit code and the output. */
    Kernel.Result run(int seconds, String ns, String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(cmd));
        try {
            Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
            processes.add(p);
            StringBuilder out = new StringBuilder();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        synchronized (out) {
                            out.append(line).append('\n');
                        }
                    }
                } catch (IOException e) {
                    // process killed
                }
            });
            reader.setDaemon(true);
            reader.start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                reader.join(1000);
                synchronized (out) {
                    throw new AssertionError(String.join(" ", full) + " did not finish in " + seconds + " s: " + out);
                }
            }
            reader.join(5000);
            synchronized (out) {
                return new Kernel.Result(p.exitValue(), out.toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Waits (at most {@code millis}) until something listens on TCP {@code port} in {@code ns}. */
    boolean awaitListening(String ns, int port, long millis) {
        return Kernel.await(millis, () -> Kernel.exec("ip", "netns", "exec", ns, "ss", "-Hltn", "sport", "= :" + port)
                .output.contains(":" + port));
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        processes.clear();
        for (String ns : names) {
            Kernel.exec("ip", "netns", "del", ns);
        }
        names.clear();
    }
}
