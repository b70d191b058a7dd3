package org.vl2.protocol;

/** A datagram that is not a well-formed vl2 version 1 message of the expected type. */
public final class ProtocolException extends Exception {

    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }
}
