package org.vl2.api;

import java.time.Duration;

/**
 * A pair key the switch made (docs/protocol.md, "Pair keys"): one direction of one unicast flow between two encrypted
 * members, which the switch forwards sealed end to end, without opening it. Never the key.
 *
 * @param network     the flow's network
 * @param index       the pair's index (the receiver index its datagrams carry)
 * @param vlan        the flow's 802.1Q VLAN id, or -1 for untagged frames
 * @param source      the flow's source station
 * @param destination the flow's destination station
 * @param sender      the port the flow comes from
 * @param receiver    the port it goes to
 * @param state       {@code offered} (to the receiver, then to the sender: not in use yet), {@code active},
 *                    {@code direct} (in use, and its sender said it sends the frames straight to the receiver: direct
 *                    paths), {@code ending} (REVOKE sent, waiting for the ends) or {@code refused} (an end refused or
 *                    did not answer: the flow goes through the sessions and is not keyed again for a while)
 * @param age         since the switch made it
 * @since 2.7
 */
public record PairInfo(long network, int index, int vlan, MacAddress source, MacAddress destination, PortId sender,
                       PortId receiver, String state, Duration age) {
}
