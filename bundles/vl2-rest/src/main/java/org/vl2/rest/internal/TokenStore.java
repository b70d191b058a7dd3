package org.vl2.rest.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.ApiToken;
import org.vl2.api.ApiTokenService;

/**
 * The API tokens of an instance, kept in one file ({@code ${karaf.data}/vl2/api-tokens}, 0600) as name, access,
 * creation time and the SHA-256 of the secret: the secret itself is shown once, at creation, and never stored. A
 * token is 32 random bytes (256 bits), so a plain SHA-256 suffices: no password hashing (salt, iterations) is
 * needed against guessing a value of that size, and checking a token costs one hash, not a key derivation per
 * request.
 *
 * <p>Lookups (every request) read an immutable map by the hash, without a lock; create and revoke write the file
 * first (atomically: a temporary file moved over it) and swap the map only once the file says the same.
 */
@Component(service = {ApiTokenService.class, TokenStore.class})
public final class TokenStore implements ApiTokenService {

    /**
     * The file, in the instance's data beside its identity ({@code ${karaf.data}/vl2}): the vl2 launchers write
     * DIR/etc afresh at every start, DIR/data stays.
     */
    static final String FILE = "api-tokens";

    /** What every token starts with: says what it is in a log or a secret scanner, and is never a password. */
    static final String PREFIX = "vl2_";
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final String READ = "read";
    private static final String WRITE = "write";
    private static final Logger LOG = LoggerFactory.getLogger(TokenStore.class);

    private record Entry(String name, boolean admin, Instant created, String hash) {
    }

    private final Path file;
    private final Supplier<Instant> clock;
    private final SecureRandom random = new SecureRandom();
    /** By hash; replaced whole under the lock (readers never lock). */
    private volatile Map<String, Entry> byHash = Map.of();
    /**
     * Why the file could not be read at the start, or null. Then create and revoke are refused: writing the file
     * anew would drop every token it holds.
     */
    private final String unreadable;
    private final Map<String, Instant> lastUsed = new ConcurrentHashMap<>();

    @Activate
    public TokenStore() {
        this(Path.of(System.getProperty("karaf.data", System.getProperty("karaf.base", ".") + "/data"), "vl2", FILE),
                Instant::now);
    }

    TokenStore(Path file, Supplier<Instant> clock) {
        this.file = file;
        this.clock = clock;
        String[] why = new String[1];
        this.byHash = load(file, why);
        this.unreadable = why[0];
    }

    /** The token a request's bearer value names, or null: unknown, revoked or malformed. */
    ApiToken check(String secret) {
        if (secret == null || !secret.startsWith(PREFIX) || secret.length() > 128) {
            return null;
        }
        Entry e = byHash.get(sha256(secret));
        if (e == null) {
            return null;
        }
        Instant now = clock.get();
        lastUsed.put(e.name, now);
        return new ApiToken(e.name, e.admin, e.created, now);
    }

    @Override
    public synchronized String create(String name, boolean admin) {
        requireReadable();
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a token name is 1 to 64 letters, digits, '.', '_' or '-' (starting "
                    + "with a letter or digit), got '" + name + "'");
        }
        if (byHash.values().stream().anyMatch(e -> e.name.equals(name))) {
            throw new IllegalArgumentException("a token named '" + name + "' exists (vl2:token-revoke " + name
                    + " first)");
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String secret = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Entry e = new Entry(name, admin, clock.get().truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
                sha256(secret));
        Map<String, Entry> next = new java.util.HashMap<>(byHash);
        next.put(e.hash, e);
        save(next);
        byHash = Map.copyOf(next);
        LOG.info("API token '{}' created ({})", name, admin ? "read and write" : "read only");
        return secret;
    }

    @Override
    public List<ApiToken> tokens() {
        Map<String, ApiToken> sorted = new TreeMap<>();
        for (Entry e : byHash.values()) {
            sorted.put(e.name, new ApiToken(e.name, e.admin, e.created, lastUsed.get(e.name)));
        }
        return List.copyOf(sorted.values());
    }

    @Override
    public synchronized boolean revoke(String name) {
        requireReadable();
        Map<String, Entry> next = new java.util.HashMap<>(byHash);
        if (!next.values().removeIf(e -> e.name.equals(name))) {
            return false;
        }
        save(next);
        byHash = Map.copyOf(next);
        lastUsed.remove(name);
        LOG.info("API token '{}' revoked", name);
        return true;
    }

    private void requireReadable() {
        if (unreadable != null) {
            throw new IllegalStateException("the token file " + file + " could not be read at the start ("
                    + unreadable + "): nothing changed, since writing it would drop its tokens; repair or remove it,"
                    + " then restart the instance");
        }
    }

    private void save(Map<String, Entry> entries) {
        StringBuilder b = new StringBuilder("# vl2 HTTP API tokens (vl2:token-create, vl2:tokens, vl2:token-revoke):"
                + " NAME ACCESS CREATED SHA-256-OF-THE-TOKEN. The tokens themselves are not kept.\n");
        entries.values().stream().sorted(java.util.Comparator.comparing(Entry::name))
                .forEach(e -> b.append(e.name).append(' ').append(e.admin ? WRITE : READ).append(' ')
                        .append(e.created).append(' ').append(e.hash).append('\n'));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.deleteIfExists(tmp);
            try {
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException notPosix) {
                Files.createFile(tmp);
            }
            Files.writeString(tmp, b, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the token file " + file + ": " + e.getMessage()
                    + " (nothing changed)", e);
        }
    }

    /**
     * The file's tokens; a line that is not one is skipped with a log line naming it (the others still work). A file
     * that cannot be read gives none, with the reason in {@code why[0]}.
     */
    private static Map<String, Entry> load(Path file, String[] why) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Map.of();
        } catch (IOException e) {
            why[0] = e.toString();
            LOG.warn("Cannot read the API token file {}: {}; no token is accepted and none can be created or revoked"
                    + " until it can be read (restart the instance then)", file, e.toString());
            return Map.of();
        }
        Map<String, Entry> entries = new java.util.HashMap<>();
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            Entry e = null;
            if (f.length == 4 && NAME.matcher(f[0]).matches() && (f[1].equals(READ) || f[1].equals(WRITE))
                    && f[3].matches("[0-9a-f]{64}") && !seen.contains(f[0])) {
                try {
                    e = new Entry(f[0], f[1].equals(WRITE), Instant.parse(f[2]), f[3]);
                } catch (DateTimeParseException bad) {
                    e = null;
                }
            }
            if (e == null) {
                LOG.warn("API token file {} line {}: not 'NAME read|write CREATED SHA-256' (or a name given twice): "
                        + "skipped", file, i + 1);
                continue;
            }
            seen.add(e.name);
            entries.put(e.hash, e);
        }
        return Map.copyOf(entries);
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java has SHA-256
        }
    }
}
