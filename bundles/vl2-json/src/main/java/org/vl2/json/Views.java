package org.vl2.json;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.vl2.api.AgentRoutes;
import org.vl2.api.ApiToken;
import org.vl2.api.AgentStatus;
import org.vl2.api.MacEntry;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.MemberInfo;
import org.vl2.api.NetworkInfo;
import org.vl2.api.NetworkRoute;
import org.vl2.api.Networks;
import org.vl2.api.PairInfo;
import org.vl2.api.PortCounters;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchStatistics;

/**
 * The JSON form of each API record. Ids are text as operators type them (networks 16 hex digits), ports numbers,
 * times ISO-8601 or {@code null}; "seconds ago" fields are relative to the {@code now} given.
 */
public final class Views {

    /** One mapper for the process: thread-safe once configured. */
    public static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Views() {
    }

    /** Compact JSON text of a tree. */
    public static String text(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree of plain nodes always serializes
        }
    }

    public static ArrayNode ports(List<PortInfo> ports, Instant now) {
        ArrayNode a = NODES.arrayNode();
        ports.forEach(p -> a.add(port(p, now)));
        return a;
    }

    public static ObjectNode port(PortInfo p, Instant now) {
        PortCounters c = p.counters() == null ? PortCounters.ZERO : p.counters();
        ObjectNode o = NODES.objectNode()
                .put("port", p.id().number())
                .put("network", Networks.format(p.network()))
                .put("transport", p.transport())
                .put("mode", p.mode())
                .put("remote", p.remote())
                .put("member", p.member())
                .put("name", p.name())
                .put("address", p.address())
                .put("rxFrames", c.rxFrames())
                .put("rxBytes", c.rxBytes())
                .put("txFrames", c.txFrames())
                .put("txBytes", c.txBytes())
                .put("rxDrops", c.rxDrops())
                .put("txDrops", c.txDrops())
                .put("created", time(p.created()))
                .put("lastSeen", time(p.lastSeen()));
        return o.put("lastSeenSecondsAgo", secondsAgo(p.lastSeen(), now));
    }

    public static ArrayNode networks(List<NetworkInfo> networks) {
        ArrayNode a = NODES.arrayNode();
        networks.forEach(n -> a.add(network(n)));
        return a;
    }

    public static ObjectNode network(NetworkInfo n) {
        ObjectNode o = NODES.objectNode()
                .put("network", Networks.format(n.id()))
                .put("name", n.name())
                .put("access", n.access())
                .put("mtu", n.mtu())
                .put("policy", n.policy())
                .put("ports", n.ports())
                .put("ipv4Pool", n.ipv4Pool())
                .put("ipv6Prefix", n.ipv6Prefix())
                .put("dhcp", n.dhcp())
                .put("leaseCapacity", n.leaseCapacity())
                .put("leasesFree", n.leasesFree());
        ArrayNode leases = o.putArray("leases");
        for (NetworkInfo.Lease l : n.leases()) {
            leases.addObject().put("address", l.address()).put("holder", l.holder()).put("expires", time(l.expires()));
        }
        return o;
    }

    /** {@code {"switchPublicKey": ..., "members": [...]}}. */
    public static ObjectNode members(String switchKey, List<MemberInfo> members) {
        ObjectNode o = NODES.objectNode().put("switchPublicKey", switchKey);
        ArrayNode a = o.putArray("members");
        members.forEach(m -> a.add(member(m)));
        return o;
    }

    public static ObjectNode member(MemberInfo m) {
        return NODES.objectNode()
                .put("network", Networks.format(m.network()))
                .put("member", m.member())
                .put("publicKey", m.publicKey())
                .put("authorized", m.authorized())
                .put("state", m.state())
                .put("port", m.port() == null ? null : m.port().toString())
                .put("address", m.address())
                .put("name", m.name())
                .put("encrypted", m.encrypted())
                .put("cipher", m.cipher())
                .put("refused", time(m.refused()));
    }

    /** {@code {"switch":{...},"macTable":{...}}} with the records' component names; {@code drops} is the total. */
    public static ObjectNode statistics(SwitchStatistics s, MacTableStatistics m) {
        ObjectNode o = NODES.objectNode();
        o.putObject("switch")
                .put("ports", s.ports())
                .put("rxFrames", s.rxFrames())
                .put("rxBytes", s.rxBytes())
                .put("txFrames", s.txFrames())
                .put("txBytes", s.txBytes())
                .put("unicast", s.unicast())
                .put("flooded", s.flooded())
                .put("filtered", s.filtered())
                .put("dropRunt", s.dropRunt())
                .put("dropOversize", s.dropOversize())
                .put("dropSourceMulticast", s.dropSourceMulticast())
                .put("dropNoPolicy", s.dropNoPolicy())
                .put("dropPolicy", s.dropPolicy())
                .put("dropPortLimit", s.dropPortLimit())
                .put("dropPortQuota", s.dropPortQuota())
                .put("dropUnknownNetwork", s.dropUnknownNetwork())
                .put("malformed", s.malformed())
                .put("badSession", s.badSession())
                .put("dropStorm", s.dropStorm())
                .put("dropMacLimit", s.dropMacLimit())
                .put("dropDhcpSpoofed", s.dropDhcpSpoofed())
                .put("dropDhcpRate", s.dropDhcpRate())
                .put("dropIpGuard", s.dropIpGuard())
                .put("dropSealed", s.dropSealed())
                .put("drops", s.drops())
                .put("txErrors", s.txErrors())
                .put("handshakes", s.handshakes())
                .put("cookieReplies", s.cookieReplies())
                .put("handshakesThrottled", s.handshakesThrottled())
                .put("pairFrames", s.pairFrames())
                .put("pairDrops", s.pairDrops())
                .put("pairsMade", s.pairsMade())
                .put("pairsEnded", s.pairsEnded());
        if (m != null) {
            o.putObject("macTable")
                    .put("size", m.size())
                    .put("staticSize", m.staticSize())
                    .put("capacity", m.capacity())
                    .put("perPortLimit", m.perPortLimit())
                    .put("ageingSeconds", m.ageingSeconds())
                    .put("learned", m.learned())
                    .put("moved", m.moved())
                    .put("aged", m.aged())
                    .put("evicted", m.evicted())
                    .put("refused", m.refused());
        }
        return o;
    }

    public static ArrayNode macEntries(List<MacEntry> entries) {
        ArrayNode a = NODES.arrayNode();
        for (MacEntry e : entries) {
            a.addObject()
                    .put("mac", e.mac().toString())
                    .put("network", Networks.format(e.network()))
                    .put("vlan", e.vlan())
                    .put("port", e.port().number())
                    .put("type", e.isStatic() ? "static" : "dynamic")
                    .put("ageMillis", e.ageMillis())
                    .put("moves", e.moves());
        }
        return a;
    }

    /**
     * One object with the record's component names; {@code portId} and {@code vni} {@code null} when there is none,
     * the round trip as {@code switchRttMicros} ({@code null} if unknown).
     */
    public static ObjectNode agent(AgentStatus s, Instant now) {
        ObjectNode o = NODES.objectNode()
                .put("state", s.state() == null ? null : s.state().name())
                .put("problem", s.problem())
                .put("mode", s.mode())
                .put("encrypted", s.encrypted())
                .put("cipher", s.cipher())
                .put("network", s.network())
                .put("vni", s.vni() == 0 ? null : s.vni())
                .put("memberId", s.memberId())
                .put("publicKey", s.publicKey())
                .put("portId", s.portId() == 0 ? null : s.portId())
                .put("tapName", s.tapName())
                .put("tapMac", s.tapMac() == null ? null : s.tapMac().toString())
                .put("mtu", s.mtu());
        ArrayNode addresses = o.putArray("addresses");
        s.addresses().forEach(addresses::add);
        ArrayNode assigned = o.putArray("assignedAddresses");
        s.assignedAddresses().forEach(assigned::add);
        return o.put("bridge", s.bridge())
                .put("switchAddress", s.switchAddress())
                .put("switchKey", s.switchKey())
                .put("switchResolved", s.switchResolved())
                .put("localAddress", s.localAddress())
                .put("switchRttMicros", s.switchRtt() == null ? null : s.switchRtt().toNanos() / 1000)
                .put("tapRxFrames", s.tapRxFrames())
                .put("tapRxBytes", s.tapRxBytes())
                .put("tapTxFrames", s.tapTxFrames())
                .put("tapTxBytes", s.tapTxBytes())
                .put("drops", s.drops())
                .put("since", time(s.since()))
                .put("lastFromSwitch", time(s.lastFromSwitch()))
                .put("lastFromSwitchSecondsAgo", secondsAgo(s.lastFromSwitch(), now));
    }

    /**
     * An agent's managed routes and gateway mode ({@link AgentRoutes}, docs/routes.md): {@code acceptRoutes},
     * {@code acceptDefaultRoute}, {@code gateway} (null when off), {@code version} (null before the first routes),
     * {@code offered} (objects {@code route}, {@code installed}, {@code reason}) and {@code installed} (strings).
     */
    public static ObjectNode agentRoutes(AgentRoutes r) {
        ObjectNode o = NODES.objectNode()
                .put("acceptRoutes", r.acceptRoutes())
                .put("acceptDefaultRoute", r.acceptDefaultRoute())
                .put("gateway", r.gateway())
                .put("version", r.version());
        ArrayNode offered = o.putArray("offered");
        for (AgentRoutes.Offered each : r.offered()) {
            offered.addObject().put("route", each.route()).put("installed", each.installed())
                    .put("reason", each.reason());
        }
        ArrayNode installed = o.putArray("installed");
        r.installed().forEach(installed::add);
        return o;
    }

    /**
     * A switch's managed routes ({@link NetworkRoute}, docs/routes.md): {@code network}, {@code destination},
     * {@code gateway}, {@code metric}, {@code inForce}, {@code version} (as text, {@link NetworkRoute#versionText}).
     */
    public static ArrayNode networkRoutes(List<NetworkRoute> routes) {
        ArrayNode a = NODES.arrayNode();
        for (NetworkRoute r : routes) {
            a.addObject().put("network", Networks.format(r.network()))
                    .put("destination", r.destination())
                    .put("gateway", r.gateway())
                    .put("metric", r.metric())
                    .put("inForce", r.inForce())
                    .put("version", r.versionText());
        }
        return a;
    }

    /**
     * The switch's pair keys ({@code vl2:pairs -j}): {@code network}, {@code index} (hex), {@code vlan} (absent when
     * untagged), {@code source}, {@code destination}, {@code sender}, {@code receiver} (port numbers), {@code state},
     * {@code ageSeconds}; never a key.
     */
    public static ArrayNode pairs(List<PairInfo> pairs) {
        ArrayNode a = NODES.arrayNode();
        for (PairInfo p : pairs) {
            ObjectNode o = a.addObject()
                    .put("network", Networks.format(p.network()))
                    .put("index", Integer.toHexString(p.index()));
            if (p.vlan() >= 0) {
                o.put("vlan", p.vlan());
            }
            o.put("source", p.source().toString())
                    .put("destination", p.destination().toString())
                    .put("sender", p.sender().number())
                    .put("receiver", p.receiver().number())
                    .put("state", p.state())
                    .put("ageSeconds", p.age().toSeconds());
        }
        return a;
    }

    /** The HTTP API's tokens: {@code name}, {@code access}, {@code created}, {@code lastUsed}; never the tokens. */
    public static ArrayNode tokens(List<ApiToken> tokens) {
        ArrayNode a = NODES.arrayNode();
        for (ApiToken t : tokens) {
            a.addObject().put("name", t.name()).put("access", tokenAccess(t.admin()))
                    .put("created", time(t.created()))
                    .put("lastUsed", time(t.lastUsed()));
        }
        return a;
    }

    /** A token's access as the shell and the API write it. */
    public static String tokenAccess(boolean admin) {
        return admin ? "read-write" : "read-only";
    }

    private static String time(Instant t) {
        return t == null ? null : t.toString();
    }

    private static Long secondsAgo(Instant then, Instant now) {
        return then == null ? null : Math.max(0, Duration.between(then, now).getSeconds());
    }
}
