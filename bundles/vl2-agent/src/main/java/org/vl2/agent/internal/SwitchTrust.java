package org.vl2.agent.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Arrays;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.crypto.Identity;

/**
 * vl2 mode: who this agent is and which switch it trusts. The agent's X25519 key pair (the member id derives from
 * it) comes from {@code identity.file}; the switch's public key is configured ({@code switch.key}) or, with trust on
 * first use, read from {@code known-switches} beside the identity file, or learned from the switch's KEY-REPLY on
 * the first start and pinned there. A pinned key is never replaced: a switch presenting another one is reported.
 */
final class SwitchTrust {

    private static final Logger LOG = LoggerFactory.getLogger(SwitchTrust.class);

    /** What a KEY-REPLY did. */
    enum Outcome {
        /** Nothing to do (a pinned key confirmed, or nothing asked for). */
        NONE,
        /** Trust on first use: the key is pinned now; the handshake can start. */
        PINNED,
        /** The switch holds another key than the pinned one: {@link #mismatch} says so (once per key). */
        MISMATCH
    }

    private final Identity identity;
    private final String switchAddress;
    /** The instance's log prefix ({@link Lifecycle#tag}). */
    private final String tag;
    /** The files this trust reads and writes are shared by the process's agent instances: written under this. */
    private final AgentInstances instances;
    /** Trust on first use: the file of pinned switch keys; null otherwise. */
    private final Path knownSwitches;
    /**
     * The switch's public key: configured, or pinned on first use (read from {@link #knownSwitches}, or learned
     * from a KEY-REPLY by the control thread); null only while trust-on-first-use waits for the switch's answer.
     */
    private volatile byte[] switchKey;
    /** The last key a switch presented that differs from the pinned one (said once per key, not per retry). */
    private byte[] mismatchSaid;
    private String mismatch;

    private SwitchTrust(Identity identity, String switchAddress, Path knownSwitches, byte[] switchKey, String tag,
                        AgentInstances instances) {
        this.identity = identity;
        this.switchAddress = switchAddress;
        this.tag = tag;
        this.instances = instances;
        this.knownSwitches = knownSwitches;
        this.switchKey = switchKey;
    }

    /**
     * Loads (or creates) the identity and, with trust on first use, the pinned key. The process's instances share
     * the identity file (one member identity per process, as a ZeroTier node has) unless identity.file says otherwise:
     * whichever starts first creates it, under {@link AgentInstances#files}, and the others read it.
     *
     * @throws IllegalStateException {@code Port agent not started: ...}, logged on {@link PortAgent#FATAL}
     */
    static SwitchTrust load(AgentConfig.Settings settings, String tag, AgentInstances instances) {
        Path file = MemberIdentity.resolve(settings.identityFile(), System.getProperty(MemberIdentity.KARAF_DATA));
        Identity identity;
        String address = settings.switchAddress().toString();
        Path known = settings.trustOnFirstUse() ? KnownSwitches.beside(file) : null;
        byte[] key = null;
        synchronized (instances.files) {
            try {
                identity = MemberIdentity.loadOrCreate(file);
                if (known != null) {
                    key = KnownSwitches.lookup(known, address);
                }
            } catch (IllegalStateException e) {
                throw notStarted(e, tag);
            }
        }
        if (known == null) {
            return new SwitchTrust(identity, address, null, settings.switchKey(), tag, instances);
        }
        if (key != null) {
            LOG.info("{}Port agent: switch {} has key {}, pinned on first use in {}", tag, address,
                    Identity.fingerprint(key), known);
        }
        return new SwitchTrust(identity, address, known, key, tag, instances);
    }

    private static IllegalStateException notStarted(IllegalStateException e, String tag) {
        String message = "Port agent not started: " + e.getMessage();
        PortAgent.FATAL.error("{}{}", tag, message);
        return new IllegalStateException(message, e);
    }

    Identity identity() {
        return identity;
    }

    /** The switch's key, null while trust on first use waits for it. */
    byte[] switchKey() {
        return switchKey;
    }

    /** True if the key was pinned on first use (now or on an earlier start). */
    boolean firstUse() {
        return knownSwitches != null;
    }

    Path knownSwitches() {
        return knownSwitches;
    }

    /**
     * Trust on first use, still without a key: the key pinned for the switch's resolved address, which another
     * spelling of the same switch ({@code --switch} by name, by address, with or without the port) pinned. Pins are
     * kept under both the configured text and the resolved address, so neither a new spelling nor a name that now
     * resolves elsewhere starts trust on first use again. True if a key was found (now {@link #switchKey}).
     */
    boolean pinnedAt(InetSocketAddress resolved) {
        if (switchKey != null || knownSwitches == null || resolved == null || resolved.getAddress() == null) {
            return switchKey != null;
        }
        String at = Endpoints.format(resolved);
        byte[] key;
        synchronized (instances.files) {
            try {
                key = KnownSwitches.lookup(knownSwitches, at);
            } catch (IllegalStateException e) {
                LOG.error("{}Port agent: {}", tag, e.getMessage());
                return false;
            }
        }
        if (key == null) {
            return false;
        }
        switchKey = key;
        LOG.info("{}Port agent: switch {} ({}) has key {}, pinned on first use in {}", tag, switchAddress, at,
                Identity.fingerprint(key), knownSwitches);
        return true;
    }

    /** After {@link Outcome#MISMATCH}: what the status and the log say. */
    String mismatch() {
        return mismatch;
    }

    /**
     * A KEY-REPLY (unauthenticated: anybody can send one from the switch's address), on the control thread. Without
     * a key and with trust on first use, pin it (while {@code joining}); with one, only say so when the switch holds
     * another key.
     *
     * @throws IOException if the key cannot be pinned (the caller stops the agent)
     */
    Outcome offered(byte[] key, boolean joining, InetSocketAddress resolved) throws IOException {
        byte[] pinned = switchKey;
        if (pinned == null) {
            if (!joining || knownSwitches == null) {
                return Outcome.NONE;
            }
            synchronized (instances.files) { // another instance may pin its switch at the same moment
                KnownSwitches.remember(knownSwitches, switchAddress, key);
                String at = resolved == null || resolved.getAddress() == null ? null : Endpoints.format(resolved);
                if (at != null && !at.equals(switchAddress)) {
                    KnownSwitches.remember(knownSwitches, at, key); // what the switch is, whatever it is called
                }
            }
            switchKey = key;
            LOG.warn("{}Port agent: trusting switch {} with public key {} on first use, NOT verified: an attacker on"
                    + " the path at this moment could have answered with its own key. Compare it with the switch's"
                    + " log ('Switch public key ...') or vl2:members. Pinned in {}: later starts refuse any other"
                    + " key", tag, switchAddress, Identity.fingerprint(key), knownSwitches);
            return Outcome.PINNED;
        }
        if (Arrays.equals(pinned, key) || Arrays.equals(mismatchSaid, key)) {
            return Outcome.NONE;
        }
        mismatchSaid = key;
        mismatch = "the switch at " + switchAddress + " presents public key " + Identity.fingerprint(key)
                + ", not the pinned " + Identity.fingerprint(pinned) + " (" + (knownSwitches != null
                ? "pinned on first use in " + knownSwitches : "switch.key") + "), and it ignores handshakes"
                + " made for another key. If the switch's identity was replaced on purpose, "
                + (knownSwitches != null ? "delete its line in " + knownSwitches : "set switch.key to its new key")
                + "; if not, something else answers at that address";
        return Outcome.MISMATCH;
    }
}
