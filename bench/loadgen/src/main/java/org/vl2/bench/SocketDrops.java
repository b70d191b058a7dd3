package org.vl2.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The kernel's count of datagrams dropped at full UDP receive buffers, per local port (Linux, /proc/net/udp). */
final class SocketDrops {

    private SocketDrops() {
    }

    static long delta(Map<Integer, Long> before, Map<Integer, Long> after, int port) {
        Long a = after.get(port);
        if (a == null) {
            return 0;
        }
        return a - before.getOrDefault(port, 0L);
    }

    /**
     * Receive-buffer drops per local UDP port, from /proc/net/udp and udp6 (this network namespace; the last
     * column). Empty if not on Linux.
     */
    static Map<Integer, Long> socketDrops() {
        Map<Integer, Long> drops = new HashMap<>();
        for (String file : new String[] {"/proc/net/udp", "/proc/net/udp6"}) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(file));
            } catch (IOException | RuntimeException e) {
                continue;
            }
            for (int i = 1; i < lines.size(); i++) {
                String[] f = lines.get(i).trim().split("\\s+");
                if (f.length < 13) {
                    continue;
                }
                try {
                    String local = f[1];
                    int port = Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
                    long d = Long.parseLong(f[f.length - 1]);
                    drops.merge(port, d, Long::sum);
                } catch (RuntimeException e) {
                    // not a socket line
                }
            }
        }
        return drops;
    }
}
