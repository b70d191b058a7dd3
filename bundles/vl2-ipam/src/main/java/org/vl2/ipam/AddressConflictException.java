package org.vl2.ipam;

/**
 * An address cannot be leased: it is leased to someone else, outside the subnet, or the pool is exhausted. The
 * message says which, for the operator (the switch reports it as {@code address-conflict}).
 */
public final class AddressConflictException extends Exception {

    private static final long serialVersionUID = 1L;

    public AddressConflictException(String message) {
        super(message);
    }
}
