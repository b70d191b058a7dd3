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

    /** A member id (16 hex digits) or a public key (44 base64 characters), as the switch accepts them. */
    private static String wellFormed(String member) {
        String m = member.trim();
        if (!m.matches("[0-9a-fA-F]{16}|[A-Za-z0-9+/]{43}=")) {
            throw new IllegalArgumentException("not a member: '" + member + "'");
        }
        return m;
    }
}
