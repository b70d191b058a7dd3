package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Initiator;
import org.vl2.crypto.Session;
import org.vl2.ipam.Ipv4Pool;
import org.vl2.protocol.Join;
import org.vl2.protocol.Route;
import org.vl2.protocol.Routes;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;

/**
 * Managed routes on the switch (docs/routes.md): validated configuration, the routes in force follow their gateways'
 * ports, and each encrypted member gets them sealed until it acknowledges the version.
 */
class RoutePushTest {

    private static final long NET = 0x2aL;

    @TempDir
    Path stateDir;

    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final Identity switchIdentity = Identity.generate();
    private FakeTransport vl2;
    private SwitchCore sw;
    private NetworkDefinition net;

    @BeforeEach
    void setUp() throws Exception {
        vl2 = new FakeTransport("vl2", "vl2");
        sw = Fakes.vl2Switch(vl2, 1024, clock::get, stateDir, switchIdentity, null);
        net = new NetworkDefinition(settings("10.1.0.0/24",
                "10.9.0.0/16 via 10.1.0.5, 0.0.0.0/0 via 10.1.0.5 metric 100", "0.0.0.0/0 via 10.1.0.6 metric 200"));
        sw.bindNetwork(net);
    }

    @AfterEach
    void stopSwitch() {
        sw.deactivate();
    }

    private static NetworkSettings settings(String pool, String... routes) {
        Ipv4Pool p = Ipv4Pool.parse(pool, null);
        return new NetworkSettings(NET, "lab", 1400, null, p, null, false, java.time.Duration.ofHours(1), null,
                List.of(), false, java.util.Set.of(), HygieneSettings.DEFAULTS, false,
                NetworkSettings.routes("test", routes, p, null));
    }

    /** An encrypted member with a static address. */
    private final class Member {
        final Identity identity = Identity.generate();
        final SocketAddress address;
        Session session;

        Member(int port) {
            this.address = TestFrames.endpoint(port);
        }

        Welcome join(String ipv4) throws Exception {
            ByteBuffer join = ByteBuffer.allocate(64);
            new Join(NET, identity.memberId(), 99, 1518, 0,
                    ipv4 == null ? null : (java.net.Inet4Address) InetAddress.getByName(ipv4), "m").encode(join);
            Initiator i = Initiator.create(identity, switchIdentity.publicKey(), 0x1000 + address.hashCode() % 1000,
                    join.array(), null);
            vl2.inject(address, ByteBuffer.wrap(i.initiation()));
            Initiator.Completion c = i.consume(ByteBuffer.wrap(vl2.last(address)));
            session = c.session();
            Welcome w = Welcome.decode(ByteBuffer.wrap(c.payload()));
            vl2.inject(address, ByteBuffer.wrap(seal(Wire.KEEPALIVE, new byte[8]))); // confirms the session
            return w;
        }

        byte[] seal(int type, byte[] body) throws Exception {
            ByteBuffer b = ByteBuffer.allocate(16 + body.length + 16);
            b.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) type).put(3, (byte) Wire.FLAG_SEALED)
                    .putInt(4, session.remoteIndex()).put(16, body);
            session.seal(b, 0, 16, body.length, System.nanoTime());
            return b.array();
        }

        /** The last ROUTES the switch sent this member, opened; null if the last datagram is something else. */
        Routes routes() throws Exception {
            byte[] d = vl2.last(address);
            if (d == null || d[2] != Wire.ROUTES) {
                return null;
            }
            assertEquals(Wire.FLAG_SEALED, d[3], "routes travel sealed only");
            ByteBuffer b = ByteBuffer.wrap(d.clone());
            int n = session.open(b, 0, 16, d.length - 16, System.nanoTime());
            return Routes.decode(b, 16, n);
        }

        void ack(Routes r) throws Exception {
            byte[] body = new byte[Routes.ACK_LENGTH];
            Routes.encodeAck(ByteBuffer.wrap(body), 0, r.network(), r.version());
            vl2.inject(address, ByteBuffer.wrap(seal(Wire.ROUTES_ACK, body)));
        }
    }

    private static List<String> text(Routes r) {
        return r.routes().stream().map(Route::toString).toList();
    }

    @Test
    void routesFollowTheirGatewaysAndAreResentUntilAcknowledged() throws Exception {
        Member h1 = new Member(40001);
        h1.join(null);
        sw.pushRoutes();
        Routes none = h1.routes();
        assertEquals(List.of(), none.routes(), "no gateway has a port: nothing in force");
        h1.ack(none);

        Member g1 = new Member(40002);
        g1.join("10.1.0.5");
        vl2.clear();
        assertEquals(2, sw.pushRoutes(), "the gateway's arrival changed the routes: both members get them");
        Routes viaG1 = h1.routes();
        assertEquals(List.of("10.9.0.0/16 via 10.1.0.5", "0.0.0.0/0 via 10.1.0.5 metric 100"), text(viaG1));
        assertTrue(Routes.newer(viaG1.version(), none.version()));

        vl2.clear();
        assertEquals(0, sw.pushRoutes(), "not again before a second has passed");
        clock.addAndGet(1_000_000_000L);
        assertEquals(2, sw.pushRoutes(), "unacknowledged: again after a second");
        h1.ack(viaG1);
        g1.ack(g1.routes());
        clock.addAndGet(60_000_000_000L);
        vl2.clear();
        assertEquals(0, sw.pushRoutes(), "acknowledged: nothing more");

        Member g2 = new Member(40003);
        g2.join("10.1.0.6");
        sw.pushRoutes();
        Routes both = h1.routes();
        assertEquals(3, both.routes().size());
        h1.ack(both);

        // the preferred gateway leaves: its routes are withdrawn, the second gateway's default stays
        vl2.inject(g1.address, ByteBuffer.wrap(g1.seal(Wire.LEAVE, new byte[0])));
        vl2.clear();
        sw.pushRoutes();
        Routes fallback = h1.routes();
        assertEquals(List.of("0.0.0.0/0 via 10.1.0.6 metric 200"), text(fallback));
        assertTrue(Routes.newer(fallback.version(), both.version()));
        assertEquals(fallback.version(), sw.routes().get(0).version());
    }

    @Test
    void aConfigurationChangeIsPushedAndAnInvalidOneKeepsThePreviousRoutes() throws Exception {
        Member g1 = new Member(40002);
        g1.join("10.1.0.5");
        sw.pushRoutes();
        g1.ack(g1.routes());
        net.replace(settings("10.1.0.0/24", "10.8.0.0/16 via 10.1.0.5 metric 7"));
        sw.updatedNetwork(net);
        vl2.clear();
        assertEquals(1, sw.pushRoutes());
        assertEquals(List.of("10.8.0.0/16 via 10.1.0.5 metric 7"), text(g1.routes()));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> settings("10.1.0.0/24", "10.8.0.0/16 via 10.2.0.5"));
        assertEquals("Invalid configuration test: routes='10.8.0.0/16 via 10.2.0.5' (must be a gateway inside the "
                + "network: 10.2.0.5 is outside ipv4.pool 10.1.0.0/24 (range 10.1.0.1-10.1.0.253))", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings("10.1.0.0/24", "10.8.0.0/16 via"));
        assertTrue(e.getMessage().startsWith("Invalid configuration test: routes='10.8.0.0/16 via' (must be CIDR via "
                + "ADDRESS [metric N]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings("10.1.0.0/24", "fd00:9::/48 via fd00::5"));
        assertTrue(e.getMessage().contains("the network has no ipv6.prefix for fd00:0:0:0:0:0:0:5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> settings("10.1.0.0/24", "10.8.0.0/16 via 10.1.0.5, 10.8.0.0/16 via 10.1.0.5 metric 3"));
        assertTrue(e.getMessage().contains("already there"), e.getMessage());
        assertEquals(List.of("10.8.0.0/16 via 10.1.0.5 metric 7"),
                sw.routes().stream().map(r -> r.destination() + " via " + r.gateway() + " metric " + r.metric())
                        .toList());
    }

    @Test
    void aMemberThatJoinsAgainGetsTheRoutesAgain() throws Exception {
        Member g1 = new Member(40002);
        g1.join("10.1.0.5");
        sw.pushRoutes();
        Routes r = g1.routes();
        g1.ack(r);
        clock.addAndGet(60_000_000_000L);
        vl2.clear();
        assertEquals(0, sw.pushRoutes());
        g1.join("10.1.0.5"); // the agent restarted (SIGKILL): the same member, its port back, a new session
        clock.addAndGet(1_000_000L);
        vl2.clear();
        assertEquals(1, sw.pushRoutes(), "the new instance holds no routes yet");
        assertEquals(r.routes(), g1.routes().routes(), "sealed under the new session");
    }

    @Test
    void aPlaintextRoutesAckIsMalformedAndChangesNothing() throws Exception {
        Member g1 = new Member(40002);
        g1.join("10.1.0.5");
        sw.pushRoutes();
        Routes r = g1.routes();
        long malformed = sw.statistics().malformed();
        ByteBuffer plain = ByteBuffer.allocate(4 + Routes.ACK_LENGTH);
        plain.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) Wire.ROUTES_ACK);
        Routes.encodeAck(plain, 4, NET, r.version());
        vl2.inject(g1.address, plain);
        assertEquals(malformed + 1, sw.statistics().malformed());
        clock.addAndGet(1_000_000_000L);
        vl2.clear();
        assertEquals(1, sw.pushRoutes(), "still unacknowledged");
        assertNotEquals(null, g1.routes());
    }
}
