package org.vl2.switching.internal.vl2;

import java.net.SocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.crypto.CipherPolicy;
import org.vl2.crypto.CipherSuite;
import org.vl2.crypto.Responder;
import org.vl2.protocol.ErrorCode;
import org.vl2.switching.internal.SwitchPort;

/**
 * An authenticated member whose cipher offer the switch's {@code cipher} setting cannot meet (docs/crypto.md):
 * the ERROR it gets, which names the switch's setting (the agent adds its own), and one WARN per member and
 * setting, since such an agent retries every 30 s for as long as the two stay pinned apart.
 */
final class CipherRefusals {

    private static final Logger LOG = LoggerFactory.getLogger(CipherRefusals.class);
    /** Members remembered as logged; beyond, the oldest is forgotten (and would be logged again). */
    private static final int REMEMBERED = 1024;

    /** The ERROR to send, and the log line's parts. */
    record Refusal(ErrorCode code, String message, long member, String offer, String setting, SocketAddress source) {
    }

    private final Map<String, Boolean> logged = new LinkedHashMap<>(16, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED;
        }
    };

    /**
     * The refusal of {@code r}'s initiation under {@code policy}, with which it has no cipher in common. An agent
     * that made an offer gets cipher-mismatch; one from before negotiation (no offer: ChaCha20-Poly1305 only) does
     * not know that code, so it gets bad-request with the same sense in words, which it shows in its status.
     */
    Refusal refusal(Responder r, CipherPolicy policy, long member, SocketAddress source) {
        String offer = !r.offered() ? CipherSuite.CHACHA20_POLY1305.configName() + " only (an agent from before"
                + " cipher negotiation)" : r.offer().isEmpty() ? "no cipher this switch knows"
                : r.offer().stream().map(CipherSuite::configName).collect(Collectors.joining(", "));
        String setting = policy.configValue();
        if (!r.offered()) {
            return new Refusal(ErrorCode.BAD_REQUEST, "cipher mismatch: the switch accepts " + setting + " only (its"
                    + " cipher setting), this agent chacha20-poly1305 only: upgrade the agent, or set the switch's"
                    + " cipher to auto", member, offer, setting, source);
        }
        return new Refusal(ErrorCode.CIPHER_MISMATCH, "the switch accepts " + setting + " only (its cipher setting)",
                member, offer, setting, source);
    }

    /** Logs the refusal the first time for this member and setting. */
    synchronized void logOnce(Refusal r) {
        if (logged.put(r.member() + " " + r.setting(), Boolean.TRUE) == null) {
            LOG.warn("Refused member {} ({}): cipher mismatch: it offers {}, this switch's cipher setting is {}"
                    + " (org.vl2.switching); logged once per member, every refusal counts as a bad session"
                    + " (vl2:stats)", SwitchPort.memberId(r.member()), Endpoints.format(r.source()), r.offer(),
                    r.setting());
        }
    }
}
