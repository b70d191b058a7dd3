package org.vl2.api;

/**
 * A change in the MAC table.
 *
 * @param type         what happened
 * @param network      network id
 * @param vlan         VLAN id
 * @param mac          the station
 * @param port         the port the entry points at (after the change for {@link Type#MOVED})
 * @param previousPort the port before a move; {@code null} otherwise
 */
public record MacEvent(Type type, long network, int vlan, MacAddress mac, PortId port, PortId previousPort) {

    public enum Type {
        /** A new dynamic entry. */
        LEARNED,
        /** A known station showed up behind another port. */
        MOVED,
        /** Removed after the ageing time without frames. */
        AGED,
        /** Removed to make room in a full table. */
        EVICTED
    }
}
