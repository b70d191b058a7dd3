package org.vl2.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Base64;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;

/**
 * A member's (or the switch's) long-term identity: an X25519 key pair. The public key is the identity; its
 * {@link #memberId() member id} is a 64-bit handle derived from it, its {@link #fingerprint() fingerprint} the
 * text operators copy into configuration (the key itself, base64, as WireGuard shows keys).
 *
 * <p>The identity file is text (see {@link #store(Path)}) and must be accessible by its owner only: loading a
 * file that its group or others may read or write is refused, as ssh refuses such private keys, because the
 * key would then no longer identify this host alone.
 */
public final class Identity {

    /** Length of public and private keys. */
    public static final int KEY_LENGTH = X25519.KEY_LENGTH;

    private static final String PRIVATE_KEY = "private-key";
    private static final String PUBLIC_KEY = "public-key";
    /** An identity file is a few lines; anything larger is not one (and is not read whole). */
    private static final int MAX_FILE_BYTES = 4096;
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = PosixFilePermissions.fromString("---rwxrwx");
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private final PrivateKey privateKey;
    private final byte[] publicKey;
    private final long memberId;

    private Identity(PrivateKey privateKey, byte[] publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.memberId = memberId(publicKey);
    }

    /** A new random key pair (the JDK's default SecureRandom). */
    public static Identity generate() {
        var pair = X25519.generate();
        return new Identity(pair.getPrivate(), X25519.publicKey(pair));
    }

    /**
     * The identity of a raw 32-byte X25519 private key (RFC 7748 encoding, e.g. the output of {@code wg genkey},
     * base64-decoded); the public key is derived from it.
     *
     * @throws IllegalArgumentException if the key is not 32 bytes
     */
    public static Identity fromPrivateKey(byte[] privateKey) {
        PrivateKey key = X25519.privateKey(privateKey.clone());
        return new Identity(key, X25519.publicKeyOf(key));
    }

    /**
     * Reads an identity file written by {@link #store(Path)}. {@code private-key} is required (base64, or 64 hex
     * digits); {@code public-key}, if present, must be the private key's.
     *
     * @throws NoSuchFileException if the file does not exist
     * @throws IOException         naming the file, what is wrong and the fix: group- or world-accessible
     *                             permissions, unreadable, corrupt, or a public key that does not match
     */
    public static Identity load(Path file) throws IOException {
        if (POSIX) {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (mode.stream().anyMatch(GROUP_OR_OTHERS::contains)) {
                throw new IOException("Private key file " + file + " is accessible by group or others (permissions "
                        + PosixFilePermissions.toString(mode) + "); it must be readable by its owner only. Fix: chmod"
                        + " 600 " + file);
            }
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_FILE_BYTES + 1);
        }
        try {
            if (bytes.length > MAX_FILE_BYTES) {
                throw corrupt(file, "longer than " + MAX_FILE_BYTES + " bytes");
            }
            byte[] privateBytes = null;
            byte[] publicBytes = null;
            // ISO-8859-1 decodes any bytes: garbage is reported as corrupt rather than as a charset error
            String[] lines = new String(bytes, StandardCharsets.ISO_8859_1).split("\r?\n");
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i].strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                int eq = line.indexOf('=');
                String key = eq < 0 ? line : line.substring(0, eq).strip();
                String value = eq < 0 ? "" : line.substring(eq + 1).strip();
                if (!PRIVATE_KEY.equals(key) && !PUBLIC_KEY.equals(key)) {
                    throw corrupt(file, "line " + (i + 1) + ": expected 'private-key = ...' or 'public-key = ...'");
                }
                if ((PRIVATE_KEY.equals(key) ? privateBytes : publicBytes) != null) {
                    throw corrupt(file, "line " + (i + 1) + ": a second " + key);
                }
                byte[] decoded = decodeKey(value);
                if (decoded == null) {
                    throw corrupt(file, "line " + (i + 1) + ": " + key + " is not 32 bytes in base64 or hex");
                }
                if (PRIVATE_KEY.equals(key)) {
                    privateBytes = decoded;
                } else {
                    publicBytes = decoded;
                }
            }
            if (privateBytes == null) {
                throw corrupt(file, "no private-key line");
            }
            Identity id = fromPrivateKey(privateBytes);
            Arrays.fill(privateBytes, (byte) 0);
            if (publicBytes != null && !MessageDigest.isEqual(publicBytes, id.publicKey)) {
                throw new IOException("Private key file " + file + " has a public-key that does not belong to its"
                        + " private-key (edited by hand?): remove the public-key line to derive it, or restore the"
                        + " file");
            }
            return id;
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /**
     * Writes this identity to a new file, owner-only (0600), creating missing parent directories owner-only
     * (0700; existing ones are left as they are). The file is written under a temporary name and linked into
     * place, so that a crash never leaves half a key and an existing identity is never replaced. Format:
     *
     * <pre>
     * # vl2 identity (X25519) ...
     * private-key = &lt;base64, 32 bytes&gt;
     * public-key = &lt;base64, 32 bytes: the fingerprint&gt;
     * </pre>
     *
     * @throws FileAlreadyExistsException if the file exists (an identity is never overwritten)
     * @throws IOException                if it cannot be written
     */
    public void store(Path file) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        createDirectories(dir);
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "an identity is never overwritten");
        }
        byte[] privateBytes = X25519.privateBytes(privateKey);
        byte[] text = ("# vl2 identity (X25519 key pair), member id " + formatMemberId(memberId) + "\n"
                + "# The private key is this host's secret: keep this file readable by its owner only.\n"
                + PRIVATE_KEY + " = " + Base64.getEncoder().encodeToString(privateBytes) + "\n"
                + PUBLIC_KEY + " = " + fingerprint() + "\n").getBytes(StandardCharsets.US_ASCII);
        Arrays.fill(privateBytes, (byte) 0);
        Path tmp = Files.createTempFile(dir, ".vl2-identity", ".tmp", posix(FILE_MODE));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(text);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            if (POSIX) {
                Files.setPosixFilePermissions(tmp, FILE_MODE); // whatever the umask made of it
            }
            try {
                Files.createLink(target, tmp);
            } catch (UnsupportedOperationException e) {
                Files.move(tmp, target); // no hard links here: fails too if the target appeared meanwhile
            }
        } finally {
            Arrays.fill(text, (byte) 0);
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * The identity in {@code file}, or a new one stored there if the file does not exist (an agent's first
     * start). If another process creates the file meanwhile, its identity wins.
     *
     * @throws IOException as {@link #load(Path)} and {@link #store(Path)}
     */
    public static Identity loadOrCreate(Path file) throws IOException {
        try {
            return load(file);
        } catch (NoSuchFileException e) {
            Identity id = generate();
            try {
                id.store(file);
                return id;
            } catch (FileAlreadyExistsException raced) {
                return load(file);
            }
        }
    }

    /** The 32-byte public key (a copy). */
    public byte[] publicKey() {
        return publicKey.clone();
    }

    /** {@link #memberId(byte[])} of this identity's public key. */
    public long memberId() {
        return memberId;
    }

    /** {@link #fingerprint(byte[])} of this identity's public key. */
    public String fingerprint() {
        return fingerprint(publicKey);
    }

    PrivateKey privateKey() {
        return privateKey;
    }

    /** Which code does X25519 here: "bouncycastle" (installed, faster) or "jdk" (docs/crypto.md, X25519 engine). */
    public static String x25519Engine() {
        return X25519.engine();
    }

    /** The public key's fingerprint; never the private key. */
    @Override
    public String toString() {
        return "Identity[" + fingerprint() + ", member " + formatMemberId(memberId) + "]";
    }

    /**
     * The member id of a public key: the first 8 bytes of SHA-256(public key), big-endian. A handle for
     * display, addresses (the IPv6 interface id) and lookups; authorization should compare whole keys, since
     * 64 bits are not collision-proof against an attacker who grinds keys.
     *
     * @throws IllegalArgumentException if the key is not 32 bytes
     */
    public static long memberId(byte[] publicKey) {
        checkKeyLength(publicKey);
        try {
            return ByteBuffer.wrap(MessageDigest.getInstance("SHA-256").digest(publicKey)).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /**
     * Whether {@code key} can be a peer's public key: 32 bytes, canonical (bit 255 clear, below 2^255 - 19) and not a
     * low-order point. Costs one Diffie-Hellman: for keys that arrive unauthenticated and rarely (a KEY-REPLY).
     */
    public static boolean isUsablePublicKey(byte[] key) {
        if (key == null || key.length != KEY_LENGTH || !X25519.canonical(key, 0)) {
            return false;
        }
        try {
            X25519.dh(X25519.generate().getPrivate(), key, 0);
            return true;
        } catch (CryptoException e) {
            return false;
        }
    }

    /**
     * A member id as the project shows ids: 16 lowercase hex digits. (Not String.format: the switch keys a member's
     * lease by it on every handshake, and a format string is parsed on each call.)
     */
    public static String formatMemberId(long memberId) {
        return HexFormat.of().toHexDigits(memberId);
    }

    /**
     * The text form of a public key for operators and configuration: standard base64 of the 32 bytes (44
     * characters, the form WireGuard uses), e.g. {@code hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=}.
     *
     * @throws IllegalArgumentException if the key is not 32 bytes
     */
    public static String fingerprint(byte[] publicKey) {
        checkKeyLength(publicKey);
        return Base64.getEncoder().encodeToString(publicKey);
    }

    /**
     * Parses a public key from its {@link #fingerprint(byte[]) fingerprint} (base64) or from 64 hex digits, as
     * pinned in configuration. Surrounding white space is ignored.
     *
     * @throws IllegalArgumentException saying what a key looks like, if the text is neither
     */
    public static byte[] parsePublicKey(String text) {
        byte[] key = text == null ? null : decodeKey(text.strip());
        if (key != null && !X25519.canonical(key, 0)) {
            throw new IllegalArgumentException("not an X25519 public key: '" + shorten(text) + "' is not canonical"
                    + " (its last byte has bit 7 set, or it is at or above 2^255 - 19); vl2 and WireGuard never make"
                    + " such keys");
        }
        if (key == null) {
            throw new IllegalArgumentException("not an X25519 public key: '" + shorten(text) + "'; expected 44"
                    + " characters of base64 (as vl2 shows fingerprints) or 64 hex digits");
        }
        return key;
    }

    /** 32 bytes from base64 (44 characters) or hex (64 digits), or null. */
    private static byte[] decodeKey(String s) {
        try {
            if (s.length() == 64) {
                return HexFormat.of().parseHex(s);
            }
            if (s.length() == 44) {
                byte[] b = Base64.getDecoder().decode(s);
                return b.length == KEY_LENGTH ? b : null;
            }
        } catch (IllegalArgumentException e) {
            return null;
        }
        return null;
    }

    private static void checkKeyLength(byte[] publicKey) {
        if (publicKey.length != KEY_LENGTH) {
            throw new IllegalArgumentException("an X25519 public key is 32 bytes, got " + publicKey.length);
        }
    }

    private static IOException corrupt(Path file, String what) {
        return new IOException("Private key file " + file + " is corrupt (" + what + "): restore it, or delete it"
                + " to make this host a new identity (it must then be authorized again)");
    }

    /** Creates the missing ancestors of {@code dir}, top down, each owner-only. */
    private static void createDirectories(Path dir) throws IOException {
        Deque<Path> missing = new ArrayDeque<>();
        for (Path d = dir; d != null && !Files.isDirectory(d); d = d.getParent()) {
            missing.push(d);
        }
        while (!missing.isEmpty()) {
            Path d = missing.pop();
            try {
                Files.createDirectory(d, posix(DIR_MODE));
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(d)) {
                    throw e;
                }
            }
        }
    }

    private static FileAttribute<?>[] posix(Set<PosixFilePermission> mode) {
        return POSIX ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(EnumSet.copyOf(mode))}
                : new FileAttribute<?>[0];
    }

    private static String shorten(String text) {
        if (text == null) {
            return "null";
        }
        String s = text.strip();
        return s.length() > 48 ? s.substring(0, 48) + "..." : s;
    }
}
