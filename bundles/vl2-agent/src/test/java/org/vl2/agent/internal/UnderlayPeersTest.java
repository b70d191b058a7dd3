package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** What a default route through the overlay must keep on the underlay: the switch's address and an HTTP proxy's. */
class UnderlayPeersTest {

    private final List<String> lookups = new ArrayList<>();

    private InetAddress resolve(String host) throws java.net.UnknownHostException {
        lookups.add(host);
        if (host.equals("proxy.test")) {
            return InetAddress.getByName("198.51.100.3");
        }
        throw new java.net.UnknownHostException(host);
    }

    private LinkKeeper keeper(AgentConfig.Settings s) {
        Lifecycle life = new Lifecycle("");
        life.run();
        return new LinkKeeper(s, this::resolve, Timing.DEFAULT, life, new Counters());
    }

    @Test
    void theProxyOfATcpPathByNameIsResolvedOnceAMinuteAtMost() {
        AgentConfig.Settings s = AgentConfig.validate(new TestConfig().switchAddress("192.0.2.7:9991")
                .tcp(8443, "http://proxy.test:3128"));
        UnderlayPeers peers = new UnderlayPeers(keeper(s), s.path().proxy(), this::resolve);
        assertEquals(List.of(ManagedRoutesTest.a("198.51.100.3")), peers.get(), "no link yet: the proxy alone");
        assertEquals(List.of(ManagedRoutesTest.a("198.51.100.3")), peers.get());
        assertEquals(List.of("proxy.test"), lookups, "one lookup for both");
    }

    @Test
    void aProxyNameThatDoesNotResolveIsNotLookedUpAgainEachRound() {
        AgentConfig.Settings s = AgentConfig.validate(new TestConfig().switchAddress("192.0.2.7:9991")
                .tcp(8443, "http://nowhere.test:3128"));
        UnderlayPeers peers = new UnderlayPeers(keeper(s), s.path().proxy(), this::resolve);
        assertEquals(List.of(), peers.get(), "no link and no proxy address: nothing to pin");
        assertEquals(List.of(), peers.get());
        assertEquals(List.of("nowhere.test"), lookups, "one lookup for both rounds");
    }

    @Test
    void theSwitchAsTheLinkReachesItAndNoProxyOverUdp() {
        AgentConfig.Settings s = AgentConfig.validate(new TestConfig().switchAddress("127.0.0.1:9"));
        LinkKeeper links = keeper(s);
        UnderlayPeers peers = new UnderlayPeers(links, s.path().proxy(), this::resolve);
        assertEquals(List.of(), peers.get(), "nothing to pin before there is a link");
        links.check(true); // a UDP socket toward the switch: nothing is sent
        try {
            assertEquals(List.of(ManagedRoutesTest.a("127.0.0.1")), peers.get());
        } finally {
            Link l = links.stop();
            if (l != null) {
                l.close();
            }
        }
    }
}
