package org.vl2.api.test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.vl2.api.PortId;
import org.vl2.api.SwitchAdminService;

/**
 * The admin side of a {@link FakeSwitchService}: a policy change or a port removal shows there at once; members
 * authorized are kept in {@link #authorized} (as "network member"). Every call is recorded in order.
 */
public class FakeSwitchAdminService implements SwitchAdminService {

    private final FakeSwitchService switchService;
    /** Names passed to {@link #setPolicy}. */
    public final List<String> policyCalls = new ArrayList<>();
    /** {@code +NETWORK MEMBER} for authorize, {@code -NETWORK MEMBER} for deauthorize (network in decimal). */
    public final List<String> memberCalls = new ArrayList<>();
    /** Authorized members as {@code NETWORK MEMBER}; a test may add some. */
    public final Set<String> authorized = new HashSet<>();

    public FakeSwitchAdminService(FakeSwitchService switchService) {
        this.switchService = switchService;
    }

    @Override
    public void setPolicy(String name) {
        policyCalls.add(name);
        if (!switchService.policies.contains(name)) {
            throw new IllegalArgumentException("unknown forwarding policy '" + name + "' (available: "
                    + String.join(", ", new TreeSet<>(switchService.policies)) + ")");
        }
        switchService.policy = name;
        switchService.policyActive = true;
    }

    @Override
    public void authorize(long network, String member) {
        memberCalls.add("+" + network + " " + member);
        authorized.add(network + " " + wellFormed(member));
    }

    @Override
    public boolean deauthorize(long network, String member) {
        memberCalls.add("-" + network + " " + member);
        return authorized.remove(network + " " + wellFormed(member));
    }

    @Override
    public boolean removePort(PortId id) {
        return switchService.ports.removeIf(p -> p.id().equals(id));
    }

    /** Network configurations by id: what {@link #putNetwork} wrote. */
    public final java.util.Map<Long, java.util.Map<String, String>> networkSettings = new java.util.TreeMap<>();

    @Override
    public java.util.Map<String, String> networkSettings(long network) {
        return java.util.Map.copyOf(networkSettings.getOrDefault(network, java.util.Map.of()));
    }

    /**
     * Keeps the settings and shows the network in the {@link FakeSwitchService} (name and mtu only); an mtu that is
     * not 576..9000 is refused as the switch refuses it.
     */
    @Override
    public synchronized boolean putNetwork(long network, java.util.Map<String, String> settings, boolean merge) {
        java.util.Map<String, String> next = new java.util.TreeMap<>(merge
                ? networkSettings.getOrDefault(network, java.util.Map.of()) : java.util.Map.of());
        next.putAll(settings);
        next.put("id", org.vl2.api.Networks.format(network));
        int mtu;
        try {
            mtu = Integer.parseInt(next.getOrDefault("mtu", "1400"));
        } catch (NumberFormatException e) {
            mtu = -1;
        }
        if (mtu < 576 || mtu > 9000) {
            throw new org.vl2.api.InvalidSettingException("mtu", "mtu=" + next.get("mtu") + " (must be 576..9000)");
        }
        boolean created = networkSettings.put(network, next) == null && switchService.network(network).isEmpty();
        switchService.networks.removeIf(n -> n.id() == network);
        switchService.networks.add(new org.vl2.api.NetworkInfo(network, next.getOrDefault("name",
                org.vl2.api.Networks.format(network)), mtu, "learning", null, null, false, 0, List.of(),
                Boolean.parseBoolean(next.get("private")) ? org.vl2.api.NetworkInfo.PRIVATE
                        : org.vl2.api.NetworkInfo.SEALED));
        return created;
    }

    @Override
    public synchronized boolean removeNetwork(long network) {
        if (networkSettings.remove(network) == null) {
            return false;
        }
        switchService.networks.removeIf(n -> n.id() == network);
        return true;
    }

    /** A member id (16 hex digits) or a public key (44 base64 characters), as the switch accepts them. */
    private static String wellFormed(String member) {
        String m = member.trim();
        if (!m.matches("[0-9a-fA-F]{16}|[A-Za-z0-9+/]{43}=")) {
            throw new IllegalArgumentException("not a member: '" + member + "'");
        }
        return m;
    }
}
