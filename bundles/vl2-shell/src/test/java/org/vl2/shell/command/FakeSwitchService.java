package org.vl2.shell.command;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.vl2.api.NetworkInfo;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchAdminService;
import org.vl2.api.SwitchService;
import org.vl2.api.SwitchStatistics;

/** A switch whose state the test sets directly. */
class FakeSwitchService implements SwitchService, SwitchAdminService {

    final List<PortInfo> ports = new ArrayList<>();
    final List<NetworkInfo> networks = new ArrayList<>(List.of(new NetworkInfo(0, "default", 1400, "learning", null,
            null, false, 0, List.of())));
    SwitchStatistics statistics = new SwitchStatistics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    String policy = "learning";
    boolean policyActive = true;
    final Set<String> policies = new LinkedHashSet<>(List.of("learning", "hub"));
    /** Names passed to {@link #setPolicy}. */
    final List<String> policyCalls = new ArrayList<>();

    @Override
    public List<PortInfo> ports() {
        return List.copyOf(ports);
    }

    @Override
    public Optional<PortInfo> port(PortId id) {
        return ports.stream().filter(p -> p.id().equals(id)).findFirst();
    }

    final List<org.vl2.api.MemberInfo> members = new ArrayList<>();
    final List<String> authorizeCalls = new ArrayList<>();

    @Override
    public String publicKey() {
        return "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
    }

    @Override
    public List<org.vl2.api.MemberInfo> members(long network) {
        return members.stream().filter(m -> m.network() == network).toList();
    }

    @Override
    public void authorize(long network, String member) {
        if (member.startsWith("bad")) {
            throw new IllegalArgumentException("not a member: '" + member + "'");
        }
        authorizeCalls.add("+" + network + " " + member);
    }

    @Override
    public boolean deauthorize(long network, String member) {
        authorizeCalls.add("-" + network + " " + member);
        return !member.startsWith("unknown");
    }

    @Override
    public List<NetworkInfo> networks() {
        return List.copyOf(networks);
    }

    @Override
    public Optional<NetworkInfo> network(long id) {
        return networks.stream().filter(n -> n.id() == id).findFirst();
    }

    @Override
    public SwitchStatistics statistics() {
        return statistics;
    }

    @Override
    public String policy() {
        return policy;
    }

    @Override
    public boolean policyActive() {
        return policyActive;
    }

    @Override
    public Set<String> policies() {
        return Set.copyOf(policies);
    }

    @Override
    public void setPolicy(String name) {
        policyCalls.add(name);
        if (!policies.contains(name)) {
            throw new IllegalArgumentException("no forwarding policy named " + name);
        }
        policy = name;
        policyActive = true;
    }

    @Override
    public boolean removePort(PortId id) {
        return ports.removeIf(p -> p.id().equals(id));
    }
}
