package org.vl2.agent.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What this agent instance changed in the host's network configuration (routes, sysctls, an nftables table), one
 * line each, in a file of its data directory: written before a change is made and after one is undone, replaced
 * atomically, so that after a crash (SIGKILL, power loss) the next start finds and undoes exactly what is left
 * ({@link ManagedRoutes#cleanUp}). Lines: {@code route DST/LEN GATEWAY|- IFINDEX METRIC},
 * {@code sysctl PATH VALUE} (the value to restore), {@code nft TABLE}.
 */
final class RouteJournal {

    private final Path file;
    private final Set<String> entries = new LinkedHashSet<>();

    RouteJournal(Path file) {
        this.file = file;
    }

    /** {@code ${karaf.data}/vl2/host-changes[-INSTANCE]} (a temporary directory outside Karaf). */
    static Path defaultFile(String instance) {
        String data = System.getProperty(MemberIdentity.KARAF_DATA);
        Path dir = data == null || data.isBlank() ? Path.of(System.getProperty("java.io.tmpdir"), "vl2-agent")
                : Path.of(data, "vl2");
        return dir.resolve("host-changes" + (instance.isEmpty() ? "" : "-" + instance));
    }

    Path file() {
        return file;
    }

    /** What a previous instance left (empty if it stopped cleanly). */
    List<String> leftovers() throws IOException {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    /** Records a change about to be made. */
    synchronized void add(String entry) throws IOException {
        if (entries.add(entry)) {
            write();
        }
    }

    /** A change was undone. */
    synchronized void remove(String entry) throws IOException {
        if (entries.remove(entry)) {
            write();
        }
    }

    synchronized List<String> entries() {
        return new ArrayList<>(entries);
    }

    /** Everything is undone: the file goes. */
    synchronized void clear() throws IOException {
        entries.clear();
        Files.deleteIfExists(file);
    }

    private void write() throws IOException {
        if (entries.isEmpty()) {
            Files.deleteIfExists(file);
            return;
        }
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, String.join("\n", entries).concat("\n").getBytes(StandardCharsets.UTF_8));
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
