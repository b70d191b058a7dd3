package org.vl2.api.test;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.vl2.api.MemberInfo;
import org.vl2.api.NetworkInfo;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchService;
import org.vl2.api.SwitchStatistics;

/** A switch whose state the test sets directly: the default network, policies learning and hub, no ports. */
public class FakeSwitchService implements SwitchService {

    public final List<PortInfo> ports = new ArrayList<>();
    public final List<NetworkInfo> networks = new ArrayList<>(List.of(new NetworkInfo(0, "default", 1400, "learning",
            null, null, false, 0, List.of())));
    public final List<MemberInfo> members = new ArrayList<>();
    public final List<org.vl2.api.NetworkRoute> routes = new ArrayList<>();
    public final List<org.vl2.api.PairInfo> pairs = new ArrayList<>();
    public volatile SwitchStatistics statistics = new SwitchStatistics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0);
    public final java.util.Map<String, Long> transportErrors = new java.util.TreeMap<>();
    public final java.util.Map<String, java.util.Map<String, Long>> transportReceiveDrops = new java.util.TreeMap<>();
    public volatile String policy = "learning";
    public volatile boolean policyActive = true;
    public final Set<String> policies = new LinkedHashSet<>(List.of("learning", "hub"));
    public volatile String publicKey = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

    @Override
    public List<PortInfo> ports() {
        return List.copyOf(ports);
    }

    @Override
    public Optional<PortInfo> port(PortId id) {
        return ports.stream().filter(p -> p.id().equals(id)).findFirst();
    }

    @Override
    public SwitchStatistics statistics() {
        return statistics;
    }

    @Override
    public java.util.Map<String, Long> transportErrors() {
        return java.util.Map.copyOf(transportErrors);
    }

    @Override
    public java.util.Map<String, java.util.Map<String, Long>> transportReceiveDrops() {
        return java.util.Map.copyOf(transportReceiveDrops);
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
    public List<NetworkInfo> networks() {
        return List.copyOf(networks);
    }

    @Override
    public Optional<NetworkInfo> network(long id) {
        return networks.stream().filter(n -> n.id() == id).findFirst();
    }

    @Override
    public String publicKey() {
        return publicKey;
    }

    @Override
    public List<org.vl2.api.PairInfo> pairs() {
        return List.copyOf(pairs);
    }

    @Override
    public List<org.vl2.api.NetworkRoute> routes() {
        return List.copyOf(routes);
    }

    @Override
    public List<MemberInfo> members(long network) {
        if (network(network).isEmpty()) {
            throw new IllegalArgumentException("no network " + network + " on this switch");
        }
        return members.stream().filter(m -> m.network() == network).toList();
    }
}
