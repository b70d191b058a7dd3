package org.vl2.agent.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.crypto.Identity;

/**
 * The agent's identity: an X25519 key pair ({@link Identity}, docs/crypto.md) kept in a file, so that the switch
 * recognises the same agent (and gives it the same port and address back) across restarts. The member id is
 * derived from the public key ({@link Identity#memberId()}), in encrypted and in plaintext vl2 mode alike.
 *
 * <p>The file is created owner-only (0600, missing directories 0700) on first start and reused afterwards;
 * {@link Identity#load} refuses one that group or others may access. A file that exists but cannot be read or
 * does not hold a key is an error, never overwritten: replacing it would silently make this host a new member,
 * lose its address lease and its authorization on private networks. That includes the file of agents from before
 * encryption, which held only a random member id (16 hex digits) at the same default path.
 */
final class MemberIdentity {

    /** The file the agent uses unless {@code identity.file} says otherwise. */
    static final String DEFAULT_FILE = "${karaf.data}/vl2/agent-identity";
    static final String KARAF_DATA = "karaf.data";

    private static final Logger LOG = LoggerFactory.getLogger(MemberIdentity.class);
    /** What agents before encrypted sessions wrote: a random member id, 16 hex digits and a newline. */
    private static final Pattern OLD_FORMAT = Pattern.compile("\\s*[0-9a-fA-F]{16}\\s*");

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
     * The identity in {@code file}, creating the file with a new key pair if it does not exist.
     *
     * @throws IllegalStateException naming the file, what is wrong with it and what to do
     */
    static Identity loadOrCreate(Path file) {
        boolean existed = Files.exists(file, LinkOption.NOFOLLOW_LINKS);
        if (Files.isDirectory(file)) {
            throw new IllegalStateException("identity file " + file + " is a directory: remove it, or set"
                    + " identity.file to a file (created with a new key pair on the agent's first start)");
        }
        if (existed) {
            refuseOldFormat(file);
        }
        Identity identity;
        try {
            identity = Identity.loadOrCreate(file);
        } catch (AccessDeniedException e) {
            throw new IllegalStateException("identity file " + file + " cannot be " + (existed ? "read" : "created")
                    + " (permission denied): run the agent as the user that " + (existed ? "created it" : "owns its"
                    + " directory") + ", fix the permissions, or set identity.file to another path", e);
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            // Identity's own messages name the file, the problem and the fix ("Private key file ... chmod 600")
            throw new IllegalStateException(m.startsWith("Private key file") ? m
                    : "identity file " + file + " cannot be " + (existed ? "read" : "created") + " (" + e + "): "
                    + (existed ? "restore it, or delete it to make this host a new member (it then gets a new port"
                            + " and address, and must be authorized again on private networks)"
                            : "make its directory writable, or set identity.file to a writable path"), e);
        } catch (RuntimeException e) {
            throw new IllegalStateException("identity file " + file + " cannot be used (" + e + "): restore it, or"
                    + " delete it to make this host a new member", e);
        }
        if (!existed) {
            LOG.info("Port agent: new identity in {}: public key {}, member id {}", file, identity.fingerprint(),
                    format(identity.memberId()));
        }
        return identity;
    }

    /**
     * Agents before encrypted sessions kept a random member id (16 hex digits) at the same default path. It is
     * not a key and cannot become one: the member id now derives from the public key. Say so rather than
     * calling the file corrupt, and never replace it.
     */
    private static void refuseOldFormat(Path file) {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(64);
        } catch (IOException | RuntimeException e) {
            return; // a directory, unreadable: Identity.load says what is wrong
        }
        if (OLD_FORMAT.matcher(new String(head, StandardCharsets.ISO_8859_1)).matches()) {
            throw new IllegalStateException("identity file " + file + " holds an old-style member id ("
                    + new String(head, StandardCharsets.ISO_8859_1).strip() + ", from an agent before encrypted"
                    + " sessions), not a key pair: delete it to create a key pair (this host then becomes a new"
                    + " member: it gets a new port and address, and private networks must authorize its public key)");
        }
    }

    /** 16 lowercase hex digits, as in the status and the switch's tables. */
    static String format(long id) {
        return Identity.formatMemberId(id);
    }
}
