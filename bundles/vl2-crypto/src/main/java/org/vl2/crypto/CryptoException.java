package org.vl2.crypto;

/**
 * A handshake message or sealed frame that is rejected: malformed, not for us, forged or modified, replayed,
 * or sealed under a session that may no longer be used. {@link #reason()} says which, for counters and logs;
 * the message adds detail.
 *
 * <p>Never carries a stack trace: receive paths create these for every rejected datagram, including floods of
 * garbage, and where it was thrown is always the same place. The session's hot-path instances are shared
 * (immutable) so that rejecting a frame allocates nothing.
 */
public final class CryptoException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why a message was rejected. */
    public enum Reason {
        /** Wrong length, magic, version, type or reserved bits; bounds that do not fit the buffer. */
        MALFORMED,
        /** The initiation's mac1 does not match: not addressed to this responder's public key, or modified. */
        BAD_MAC,
        /** Authentication failed: sealed with another key (wrong peer key, other session) or modified. */
        AUTH_FAILED,
        /** A public key in the message is a low-order point (the Diffie-Hellman result would be zero). */
        BAD_KEY,
        /** Seen before: an initiation timestamp not newer than the last one, a frame counter already opened, a
         * response to a handshake that is already complete. */
        REPLAYED,
        /** The frame's counter is older than the replay window: it cannot be told from a replay. */
        OUTSIDE_WINDOW,
        /** A response whose receiver index is not this initiator's sender index. */
        UNKNOWN_RECEIVER,
        /** The session is older than its reject-after time: rekey. */
        EXPIRED,
        /** The session's message counter reached {@link Session#REJECT_AFTER_MESSAGES}: rekey. */
        EXHAUSTED,
        /**
         * A verified response seals with a cipher this initiator did not offer: a switch from before cipher
         * negotiation (ChaCha20-Poly1305) answering an initiator pinned to another (docs/crypto.md).
         */
        CIPHER_MISMATCH
    }

    private final Reason reason;

    CryptoException(Reason reason, String message) {
        this(reason, message, null);
    }

    CryptoException(Reason reason, String message, Throwable cause) {
        super(reason.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + ": " + message, cause,
                false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
