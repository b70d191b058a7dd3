package org.vl2.agent.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The underlay addresses a default route through the overlay must not take away (docs/routes.md, "the pin"): the
 * switch's address as the link reaches it now (also the TCP fallback's, which goes to the same host), and with a TCP
 * path through an HTTP proxy ({@code proxy}, transport tcp or auto) the proxy's address, because then the kernel's
 * socket talks to the proxy, not to the switch. Read on the control thread, each tick ({@link ManagedRoutes#recheck}):
 * a proxy given by name is resolved again at most every {@link #PROXY_RESOLVE_MILLIS}, and while it does not resolve
 * at most every {@link #PROXY_RETRY_MILLIS} (a lookup that fails may take seconds: not on every round).
 */
final class UnderlayPeers implements Supplier<List<InetAddress>> {

    static final long PROXY_RESOLVE_MILLIS = 60_000;
    static final long PROXY_RETRY_MILLIS = 5_000;

    private final LinkKeeper links;
    /** The HTTP proxy of the TCP path; null if none. */
    private final SwitchAddress proxy;
    private final SwitchAddress.Resolver resolver;
    private InetAddress proxyAddress;
    private long proxyResolvedAt;

    UnderlayPeers(LinkKeeper links, SwitchAddress proxy, SwitchAddress.Resolver resolver) {
        this.links = links;
        this.proxy = proxy;
        this.resolver = resolver;
    }

    @Override
    public synchronized List<InetAddress> get() {
        List<InetAddress> peers = new ArrayList<>(2);
        Link l = links.link();
        InetSocketAddress remote = l != null && l.remote() != null ? l.remote() : links.resolved();
        if (remote != null && remote.getAddress() != null) {
            peers.add(remote.getAddress());
        }
        InetAddress p = proxy();
        if (p != null && !peers.contains(p)) {
            peers.add(p);
        }
        return peers;
    }

    /** The proxy's address: a literal at once, a name as last resolved (kept while it does not resolve). */
    private InetAddress proxy() {
        if (proxy == null) {
            return null;
        }
        long now = links.clock().millis();
        long every = proxyAddress == null ? PROXY_RETRY_MILLIS : PROXY_RESOLVE_MILLIS;
        if (proxyResolvedAt == 0 || proxy.isName() && now - proxyResolvedAt >= every) {
            proxyResolvedAt = now;
            try {
                proxyAddress = proxy.resolve(resolver).getAddress();
            } catch (UnknownHostException e) {
                // kept: the link keeper says when the proxy does not resolve; pinning stays with the last answer
            }
        }
        return proxyAddress;
    }
}
