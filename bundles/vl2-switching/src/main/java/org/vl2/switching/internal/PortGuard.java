package org.vl2.switching.internal;

import java.net.Inet4Address;
import java.util.Arrays;

/**
 * A port's hygiene state ({@link PortHygiene}): its DHCP budget, when its MAC limit was last reported, and the IPv4
 * addresses bound to it by DHCP. The budget and the report time are written only by the thread receiving the
 * port's frames (one per transport), so plain fields; the bound addresses are a copy-on-write array (bound on a
 * DHCP ACK, unbound when another port gets the address or the lease ends), read without a lock per frame.
 */
final class PortGuard {

    /** A port with more DHCP clients than this drops its oldest binding; the MAC limit keeps it far from here. */
    static final int MAX_BOUND = 1024;
    private static final int[] NONE = new int[0];

    /** DHCP budget in nanoseconds of credit (one second's worth at most) and when it was last topped up. */
    long dhcpCredit = Long.MAX_VALUE;
    long dhcpRefilled;

    /** MAC limit: when it was last reported (monotonic ns, 0 = never) and stations refused since. */
    long macLimitReported;
    long macLimitRefused;

    /** Addresses acknowledged through this port by the switch's DHCP server, oldest first. */
    private volatile int[] bound = NONE;

    /** The member's address as last seen and as an int: converted once per change, not per frame. */
    private Inet4Address memberAddress;
    private int memberInt;

    /** Whether {@code source} is the member's address {@code assigned} (the port's) or bound to the port by DHCP. */
    boolean allows(int source, Inet4Address assigned) {
        if (assigned != null) {
            if (assigned != memberAddress) {
                byte[] b = assigned.getAddress();
                memberInt = (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
                memberAddress = assigned;
            }
            if (source == memberInt) {
                return true;
            }
        }
        for (int a : bound) {
            if (a == source) {
                return true;
            }
        }
        return false;
    }

    synchronized void bind(int address) {
        int[] b = bound;
        for (int a : b) {
            if (a == address) {
                return;
            }
        }
        int[] next;
        if (b.length >= MAX_BOUND) {
            next = Arrays.copyOfRange(b, 1, b.length + 1);
        } else {
            next = Arrays.copyOf(b, b.length + 1);
        }
        next[next.length - 1] = address;
        bound = next;
    }

    synchronized boolean unbind(int address) {
        int[] b = bound;
        for (int i = 0; i < b.length; i++) {
            if (b[i] == address) {
                int[] next = new int[b.length - 1];
                System.arraycopy(b, 0, next, 0, i);
                System.arraycopy(b, i + 1, next, i, b.length - i - 1);
                bound = next;
                return true;
            }
        }
        return false;
    }

    int[] bound() {
        return bound;
    }
}
