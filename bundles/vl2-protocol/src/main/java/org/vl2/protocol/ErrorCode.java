package org.vl2.protocol;

/** The ERROR codes of protocol version 1, with what an agent does about each. */
public enum ErrorCode {
    UNKNOWN_NETWORK(1, "unknown-network"),
    NOT_AUTHORIZED(2, "not-authorized"),
    UNSUPPORTED_VERSION(3, "unsupported-version"),
    ADDRESS_CONFLICT(4, "address-conflict"),
    UNKNOWN_PORT(5, "unknown-port"),
    PORT_LIMIT(6, "port-limit"),
    BAD_REQUEST(7, "bad-request"),
    /**
     * The agent's cipher offer and the switch's cipher setting have no AEAD in common (docs/crypto.md); the message
     * names the switch's setting. Sent only to agents that made an offer: older ones get bad-request.
     */
    CIPHER_MISMATCH(8, "cipher-mismatch");

    private static final ErrorCode[] BY_CODE = new ErrorCode[9];

    static {
        for (ErrorCode c : values()) {
            BY_CODE[c.code] = c;
        }
    }

    private final int code;
    private final String label;

    ErrorCode(int code, String label) {
        this.code = code;
        this.label = label;
    }

    /** The wire value. */
    public int code() {
        return code;
    }

    /** The name the spec and the logs use, e.g. {@code unknown-network}. */
    public String label() {
        return label;
    }

    /** The code with this wire value, or {@code null} if version 1 has none. */
    public static ErrorCode of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /**
     * Whether an agent keeps trying after this error. True for the codes it retries slowly (unknown-network,
     * not-authorized, address-conflict, port-limit, cipher-mismatch) and for unknown-port, which means re-join at once; false
     * for the fatal ones (unsupported-version, bad-request), on which the agent stops and says why.
     */
    public boolean retryable() {
        return this != UNSUPPORTED_VERSION && this != BAD_REQUEST;
    }
}
