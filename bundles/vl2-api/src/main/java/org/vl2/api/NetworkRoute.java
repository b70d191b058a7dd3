package org.vl2.api;

/**
 * A managed route of a network as configured (docs/routes.md), and whether it is in force: pushed to the members
 * because an encrypted member holds its gateway's address.
 *
 * @param destination the prefix, e.g. {@code 10.9.0.0/16} or {@code 0.0.0.0/0}
 * @param gateway     the gateway's address
 * @param metric      lower is preferred
 * @param inForce     a member holds the gateway's address, so members get this route
 * @param version     the version of the network's routes in force (ROUTES, docs/protocol.md)
 */
public record NetworkRoute(long network, String destination, String gateway, int metric, boolean inForce,
                           long version) {

    /** This route's {@link #versionText(long) version as text}. */
    public String versionText() {
        return versionText(version);
    }

    /**
     * A routes version as the switch's and the agent's commands, logs and JSON write it: the switch's epoch (the high
     * 32 bits) in hex, a colon, the change count (the low 32 bits) in decimal, e.g. {@code 65f1a2b3:4}.
     */
    public static String versionText(long version) {
        return Long.toHexString(version >>> 32) + ":" + (version & 0xffffffffL);
    }
}
