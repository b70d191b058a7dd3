package org.vl2.rest.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.vl2.api.InvalidSettingException;
import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.MacTableService;
import org.vl2.api.MemberInfo;
import org.vl2.api.NetworkInfo;
import org.vl2.api.Networks;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchAdminService;
import org.vl2.api.SwitchService;
import org.vl2.json.Views;

/**
 * The switch's resources: the switch itself, networks, members, ports and the MAC table. Reads go to
 * {@link SwitchService} and {@link MacTableService}, changes to {@link SwitchAdminService}: the services the shell
 * commands use, so the API and the shell never disagree.
 */
final class SwitchResources {

    static final String NO_SWITCH = "no vl2 switch runs in this instance";
    /** The most MAC entries one page holds. */
    static final int MAX_PAGE = 1000;

    private final Supplier<SwitchService> switches;
    private final Supplier<SwitchAdminService> admins;
    private final Supplier<MacTableService> macTables;
    private final Supplier<Instant> clock;

    SwitchResources(Supplier<SwitchService> switches, Supplier<SwitchAdminService> admins,
                    Supplier<MacTableService> macTables, Supplier<Instant> clock) {
        this.switches = switches;
        this.admins = admins;
        this.macTables = macTables;
        this.clock = clock;
    }

    void register(Router r) {
        r.get("/switch", x -> switchInfo())
                .get("/networks", x -> Views.networks(sw().networks()))
                .write("POST", "/networks", this::createNetwork)
                .get("/networks/{network}", x -> network(Exchange.network("network", x.variable("network"))))
                .write("PUT", "/networks/{network}", x -> putNetwork(x, false))
                .write("PATCH", "/networks/{network}", x -> putNetwork(x, true))
                .write("DELETE", "/networks/{network}", this::deleteNetwork)
                .get("/networks/{network}/members", this::members)
                .write("PUT", "/networks/{network}/members/{member}", this::authorize)
                .write("DELETE", "/networks/{network}/members/{member}", this::deauthorize)
                .get("/networks/{network}/routes", this::networkRoutes)
                .get("/routes", x -> Views.networkRoutes(sw().routes()))
                .get("/ports", this::ports)
                .get("/ports/{port}", x -> Views.port(port(x), clock.get()))
                .write("DELETE", "/ports/{port}", this::removePort)
                .get("/mactable", this::macTable);
    }

    private SwitchService sw() {
        SwitchService s = switches.get();
        if (s == null) {
            throw HttpError.notFound(NO_SWITCH);
        }
        return s;
    }

    private SwitchAdminService admin() {
        SwitchAdminService a = admins.get();
        if (a == null) {
            throw HttpError.notFound(NO_SWITCH);
        }
        return a;
    }

    private JsonNode switchInfo() {
        SwitchService s = sw();
        MacTableService m = macTables.get();
        ObjectNode o = Views.statistics(s.statistics(), m == null ? null : m.statistics());
        o.put("publicKey", s.publicKey())
                .put("policy", s.policy())
                .put("policyActive", s.policyActive());
        ArrayNode policies = o.putArray("policies");
        s.policies().stream().sorted().forEach(policies::add);
        return o;
    }

    private NetworkInfo existing(long id) {
        return sw().network(id).orElseThrow(() -> HttpError.notFound("no network " + Networks.format(id)));
    }

    private JsonNode networkRoutes(Exchange x) {
        long id = existing(Exchange.network("network", x.variable("network"))).id();
        return Views.networkRoutes(sw().routes().stream().filter(r -> r.network() == id).toList());
    }

    private JsonNode network(long id) {
        ObjectNode o = Views.network(existing(id));
        ObjectNode settings = o.putObject("settings");
        admin().networkSettings(id).forEach(settings::put);
        return o;
    }

    private JsonNode createNetwork(Exchange x) {
        JsonNode body = x.jsonObject();
        JsonNode idNode = body.get("id");
        if (idNode == null || !idNode.isTextual()) {
            throw HttpError.badRequest("id", "id is required: the network id as 1 to 16 hex digits, e.g. \"8056c2e21c000001\"");
        }
        long id = Exchange.network("id", idNode.asText());
        if (sw().network(id).isPresent() && !admin().networkSettings(id).isEmpty()) {
            throw new HttpError(409, "network " + Networks.format(id) + " exists (change it with PUT or PATCH "
                    + "/api/networks/" + Networks.format(id) + ")", "id");
        }
        apply(id, settings(body), false);
        x.status = 201;
        x.location = "/api/networks/" + Networks.format(id);
        return network(id);
    }

    private JsonNode putNetwork(Exchange x, boolean merge) {
        long id = Exchange.network("network", x.variable("network"));
        if (merge) {
            existing(id);
        }
        Map<String, String> settings = settings(x.jsonObject());
        if (apply(id, settings, merge)) {
            x.status = 201;
            x.location = "/api/networks/" + Networks.format(id);
        }
        return network(id);
    }

    private boolean apply(long id, Map<String, String> settings, boolean merge) {
        try {
            return admin().putNetwork(id, settings, merge);
        } catch (InvalidSettingException e) {
            throw HttpError.badRequest(e.setting(), e.getMessage());
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest(null, e.getMessage());
        }
    }

    /** A JSON object's members as settings text: scalars as they are, arrays comma-separated. */
    static Map<String, String> settings(JsonNode body) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (v.isArray()) {
                List<String> items = new ArrayList<>();
                for (JsonNode item : v) {
                    if (!item.isValueNode()) {
                        throw HttpError.badRequest(e.getKey(), e.getKey() + " must be a list of strings");
                    }
                    items.add(item.asText());
                }
                out.put(e.getKey(), String.join(",", items));
            } else if (v.isValueNode() && !v.isNull()) {
                out.put(e.getKey(), v.asText());
            } else if (v.isNull()) {
                out.put(e.getKey(), "");
            } else {
                throw HttpError.badRequest(e.getKey(), e.getKey() + " must be a string, number, boolean or list");
            }
        }
        return out;
    }

    private JsonNode deleteNetwork(Exchange x) {
        long id = Exchange.network("network", x.variable("network"));
        existing(id);
        if (!admin().removeNetwork(id)) {
            throw new HttpError(409, "network " + Networks.format(id) + " is built in and has no configuration to "
                    + "delete");
        }
        return null;
    }

    private JsonNode members(Exchange x) {
        long id = Exchange.network("network", x.variable("network"));
        existing(id);
        String state = x.query("state");
        if (state != null && !List.of(MemberInfo.ONLINE, MemberInfo.AUTHORIZED, MemberInfo.WAITING).contains(state)) {
            throw HttpError.badRequest("state", "state=" + state + " (must be online, authorized or waiting)");
        }
        List<MemberInfo> members = sw().members(id).stream()
                .filter(m -> state == null || m.state().equals(state)).toList();
        return Views.members(sw().publicKey(), members);
    }

    /** A member in a path: a member id, or a public key in base64url (a '/' cannot stand in a path segment). */
    static String member(String text) {
        return text.replace('-', '+').replace('_', '/');
    }

    private JsonNode authorize(Exchange x) {
        long id = Exchange.network("network", x.variable("network"));
        existing(id);
        String member = member(x.variable("member"));
        try {
            admin().authorize(id, member);
        } catch (InvalidSettingException e) {
            throw HttpError.badRequest("member", e.getMessage());
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest("member", e.getMessage());
        }
        return Views.members(sw().publicKey(), sw().members(id));
    }

    private JsonNode deauthorize(Exchange x) {
        long id = Exchange.network("network", x.variable("network"));
        existing(id);
        String member = member(x.variable("member"));
        boolean was;
        try {
            was = admin().deauthorize(id, member);
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest("member", e.getMessage());
        }
        if (!was) {
            throw HttpError.notFound(x.variable("member") + " is not authorized on network " + Networks.format(id));
        }
        return null;
    }

    private JsonNode ports(Exchange x) {
        String n = x.query("network");
        Long network = n == null ? null : Exchange.network("network", n);
        List<PortInfo> ports = sw().ports().stream().filter(p -> network == null || p.network() == network).toList();
        return Views.ports(ports, clock.get());
    }

    private PortInfo port(Exchange x) {
        PortId id = Exchange.port("port", x.variable("port"));
        return sw().port(id).orElseThrow(() -> HttpError.notFound("no port " + id));
    }

    private JsonNode removePort(Exchange x) {
        PortId id = Exchange.port("port", x.variable("port"));
        if (!admin().removePort(id)) {
            throw HttpError.notFound("no port " + id);
        }
        return null;
    }

    /**
     * MAC entries filtered by network, VLAN, MAC and port, ordered (network, VLAN, MAC) and paged:
     * {@code {"total": N, "offset": O, "limit": L, "entries": [...]}}.
     */
    private JsonNode macTable(Exchange x) {
        MacTableService table = macTables.get();
        if (table == null) {
            throw HttpError.notFound(NO_SWITCH);
        }
        String n = x.query("network");
        Long network = n == null ? null : Exchange.network("network", n);
        int vlan = x.queryInt("vlan", -1, 0, 4095);
        String m = x.query("mac");
        MacAddress mac;
        try {
            mac = m == null ? null : MacAddress.valueOf(m);
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest("mac", e.getMessage());
        }
        String p = x.query("port");
        PortId port = p == null ? null : Exchange.port("port", p);
        int offset = x.queryInt("offset", 0, 0, Integer.MAX_VALUE);
        int limit = x.queryInt("limit", 100, 1, MAX_PAGE);
        List<MacEntry> matching = table.entries().stream()
                .filter(e -> network == null || e.network() == network)
                .filter(e -> vlan < 0 || e.vlan() == vlan)
                .filter(e -> mac == null || e.mac().equals(mac))
                .filter(e -> port == null || e.port().equals(port))
                .sorted(java.util.Comparator.comparing(MacEntry::network, Long::compareUnsigned)
                        .thenComparingInt(MacEntry::vlan).thenComparing(MacEntry::mac))
                .toList();
        ObjectNode o = Views.MAPPER.createObjectNode()
                .put("total", matching.size())
                .put("offset", offset)
                .put("limit", limit);
        int from = Math.min(offset, matching.size());
        int to = (int) Math.min(matching.size(), (long) offset + limit);
        o.set("entries", Views.macEntries(matching.subList(from, to)));
        return o;
    }
}
