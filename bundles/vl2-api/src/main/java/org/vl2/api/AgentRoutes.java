package org.vl2.api;

import java.util.List;

/**
 * What a port agent does with its network's managed routes (docs/routes.md), as {@code vl2:agent} shows it: what it
 * accepts, its gateway mode, the routes the switch pushed and what became of each, and the kernel routes it installed.
 *
 * @param acceptRoutes       whether specific routes are installed ({@code accept.routes}, {@code --accept-routes})
 * @param acceptDefaultRoute whether 0.0.0.0/0 and ::/0 are ({@code accept.default.route},
 *                           {@code --accept-default-route})
 * @param gateway            gateway mode as it is now ({@code forwarding on vl2tap0, lan0; masquerade out of up0
 *                           (nftables table ip vl2_gw_vl2tap0)}); {@code null} when it is off
 * @param version            the version of the last routes from the switch ({@code EPOCH:N}, as {@code vl2:routes}
 *                           on the switch shows it); {@code null} before the first
 * @param offered            the routes the switch pushed, in its order, each installed or not and why
 * @param installed          the kernel routes the agent installed ({@code ip route show proto 118}): the halves of a
 *                           default route, the specific routes, and the host routes that keep the switch (and an HTTP
 *                           proxy) on the underlay, e.g. {@code 198.51.100.7/32 via 192.168.1.1 dev eth0 (pin)}
 */
public record AgentRoutes(boolean acceptRoutes, boolean acceptDefaultRoute, String gateway, String version,
                          List<Offered> offered, List<String> installed) {

    public AgentRoutes {
        offered = offered == null ? List.of() : List.copyOf(offered);
        installed = installed == null ? List.of() : List.copyOf(installed);
    }

    /**
     * One route the switch pushed.
     *
     * @param route     {@code 10.9.0.0/16 via 10.147.17.5 metric 100}
     * @param installed whether it is in the kernel now (a default route as its two halves)
     * @param reason    why it is not (not accepted, this agent is its gateway, it would cut the agent off from the
     *                  switch, it conflicts with a connected route, the kernel refused it); {@code null} if it is
     */
    public record Offered(String route, boolean installed, String reason) {
    }
}
