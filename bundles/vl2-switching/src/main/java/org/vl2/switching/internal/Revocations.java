package org.vl2.switching.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Networks;
import org.vl2.crypto.Identity;
import org.vl2.crypto.OwnerOnlyFile;

/**
 * Members deauthorized in the shell ({@code vl2:members -d}), kept in the instance ({@code DATA/vl2/revoked-members},
 * one {@code NETWORK MEMBER} per line) and not in the network's configuration file, which {@code bin/vl2-switch}
 * rewrites from its {@code --member} flags at every start. A revocation wins over a configured member: the network's
 * settings are applied without it, with a WARN naming the file and how to lift it. Authorizing the member in the
 * shell ({@code vl2:members -a}) lifts it. A key and the member id derived from it are one member.
 */
final class Revocations {

    private static final Logger LOG = LoggerFactory.getLogger(Revocations.class);
    static final String FILE_NAME = "revoked-members";
    private static final String HEADER = "# vl2 switch: members deauthorized in the shell (vl2:members -d), one"
            + " 'NETWORK MEMBER' per line. They stay deauthorized even when listed in the network's configuration"
            + " (bin/vl2-switch --member); vl2:members -a lifts a line.\n";

    /** The file, or null (tests): in memory only. */
    private final Path file;
    /** "NETWORK MEMBER" entries, normalised (16 hex digits of the network, the member as NetworkSettings keeps it). */
    private final Set<String> entries = new LinkedHashSet<>();

    /**
     * Reads the file if there is one; one that cannot be read is an error the switch must not skip silently (the
     * revoked members would come back), so it says so and revokes nothing it cannot read.
     */
    Revocations(Path file) {
        this.file = file;
        if (file == null || !Files.exists(file)) {
            return;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String[] f = line.strip().split("\\s+");
                if (f.length == 2 && !line.startsWith("#")) {
                    entries.add(entry(Long.parseUnsignedLong(f[0], 16), f[1]));
                }
            }
        } catch (IOException | RuntimeException e) {
            SwitchCore.FATAL.error("Cannot read the revoked members in {} ({}): members deauthorized in the shell and"
                    + " listed in a network's configuration are authorized until it is fixed", file, e.toString());
        }
    }

    private static String entry(long network, String member) {
        return Networks.format(network) + " " + member;
    }

    /** The member (normalised) is deauthorized on {@code network} for good, until {@link #lift}. */
    synchronized void revoke(long network, String member) {
        if (entries.add(entry(network, member))) {
            save();
        }
    }

    /** Authorized again: every revocation naming that member (its key or its member id) on the network goes. */
    synchronized void lift(long network, String member) {
        if (entries.removeIf(e -> e.startsWith(Networks.format(network) + " ") && sameMember(member(e), member))) {
            save();
        }
    }

    /** Whether {@code member} (normalised) is revoked on {@code network}, by itself or by its key or member id. */
    synchronized boolean revoked(long network, String member) {
        String prefix = Networks.format(network) + " ";
        for (String e : entries) {
            if (e.startsWith(prefix) && sameMember(member(e), member)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code s} without its revoked members, each named in a WARN ({@code pid}: the configuration that lists it);
     * {@code s} itself when none is.
     */
    NetworkSettings apply(NetworkSettings s, String pid) {
        Set<String> keep = new LinkedHashSet<>();
        for (String m : s.members()) {
            if (revoked(s.id(), m)) {
                LOG.warn("Network {}: member {} is listed in {} (members, e.g. bin/vl2-switch --member) but was"
                        + " deauthorized in the shell (vl2:members -d; kept in {}): it stays deauthorized. To"
                        + " authorize it again: vl2:members -a {} {}", Networks.format(s.id()), m, pid,
                        file == null ? FILE_NAME : file, m, Networks.format(s.id()));
            } else {
                keep.add(m);
            }
        }
        return keep.size() == s.members().size() ? s : s.withMembers(keep);
    }

    /**
     * Whether two members (normalised: a key's base64 fingerprint, or a 16-digit member id) are one: equal, or one
     * is the member id derived from the other key.
     */
    static boolean sameMember(String a, String b) {
        return a.equals(b) || memberIdOf(a).equals(memberIdOf(b));
    }

    private static String memberIdOf(String normalised) {
        if (normalised.length() == 16) {
            return normalised;
        }
        try {
            return Identity.formatMemberId(Identity.memberId(Identity.parsePublicKey(normalised)));
        } catch (IllegalArgumentException e) {
            return normalised; // not a key: only equal entries match
        }
    }

    private static String member(String entry) {
        return entry.substring(entry.indexOf(' ') + 1);
    }

    /** Rewrites the file (owner-only, atomically); a failure is logged: the revocation holds until a restart. */
    private void save() {
        if (file == null) {
            return;
        }
        List<String> lines = new ArrayList<>(entries);
        try {
            OwnerOnlyFile.write(file, HEADER + String.join("\n", lines) + (lines.isEmpty() ? "" : "\n"));
        } catch (IOException | RuntimeException e) {
            LOG.error("Cannot save the revoked members in {} ({}): the revocation holds until the switch restarts",
                    file, e.toString());
        }
    }
}
