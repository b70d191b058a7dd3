package org.vl2.agent.internal;

import org.vl2.api.Endpoints;
import org.vl2.api.Networks;
import org.vl2.crypto.CipherSuite;
import org.vl2.crypto.Identity;
import org.vl2.protocol.ErrorCode;
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
