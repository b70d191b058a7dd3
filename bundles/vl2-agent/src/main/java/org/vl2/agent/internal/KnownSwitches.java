package org.vl2.agent.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import org.vl2.crypto.Identity;
import org.vl2.crypto.OwnerOnlyFile;

/**
 * Switch keys pinned on first use ({@code trust.on.first.use}), like ssh's known_hosts: one line per switch
 * address, {@code HOST:PORT KEY}, in a file beside the agent's identity. Once a key is here it is pinned: a
 * switch that later presents another key is refused, never silently trusted. Deleting the line (or the file)
 * trusts the next key the switch presents.
 */
final class KnownSwitches {

    static final String FILE_NAME = "known-switches";
    private static final String HEADER = "# vl2 agent: switch public keys pinned on first use (trust.on.first.use)."
            + " A switch presenting another key is refused; delete its line to trust its new key.\n";

    private KnownSwitches() {
    }

    /** The file beside the identity file. */
    static Path beside(Path identityFile) {
        return identityFile.resolveSibling(FILE_NAME);
    }

    /**
     * The key pinned for {@code address} ({@link SwitchAddress#toString()}), or null.
     *
     * @throws IllegalStateException if the file exists but cannot be read, or the line for this switch does not
     *                               hold a key (never guessed over: the operator must look)
     */
    static byte[] lookup(Path file, String address) {
        if (!Files.exists(file)) {
            return null;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("known switches file " + file + " cannot be read (" + e + "): fix its"
                    + " permissions, or delete it to trust the switch's key on first use again", e);
        }
        for (String line : lines) {
            String[] f = line.strip().split("\\s+");
            if (f.length >= 2 && f[0].equals(address)) {
                try {
                    return Identity.parsePublicKey(f[1]);
                } catch (IllegalArgumentException e) {
                    throw new IllegalStateException("known switches file " + file + ": the line for " + address
                            + " does not hold a public key ('" + f[1] + "'): fix it, or delete the line to trust"
                            + " the switch's key on first use again", e);
                }
            }
        }
        return null;
    }

    /**
     * Pins {@code key} for {@code address}: rewrites the file (owner-only, atomically, so a crash never leaves a
     * half-written file) with this line added. The read-modify-write holds an exclusive lock on
     * {@code known-switches.lock}, so that agents of other processes sharing the file (one identity.file) lose no
     * line; the instances of one process call this under {@link AgentInstances#files}.
     *
     * @throws IOException if the file cannot be written
     */
    static void remember(Path file, String address, byte[] key) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        try (FileChannel lock = FileChannel.open(dir.resolve(FILE_NAME + ".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock held = lock.lock()) {
            rewrite(file, address, key);
        }
    }

    private static void rewrite(Path file, String address, byte[] key) throws IOException {
        List<String> keep = new ArrayList<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String[] f = line.strip().split("\\s+");
                if (!line.startsWith("#") && !line.isBlank() && !f[0].equals(address)) {
                    keep.add(line);
                }
            }
        }
        keep.add(address + " " + Identity.fingerprint(key));
        StringBuilder text = new StringBuilder(HEADER);
        for (String line : keep) {
            text.append(line).append('\n');
        }
        OwnerOnlyFile.write(file, text.toString());
    }
}
