package org.vl2.agent.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's member id: a random 64-bit number kept in a file, so that the switch recognises the same agent
 * (and gives it the same port and address back) across restarts. The file holds 16 lowercase hex digits and a
 * newline; it is created owner-only (0600, its directory 0700) because issue 7 will put the agent's private
 * key next to it. A file that exists but cannot be read or does not hold an id is an error, never overwritten:
 * replacing it would silently make this host a new member and lose its address lease.
 */
final class MemberIdentity {

    /** The file the agent uses unless {@code identity.file} says otherwise. */
    static final String DEFAULT_FILE = "${karaf.data}/vl2/agent-identity";
    static final String KARAF_DATA = "karaf.data";

    private static final Logger LOG = LoggerFactory.getLogger(MemberIdentity.class);
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");

    private MemberIdentity() {
    }

    /**
     * The identity file's path: {@code configured} (empty = {@link #DEFAULT_FILE}) with {@code ${karaf.data}}
     * replaced by that system property. Without it (not in Karaf: tests, embedding) a directory under
     * java.io.tmpdir stands in, with a WARN, because an identity there may not survive a reboot.
     */
    static Path resolve(String configured, String karafData) {
        String s = configured == null || configured.isBlank() ? DEFAULT_FILE : configured.trim();
        String placeholder = "${" + KARAF_DATA + "}";
        if (s.contains(placeholder)) {
            String data = karafData;
            if (data == null || data.isBlank()) {
                data = Path.of(System.getProperty("java.io.tmpdir"), "vl2-agent-" + System.getProperty("user.name"))
                        .toString();
                LOG.warn("Port agent: system property {} is not set (not running in Karaf?): keeping the member"
                        + " identity under {}, which may not survive a reboot; set identity.file to keep it elsewhere",
                        KARAF_DATA, data);
            }
            s = s.replace(placeholder, data);
        }
        return Path.of(s).toAbsolutePath().normalize();
    }

    /**
     * The member id in {@code file}, creating the file with a new random id if it does not exist.
     *
     * @throws IllegalStateException naming the file, what is wrong with it and what to do
     */
    static long loadOrCreate(Path file, SecureRandom random) {
        try {
            return read(file);
        } catch (NoSuchFileException e) {
            return create(file, random);
        }
    }

    private static long read(Path file) throws NoSuchFileException {
        String text;
        try {
            // ISO-8859-1 decodes any bytes, so garbage shows up as "corrupt" below rather than as an I/O error;
            // only the first bytes matter (an id is 17)
            byte[] bytes;
            try (var in = Files.newInputStream(file)) {
                bytes = in.readNBytes(64);
            }
            text = new String(bytes, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (AccessDeniedException e) {
            throw new IllegalStateException("member identity file " + file + " cannot be read (permission denied):"
                    + " run the agent as the user that created it, or fix its permissions", e);
        } catch (IOException | RuntimeException e) {
            // a directory, an I/O error
            throw new IllegalStateException("member identity file " + file + " cannot be read (" + e + "): restore"
                    + " it, or delete it to make this host a new member (it then gets a new port and address)", e);
        }
        String id = text.trim();
        if (id.length() != 16 || !id.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalStateException("member identity file " + file + " is corrupt (expected 16 hex digits,"
                    + " found " + describe(text) + "): restore it, or delete it to make this host a new member"
                    + " (it then gets a new port and address)");
        }
        return Long.parseUnsignedLong(id, 16);
    }

    /**
     * Writes a new id into a temporary file and links it into place, so a crash never leaves half a file and a
     * file another process created meanwhile is never replaced (a rename would replace it).
     */
    private static long create(Path file, SecureRandom random) {
        long id;
        do {
            id = random.nextLong();
        } while (id == 0); // 0 reads as "no member" too easily
        Path dir = file.getParent();
        Path tmp = null;
        try {
            if (dir != null && !Files.isDirectory(dir)) {
                Files.createDirectories(dir, posix(DIR_MODE));
            }
            tmp = Files.createTempFile(dir, ".agent-identity", ".tmp", posix(FILE_MODE));
            Files.writeString(tmp, format(id) + "\n", StandardCharsets.US_ASCII);
            try {
                Files.createLink(file, tmp);
            } catch (FileAlreadyExistsException e) {
                return read(file); // another process was faster: its id wins
            } catch (UnsupportedOperationException e) {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE); // no hard links on this file system
            } finally {
                deleteQuietly(tmp);
            }
        } catch (IOException | UnsupportedOperationException e) {
            deleteQuietly(tmp);
            throw new IllegalStateException("cannot create member identity file " + file + " (" + e + "): make its"
                    + " directory writable, or set identity.file to a writable path", e);
        }
        LOG.info("Port agent: new member identity {} in {}", format(id), file);
        return id;
    }

    /** Owner-only permissions where the file system has POSIX permissions (Linux: always). */
    private static FileAttribute<?>[] posix(Set<PosixFilePermission> mode) {
        return PosixFileAttributesSupported.YES ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(mode)}
                : new FileAttribute<?>[0];
    }

    private static final class PosixFileAttributesSupported {
        static final boolean YES = java.nio.file.FileSystems.getDefault().supportedFileAttributeViews()
                .contains("posix");
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort: only a stray temporary file is left
            }
        }
    }

    /** 16 lowercase hex digits, as in the file and the status. */
    static String format(long id) {
        return String.format(Locale.ROOT, "%016x", id);
    }

    /** What the file holds, short and printable, for the error message. */
    private static String describe(String text) {
        if (text.isBlank()) {
            return text.isEmpty() ? "an empty file" : "only white space";
        }
        String t = text.strip();
        String shown = t.length() > 40 ? t.substring(0, 40) + "..." : t;
        StringBuilder sb = new StringBuilder("'");
        shown.chars().forEach(c -> sb.append(c >= 0x20 && c < 0x7F ? (char) c : '?'));
        return sb.append("'").toString();
    }
}
