package org.vl2.api;

/**
 * A snapshot of one MAC table (FDB) entry.
 *
 * @param network    network id
 * @param vlan       VLAN id, {@link EthernetFrame#UNTAGGED} for untagged frames
 * @param mac        the station address
 * @param port       the port the station is behind
 * @param isStatic   configured by an operator: never aged, never overwritten by learning
 * @param ageMillis  time since a frame from this MAC was last seen (0 for static entries)
 * @param moves      how often the station moved between ports (a high number means a flapping MAC or a loop)
 */
public record MacEntry(long network, int vlan, MacAddress mac, PortId port, boolean isStatic, long ageMillis,
                       long moves) {
}
