package org.vl2.transport.vxlan.internal;

import java.util.Arrays;

import org.vl2.api.Networks;

/**
 * VNI <-> network, one-to-one and immutable: an explicit list, or none (nothing is accepted). There is no implicit
 * mapping: a VXLAN datagram names its VNI without any proof of who sent it, so a VNI reaches only the network an
 * operator mapped it to (which the switch admits only if it is open to plaintext). Lookups are binary searches over
 * primitive arrays: no boxing, no allocation on the hot path.
 */
final class VniMap {

    private static final VniMap NONE = new VniMap(new int[0], new long[0]);

    /** Sorted VNIs and the network of each. */
    private final int[] vnis;
    private final long[] networkOfVni;
    /** Sorted networks and the VNI of each. */
    private final long[] networks;
    private final int[] vniOfNetwork;

    private VniMap(int[] vnis, long[] networks) {
        int n = vnis.length;
        Integer[] byVni = new Integer[n];
        Integer[] byNetwork = new Integer[n];
        for (int i = 0; i < n; i++) {
            byVni[i] = i;
            byNetwork[i] = i;
        }
        Arrays.sort(byVni, (a, b) -> Integer.compare(vnis[a], vnis[b]));
        Arrays.sort(byNetwork, (a, b) -> Long.compare(networks[a], networks[b]));
        this.vnis = new int[n];
        this.networkOfVni = new long[n];
        this.networks = new long[n];
        this.vniOfNetwork = new int[n];
        for (int i = 0; i < n; i++) {
            this.vnis[i] = vnis[byVni[i]];
            this.networkOfVni[i] = networks[byVni[i]];
            this.networks[i] = networks[byNetwork[i]];
            this.vniOfNetwork[i] = vnis[byNetwork[i]];
        }
    }

    /** No VNI mapped: every VXLAN frame is dropped (counted). */
    static VniMap none() {
        return NONE;
    }

    /**
     * An explicit mapping: {@code vnis[i]} is {@code networks[i]}. Callers validate (range, no duplicates on either
     * side); this only asserts it.
     */
    static VniMap of(int[] vnis, long[] networks) {
        if (vnis.length == 0) {
            return NONE;
        }
        if (vnis.length != networks.length) {
            throw new IllegalArgumentException("as many VNIs as networks expected");
        }
        VniMap m = new VniMap(vnis.clone(), networks.clone());
        for (int i = 1; i < m.vnis.length; i++) {
            if (m.vnis[i] == m.vnis[i - 1] || m.networks[i] == m.networks[i - 1]) {
                throw new IllegalArgumentException("a VNI mapping must be one-to-one");
            }
        }
        return m;
    }

    boolean isEmpty() {
        return vnis.length == 0;
    }

    /** Whether frames of this VNI are accepted. */
    boolean mapsVni(int vni) {
        return Arrays.binarySearch(vnis, vni) >= 0;
    }

    /** The network of a VNI for which {@link #mapsVni} is true. */
    long network(int vni) {
        int i = Arrays.binarySearch(vnis, vni);
        if (i < 0) {
            throw new IllegalArgumentException("VNI " + vni + " is not mapped");
        }
        return networkOfVni[i];
    }

    /** The VNI of a network, or -1 when the network has none (its frames are not sent over VXLAN). */
    int vni(long network) {
        int i = Arrays.binarySearch(networks, network);
        return i < 0 ? -1 : vniOfNetwork[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VniMap && Arrays.equals(vnis, ((VniMap) o).vnis)
                && Arrays.equals(networkOfVni, ((VniMap) o).networkOfVni);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(vnis) * 31 + Arrays.hashCode(networkOfVni);
    }

    /** For logs: {@code none} or {@code 42=000000000000002a, ...}. */
    @Override
    public String toString() {
        if (vnis.length == 0) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < vnis.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(vnis[i]).append('=').append(Networks.format(networkOfVni[i]));
        }
        return sb.toString();
    }
}
