package org.vl2.ipam;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease file of a {@link LeaseTable}: one lease per line, {@code key address expiresEpochMillis|-}, read
 * leniently (a damaged line is skipped with a WARN, never the whole file) and written atomically (a temporary file
 * moved over the old one, so a crash leaves either file whole).
 */
final class LeaseFile {

    private static final Logger LOG = LoggerFactory.getLogger(LeaseTable.class);

    /** Where the leases that pass every check go. */
    interface Sink {
        void lease(String key, int address, long expires);
    }

    private LeaseFile() {
    }

    /**
     * Reads {@code text} (the content of {@code file}) into {@code sink}: leases outside {@code pool}'s subnet, on the
     * server address, or colliding with an earlier line are dropped with a WARN; so are lines that cannot be read.
     * Leases held until released ('-') get {@code orphanExpiry}; leases expired at {@code now} are left out.
     */
    static void parse(String text, Path file, Ipv4Pool pool, long now, long orphanExpiry, Sink sink) {
        Map<String, Integer> keyLine = new HashMap<>();
        Map<Long, Integer> addressLine = new HashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int lineNo = i + 1;
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] t = line.split("\\s+");
            if (t.length != 3) {
                warn(file, lineNo, line, "expected 'key address expiresEpochMillis|-'; line skipped");
                continue;
            }
            if (!LeaseTable.isValidKey(t[0])) {
                warn(file, lineNo, line, "not a valid lease key; line skipped");
                continue;
            }
            long a = Ipv4Pool.parseAddress(t[1]);
            if (a < 0) {
                warn(file, lineNo, line, "'" + t[1] + "' is not an IPv4 address; line skipped");
                continue;
            }
            long expires;
            if (t[2].equals("-")) {
                expires = orphanExpiry;
            } else {
                try {
                    expires = Long.parseLong(t[2]);
                } catch (NumberFormatException e) {
                    warn(file, lineNo, line, "'" + t[2] + "' is neither an epoch-millisecond time nor '-'; line"
                            + " skipped");
                    continue;
                }
                if (expires <= now) {
                    continue; // ended while the switch was down: the address is free again
                }
            }
            int address = (int) a;
            if (!pool.isHost(address)) {
                warn(file, lineNo, line, t[1] + " is not a host address of " + pool.cidr() + "; lease dropped");
            } else if (address == pool.serverInt()) {
                warn(file, lineNo, line, t[1] + " is the server address of " + pool.cidr() + "; lease dropped");
            } else if (keyLine.containsKey(t[0])) {
                warn(file, lineNo, line, t[0] + " already has a lease on line " + keyLine.get(t[0]) + "; lease"
                        + " dropped");
            } else if (addressLine.containsKey(a)) {
                warn(file, lineNo, line, t[1] + " is already leased on line " + addressLine.get(a) + "; lease"
                        + " dropped");
            } else {
                keyLine.put(t[0], lineNo);
                addressLine.put(a, lineNo);
                sink.lease(t[0], address, expires);
            }
        }
    }

    private static void warn(Path file, int lineNo, String line, String why) {
        String shown = line.length() > 100 ? line.substring(0, 100) + "..." : line;
        shown = shown.replaceAll("\\p{Cntrl}", "?");
        LOG.warn("Lease file {} line {}: {} ('{}')", file, lineNo, why, shown);
    }

    /**
     * Writes {@code bytes} to {@code file} through a temporary file in the same directory, forced to disk, then moved
     * over it; false (logged) if that failed: the leases are then kept in memory only until the next write.
     */
    static boolean write(Path file, byte[] bytes, Ipv4Pool pool) {
        Path target = file.toAbsolutePath();
        Path tmp = null;
        try {
            Path dir = target.getParent();
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, target.getFileName() + ".", ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.warn("Could not write the leases of {} to {}: {}; they are kept in memory only until the next write",
                    pool.cidr(), file, e.toString());
            return false;
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write already failed and was logged; a stray temp file is harmless
                }
            }
        }
    }
}
