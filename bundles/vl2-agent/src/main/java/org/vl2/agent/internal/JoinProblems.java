package org.vl2.agent.internal;

import org.vl2.api.Endpoints;
import org.vl2.api.Networks;
import org.vl2.crypto.CipherSuite;
import org.vl2.crypto.Identity;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.Wire;

/**
 * What the status and the log say when a join does not succeed: the likely cause and the fix, in the agent's
 * terms (its configuration keys). Text only: the session decides when to say it.
 */
final class JoinProblems {

    private final AgentConfig.Settings settings;
    private final boolean encrypted;
    private final SwitchTrust trust;
    private final Timing timing;
    private final LinkKeeper links;

    JoinProblems(AgentConfig.Settings settings, SwitchTrust trust, Timing timing, LinkKeeper links) {
        this.settings = settings;
        this.encrypted = settings.encrypted();
        this.trust = trust;
        this.timing = timing;
        this.links = links;
    }

    /**
     * Three JOINs (or handshakes) went unanswered. {@code claimedVersion}: the protocol version an unauthenticated
     * ERROR of this round claimed (0: none); {@code malformed}: the switch's address sent datagrams that are not vl2.
     */
    String noAnswer(int claimedVersion, boolean malformed) {
        Link l = links.link();
        String at = l != null ? Endpoints.format(l.remote()) : settings.switchAddress().toString();
        byte[] key = trust.switchKey();
        String p = Vl2Session.NO_ANSWER + " to " + (!encrypted ? "JOIN" : key != null ? "the handshake" : "KEY-REQUEST (trust on"
                + " first use: the agent asks for the switch's key before its first handshake)") + " (network "
                + Networks.format(settings.network()) + "): is a vl2 switch listening at " + at + "? (its vl2"
                + " transport listens on UDP " + AgentConfig.VL2_PORT + " by default)";
        if (encrypted && key != null) {
            p += "; is switch.key (" + Identity.fingerprint(key) + ") the switch's public key? A switch"
                    + " ignores handshakes made for another key (it logs its key at start, and vl2:members shows"
                    + " it)";
        }
        if (claimedVersion != 0) {
            p += "; an ERROR from its address (unauthenticated, so not acted on) says it speaks vl2 protocol version "
                    + claimedVersion + ", this agent " + Wire.VERSION + ": if so, upgrade the agent or the switch";
        }
        if (malformed) {
            p += "; it sends datagrams that are not vl2 messages: if it is a raw-mode switch, set mode = raw";
        }
        return p + "; retrying after " + Lifecycle.duration(timing.joinRetryMillis()) + ", then less often (up to"
                + " every " + Lifecycle.duration(timing.joinRetryMillis() << JoinBackoff.MAX_DOUBLINGS) + ")";
    }

    /**
     * A verified RESPONSE from a switch that does not negotiate ciphers (a version from before negotiation), which
     * seals with ChaCha20-Poly1305, while this agent is pinned to another cipher.
     */
    String cipherOfAnOlderSwitch() {
        return "the switch at " + settings.switchAddress() + " does not negotiate ciphers (a version from before"
                + " cipher negotiation) and seals with " + CipherSuite.CHACHA20_POLY1305.configName() + "; this agent's"
                + " cipher is " + settings.cipher().describe() + " (cipher, --cipher): set it to auto or "
                + CipherSuite.CHACHA20_POLY1305.configName() + ", or upgrade the switch; retrying every "
                + Lifecycle.duration(timing.slowRetryMillis());
    }

    /**
     * An ERROR about this round's JOIN, retried every slowRetryMillis: a retryable refusal, or encrypted any refusal
     * (unauthenticated: the agent does not stop).
     */
    String refused(ProtocolError e, long member, int maxFrame) {
        String text = text(e);
        if (!e.code().retryable()) {
            return "the switch at " + settings.switchAddress() + " refused the handshake (" + text + "; an"
                    + " unauthenticated ERROR, so the agent does not stop): " + (e.code() == ErrorCode.UNSUPPORTED_VERSION
                    ? "check that the agent and the switch speak the same vl2 protocol version (" + Wire.VERSION + ")"
                    : "check mtu (the JOIN offers frames up to " + maxFrame + " bytes) and name")
                    + "; retrying every " + Lifecycle.duration(timing.slowRetryMillis());
        }
        return "the switch refused to let member " + MemberIdentity.format(member) + " join network "
                + Networks.format(settings.network()) + " (" + text + ")" + hint(e.code()) + "; retrying every "
                + Lifecycle.duration(timing.slowRetryMillis());
    }

    /** Plaintext: an ERROR that is not retryable: the agent stops with this. */
    String refusedForGood(ProtocolError e, int maxFrame) {
        String text = text(e);
        return e.code() == ErrorCode.UNSUPPORTED_VERSION
                ? "the switch at " + settings.switchAddress() + " does not speak vl2 protocol version " + Wire.VERSION
                        + " (" + text + "): upgrade the agent or the switch so that they speak the same version, then"
                        + " restart the agent"
                : "the switch at " + settings.switchAddress() + " refused the JOIN as malformed (" + text + "): check"
                        + " mtu (the JOIN offers frames up to " + maxFrame + " bytes) and name, then restart the agent";
    }

    /** Plaintext, joining: an ERROR in another protocol version: the agent stops with this. */
    String foreignVersion(int version) {
        return "the switch at " + settings.switchAddress() + " answered in vl2 protocol version " + version + "; this"
                + " agent speaks version " + Wire.VERSION + ": upgrade the agent or the switch so that they speak the"
                + " same version, then restart the agent";
    }

    /** Trust on first use could not write the switch's key: the agent stops with this. */
    String cannotPin(byte[] key, Exception e) {
        return "the switch's key " + Identity.fingerprint(key) + " cannot be pinned in " + trust.knownSwitches() + " ("
                + e + "): make its directory writable, or set switch.key instead of trust.on.first.use";
    }

    /** The configured switch.key is not a usable public key: the agent stops with this. */
    String unusableSwitchKey(IllegalArgumentException e) {
        return "switch.key " + Identity.fingerprint(trust.switchKey()) + " cannot be used (" + e.getMessage() + "): set"
                + " switch.key to the switch's public key (the switch logs it at start: 'Switch public key ...', and"
                + " vl2:members shows it), then restart the agent";
    }

    /** The switch's text of an ERROR (ProtocolError.decode already turned control characters into '?'). */
    private static String text(ProtocolError e) {
        return e.code().label() + (e.message().isEmpty() ? "" : ": " + e.message());
    }

    /** What to do about a refusal, appended to the switch's text. */
    String hint(ErrorCode code) {
        switch (code) {
            case UNKNOWN_NETWORK:
                return ": check network (or create the network on the switch)";
            case NOT_AUTHORIZED:
                return encrypted ? ": authorize this agent's public key " + trust.identity().fingerprint() + " on"
                        + " the switch (vl2:members)"
                        : ": authorize the member on the switch (a switch that does not allow plaintext agents"
                        + " refuses them: set switch.key and encryption = true)";
            case ADDRESS_CONFLICT:
                return ": address " + settings.tap().ipv4() + " is in use or outside the network's pool; change"
                        + " address, or leave it empty to get one from the pool";
            case PORT_LIMIT:
                return ": the switch has no free port (max.ports)";
            case CIPHER_MISMATCH:
                return ": this agent's cipher is " + settings.cipher().describe() + " (cipher, --cipher): pin both"
                        + " sides to the same cipher, or set one of them to auto";
            default:
                return "";
        }
    }
}
