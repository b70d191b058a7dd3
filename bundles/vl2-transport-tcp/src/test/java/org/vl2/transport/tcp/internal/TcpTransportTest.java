package org.vl2.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.SendBatch;
import org.vl2.netio.stream.StreamEndpoints;

class TcpTransportTest {

    @TempDir
    Path data;

    private final List<AutoCloseable> open = new ArrayList<>();
    private final LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();

    record Received(SocketAddress from, String text) {
    }

    private final LinkedBlockingQueue<String> ended = new LinkedBlockingQueue<>();

    /** The switch core as the transport sees it: records each message, the ends of connections and lost messages. */
    private final FrameReceiver core = new FrameReceiver() {
        @Override
        public void receive(Transport t, SocketAddress source, ByteBuffer message) {
            byte[] b = new byte[message.remaining()];
            message.get(b);
            received.add(new Received(source, new String(b, StandardCharsets.UTF_8)));
        }

        @Override
        public void transmitFailed(Transport t, PortId port, int frames, long bytes) {
            ended.add("lost " + port + " " + frames + " " + bytes);
        }

        @Override
        public void connectionClosed(Transport t, SocketAddress remote) {
            ended.add("closed " + remote);
        }
    };

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private TcpTransport start(Cfg cfg) {
        TcpTransport t = new TcpTransport(cfg, data);
        open.add(t::deactivate);
        t.start(core);
        return t;
    }

    private DatagramEndpoint connect(TcpTransport t, boolean tls) throws IOException {
        DatagramEndpoint e = StreamEndpoints.connect(new InetSocketAddress("127.0.0.1", t.boundPort()), null, tls,
                5_000);
        open.add(e);
        return e;
    }

    private Socket raw(TcpTransport t) throws IOException {
        Socket s = new Socket("127.0.0.1", t.boundPort());
        open.add(s);
        return s;
    }

    private static ByteBuffer text(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    /** Reads until the switch closes the socket; false if it stays open for 20 s. */
    private static boolean closedBySwitch(Socket s) throws IOException {
        s.setSoTimeout(20_000);
        InputStream in = s.getInputStream();
        try {
            while (in.read() >= 0) {
                // whatever the switch says before it closes (a TLS alert)
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private static String receive(DatagramEndpoint e) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            int n = e.receive(200);
            if (n > 0) {
                ByteBuffer d = e.datagram(0);
                byte[] b = new byte[d.remaining()];
                d.get(b);
                return new String(b, StandardCharsets.UTF_8);
            }
        }
        throw new AssertionError("nothing received");
    }

    @Test
    void messagesBothWaysInTls() throws Exception {
        TcpTransport t = start(new Cfg());
        assertEquals("tcp", t.name());
        assertEquals("vl2", t.mode());
        DatagramEndpoint agent = connect(t, true);
        assertTrue(agent.send(null, text("join")));
        assertTrue(agent.queue(null, text("frame 1")));
        assertTrue(agent.queue(null, text("frame 2")));
        agent.flush(100);
        Received r = received.poll(20, TimeUnit.SECONDS);
        assertEquals("join", r.text());
        assertEquals(agent.localAddress().getPort(), ((InetSocketAddress) r.from()).getPort(),
                "the port is named by the connection's remote address");
        assertEquals("frame 1", received.poll(20, TimeUnit.SECONDS).text());
        assertEquals("frame 2", received.poll(20, TimeUnit.SECONDS).text());
        assertTrue(t.send(r.from(), text("welcome")));
        assertEquals("welcome", receive(agent));
        assertFalse(t.send(new InetSocketAddress("127.0.0.1", 1), text("nobody")), "no such connection");
        assertTrue(Files.exists(data.resolve(ServerTls.CERTIFICATE_FILE)), "certificate kept in the instance");
    }

    /**
     * Sends from another transport's receive loop (a thread with a {@link SendBatch}) wait for the end of its batch
     * and leave together; a plain thread's send leaves at once.
     */
    @Test
    void sendsFromAReceiveBatchLeaveAtItsEnd() throws Exception {
        TcpTransport t = start(new Cfg());
        DatagramEndpoint agent = connect(t, true);
        assertTrue(agent.send(null, text("join")));
        SocketAddress from = received.poll(20, TimeUnit.SECONDS).from();
        LinkedBlockingQueue<String> steps = new LinkedBlockingQueue<>();
        CountDownLatch batchEnds = new CountDownLatch(1);
        Thread loop = new Thread(() -> {
            SendBatch batch = SendBatch.enter();
            steps.add("sent " + t.send(from, text("one")) + " " + t.send(from, text("two")) + " " + batch.pending());
            try {
                batchEnds.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            batch.end();
            SendBatch.leave();
        }, "udp-loop-like");
        loop.start();
        assertEquals("sent true true 1", steps.poll(20, TimeUnit.SECONDS), "staged, one flush deferred for both");
        assertEquals(0, agent.receive(300), "nothing written before the batch ends");
        batchEnds.countDown();
        assertEquals(List.of("one", "two"), receiveAll(agent, 2));
        loop.join(20_000);
        assertTrue(t.send(from, text("at once")), "a thread without a batch");
        assertEquals("at once", receive(agent));
    }

    /**
     * The connection loop has a send batch and ends it after each round: what the switch forwards to UDP members
     * while handling a TCP member's messages (the UDP transport defers its sendmmsg there) leaves once the round is
     * done, not one datagram per message nor never.
     */
    @Test
    void theConnectionLoopEndsASendBatchEachRound() throws Exception {
        LinkedBlockingQueue<String> steps = new LinkedBlockingQueue<>();
        TcpTransport t = new TcpTransport(new Cfg(), data);
        open.add(t::deactivate);
        t.start((tr, source, message) -> {
            String m = StandardCharsets.UTF_8.decode(message).toString();
            SendBatch batch = SendBatch.current();
            steps.add(batch == null ? "no batch for " + m : "deferred " + m);
            if (batch != null) {
                batch.defer(() -> steps.add("flushed " + m));
            }
        });
        DatagramEndpoint agent = connect(t, true);
        for (String m : List.of("one", "two")) {
            assertTrue(agent.send(null, text(m)));
            assertEquals("deferred " + m, steps.poll(20, TimeUnit.SECONDS));
            assertEquals("flushed " + m, steps.poll(20, TimeUnit.SECONDS), "the round's end sends it");
        }
    }

    /** A batch that stages more than the write queue holds makes room by flushing: nothing is refused. */
    @Test
    void aBatchLongerThanTheWriteQueueLosesNothing() throws Exception {
        Cfg cfg = new Cfg();
        cfg.writeQueue = 70_000; // about 68 messages of 1000 bytes
        TcpTransport t = start(cfg);
        DatagramEndpoint agent = connect(t, true);
        assertTrue(agent.send(null, text("join")));
        SocketAddress from = received.poll(20, TimeUnit.SECONDS).from();
        int[] accepted = new int[1];
        Thread loop = new Thread(() -> {
            SendBatch batch = SendBatch.enter();
            ByteBuffer m = ByteBuffer.allocate(1000);
            for (int i = 0; i < 120; i++) {
                m.clear().put(0, (byte) i);
                if (t.send(from, m)) {
                    accepted[0]++;
                }
            }
            batch.end();
            SendBatch.leave();
        }, "udp-loop-like");
        loop.start();
        loop.join(20_000);
        assertEquals(120, accepted[0], "every message staged (the write queue holds 70; the socket takes the rest)");
        int got = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (got < 120 && System.nanoTime() < deadline) {
            int n = agent.receive(200);
            for (int i = 0; i < n; i++) {
                assertEquals((byte) got, agent.datagram(i).get(agent.datagram(i).position()), "in order");
                got++;
            }
        }
        assertEquals(120, got);
    }

    /** The next {@code n} messages, however many each receive brings. */
    private static List<String> receiveAll(DatagramEndpoint e, int n) throws Exception {
        List<String> got = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (got.size() < n && System.nanoTime() < deadline) {
            int count = e.receive(200);
            for (int i = 0; i < count; i++) {
                ByteBuffer d = e.datagram(i);
                byte[] b = new byte[d.remaining()];
                d.get(b);
                got.add(new String(b, StandardCharsets.UTF_8));
            }
        }
        return got;
    }

    /** Both ends prefer AES-128-GCM for the TLS envelope, and the switch's order decides for a client's other one. */
    @Test
    void tlsNegotiatesAes128Gcm() throws Exception {
        ServerTls tls = ServerTls.load("", "", data, TcpTransport.PID);
        SSLContext ours = trusting(data.resolve(ServerTls.CERTIFICATE_FILE));
        SSLEngine client = ours.createSSLEngine("switch", 443);
        client.setUseClientMode(true);
        StreamEndpoints.configure(client);
        assertEquals("TLS_AES_128_GCM_SHA256", handshake(client, tls.newEngine()));
        SSLEngine jdkDefault = ours.createSSLEngine("switch", 443); // AES-256-GCM first in JDK 17
        jdkDefault.setUseClientMode(true);
        assertEquals("TLS_AES_256_GCM_SHA384", jdkDefault.getEnabledCipherSuites()[0]);
        SSLEngine server = tls.newEngine();
        assertEquals("TLS_AES_128_GCM_SHA256", handshake(jdkDefault, server));
        assertEquals("TLSv1.3", server.getSession().getProtocol());
    }

    /**
     * A TLS 1.3 client context that trusts the one certificate in {@code pem}: the agent's own context trusts any
     * (the vl2 handshake inside authenticates the switch) and is not exported; what is tested here is the engine's
     * {@link StreamEndpoints#configure}.
     */
    private static SSLContext trusting(Path pem) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        try (InputStream in = Files.newInputStream(pem)) {
            store.setCertificateEntry("switch", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    /** Runs a handshake between two engines in memory; the suite they agreed on. */
    private static String handshake(SSLEngine client, SSLEngine server) throws Exception {
        ByteBuffer c2s = ByteBuffer.allocate(1 << 17);
        ByteBuffer s2c = ByteBuffer.allocate(1 << 17);
        ByteBuffer app = ByteBuffer.allocate(1 << 17);
        ByteBuffer none = ByteBuffer.allocate(0);
        client.beginHandshake();
        server.beginHandshake();
        for (int i = 0; i < 200 && !(done(client) && done(server)); i++) {
            step(client, none, c2s, s2c, app);
            step(server, none, s2c, c2s, app);
        }
        assertTrue(done(client) && done(server), "handshake done");
        assertEquals(client.getSession().getCipherSuite(), server.getSession().getCipherSuite());
        return server.getSession().getCipherSuite();
    }

    private static boolean done(SSLEngine e) {
        SSLEngineResult.HandshakeStatus h = e.getHandshakeStatus();
        return h == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING || h == SSLEngineResult.HandshakeStatus.FINISHED;
    }

    /** One move of {@code e}: tasks, a wrap into {@code out}, or an unwrap of what {@code in} holds. */
    private static void step(SSLEngine e, ByteBuffer none, ByteBuffer out, ByteBuffer in, ByteBuffer app)
            throws Exception {
        switch (e.getHandshakeStatus()) {
            case NEED_TASK -> {
                Runnable r;
                while ((r = e.getDelegatedTask()) != null) {
                    r.run();
                }
            }
            case NEED_WRAP -> e.wrap(none, out);
            case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                in.flip();
                e.unwrap(in, app.clear());
                in.compact();
            }
            default -> {
            }
        }
    }

    @Test
    void theGeneratedCertificateIsKept() {
        String first = ServerTls.load("", "", data, TcpTransport.PID).description();
        String again = ServerTls.load("", "", data, TcpTransport.PID).description();
        String fingerprint = first.substring(first.indexOf("SHA-256"));
        assertTrue(again.endsWith(fingerprint), first + " / " + again);
        assertTrue(first.contains("generated now"), first);
    }

    @Test
    void configuredCertificateAndKeyAndTheirErrors() throws Exception {
        ServerTls.load("", "", data, TcpTransport.PID); // generates the pair
        Path cert = data.resolve(ServerTls.CERTIFICATE_FILE);
        Path key = data.resolve(ServerTls.KEY_FILE);
        Cfg cfg = new Cfg();
        cfg.certificate = cert.toString();
        cfg.key = key.toString();
        DatagramEndpoint agent = connect(start(cfg), true);
        assertTrue(agent.send(null, text("hello")));
        assertEquals("hello", received.poll(20, TimeUnit.SECONDS).text());

        IllegalArgumentException alone = assertThrows(IllegalArgumentException.class,
                () -> ServerTls.load(cert.toString(), "", data, TcpTransport.PID));
        assertTrue(alone.getMessage().contains("go together"), alone.getMessage());
        IllegalArgumentException swapped = assertThrows(IllegalArgumentException.class,
                () -> ServerTls.load(key.toString(), cert.toString(), data, TcpTransport.PID));
        assertTrue(swapped.getMessage().contains("certificate"), swapped.getMessage());
        Path other = Files.createDirectory(data.resolve("other"));
        ServerTls.load("", "", other, TcpTransport.PID);
        IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
                () -> ServerTls.load(cert.toString(), other.resolve(ServerTls.KEY_FILE).toString(), data,
                        TcpTransport.PID));
        assertTrue(mismatch.getMessage().contains("does not belong"), mismatch.getMessage());
    }

    @Test
    void garbageOnTheTlsPortIsClosedAndCounted() throws Exception {
        TcpTransport t = start(new Cfg());
        Socket s = raw(t);
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(closedBySwitch(s));
        await(() -> t.server().reports().total(Reports.Kind.HANDSHAKE_FAILED) == 1, "the failed handshake counted");
        assertEquals(1L, t.receiveDrops().get("handshake_failed"), "through the Transport service, for /metrics");
        assertEquals(Reports.Kind.values().length, t.receiveDrops().size(), "every kind, 0 or not");
        DatagramEndpoint agent = connect(t, true);
        assertTrue(agent.send(null, text("still here")));
        assertEquals("still here", received.poll(20, TimeUnit.SECONDS).text());
    }

    @Test
    void aFourGigabyteLengthPrefixIsClosedAndCounted() throws Exception {
        Cfg cfg = new Cfg();
        cfg.tls = false;
        TcpTransport t = start(cfg);
        Socket s = raw(t);
        s.getOutputStream().write(new byte[]{0, 2, 'o', 'k', (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        assertTrue(closedBySwitch(s));
        assertEquals("ok", received.poll(20, TimeUnit.SECONDS).text(), "what came before the bad prefix counts");
        await(() -> t.server().reports().total(Reports.Kind.BAD_LENGTH) == 1, "the bad prefix counted");
        assertEquals(0, t.server().connections());
    }

    @Test
    void aHandshakeThatNeverFinishesIsClosed() throws Exception {
        Cfg cfg = new Cfg();
        cfg.handshake = 1;
        TcpTransport t = start(cfg);
        Socket s = raw(t);
        assertTrue(closedBySwitch(s));
        assertEquals(1, t.server().reports().total(Reports.Kind.HANDSHAKE_TIMEOUT));
    }

    @Test
    void anIdleConnectionIsClosed() throws Exception {
        Cfg cfg = new Cfg();
        cfg.idle = 5;
        TcpTransport t = start(cfg);
        DatagramEndpoint agent = connect(t, true);
        await(() -> t.server().reports().total(Reports.Kind.IDLE) == 1, "the idle connection closed");
        await(() -> t.server().connections() == 0, "the connection gone");
        assertFalse(agent.send(null, text("too late")) && receivedWithin(agent), "the connection is closed");
    }

    private static boolean receivedWithin(DatagramEndpoint e) throws IOException {
        return e.receive(500) > 0;
    }

    @Test
    void connectionsPerSourceAreLimited() throws Exception {
        Cfg cfg = new Cfg();
        cfg.maxPerSource = 2;
        TcpTransport t = start(cfg);
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            sockets.add(raw(t));
        }
        await(() -> t.server().reports().total(Reports.Kind.SOURCE_LIMIT) == 4, "4 refused");
        assertEquals(2, t.server().connections());
        for (Socket s : sockets) {
            s.close();
        }
        await(() -> t.server().connections() == 0, "closed connections freed");
        DatagramEndpoint agent = connect(t, true); // the per-source count went back down
        assertTrue(agent.send(null, text("after")));
        assertEquals("after", received.poll(20, TimeUnit.SECONDS).text());
    }

    @Test
    void aSlowReaderCostsOnlyItsOwnMessages() throws Exception {
        TcpTransport t = start(new Cfg());
        DatagramEndpoint slow = connect(t, true); // never reads
        DatagramEndpoint fast = connect(t, true);
        slow.send(null, text("slow"));
        fast.send(null, text("fast"));
        SocketAddress slowAt = null;
        SocketAddress fastAt = null;
        for (int i = 0; i < 2; i++) {
            Received r = received.poll(20, TimeUnit.SECONDS);
            if (r.text().equals("slow")) {
                slowAt = r.from();
            } else {
                fastAt = r.from();
            }
        }
        ByteBuffer frame = ByteBuffer.allocate(1400);
        int refused = 0;
        for (int i = 0; i < 20_000 && refused == 0; i++) {
            if (!t.send(slowAt, frame)) {
                refused++;
            }
        }
        assertEquals(1, refused, "the slow reader's queue filled and refused a message instead of blocking");
        assertTrue(t.server().queueFull() >= 1);
        assertTrue(t.send(fastAt, text("unaffected")));
        assertEquals("unaffected", receive(fast));
    }

    /** Seed 001's "many clients": every connection is a peer of its own, answered on its own connection. */
    @Test
    void manyClientsEachGetTheirOwnAnswers() throws Exception {
        Cfg cfg = new Cfg();
        cfg.tls = false; // the connections, not 48 TLS handshakes, are what is tested here
        cfg.maxPerSource = 64;
        TcpTransport t = start(cfg);
        int clients = 48;
        List<DatagramEndpoint> agents = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            DatagramEndpoint a = connect(t, false);
            assertTrue(a.send(null, text("join " + i)));
            agents.add(a);
        }
        java.util.Map<String, SocketAddress> from = new java.util.HashMap<>();
        for (int i = 0; i < clients; i++) {
            Received r = received.poll(20, TimeUnit.SECONDS);
            assertTrue(r != null, "only " + from.size() + " of " + clients + " joined");
            from.put(r.text(), r.from());
        }
        assertEquals(clients, new java.util.HashSet<>(from.values()).size(), "one peer per connection");
        assertEquals(clients, t.server().connections());
        for (int i = clients - 1; i >= 0; i--) {
            assertTrue(t.send(from.get("join " + i), text("welcome " + i)));
        }
        for (int i = 0; i < clients; i++) {
            assertEquals("welcome " + i, receive(agents.get(i)));
        }
    }

    @Test
    void aDeadConnectionReportsWhatItHeldAndEnds() throws Exception {
        TcpTransport t = start(new Cfg());
        DatagramEndpoint agent = connect(t, true); // never reads, then dies
        agent.send(null, text("hello"));
        SocketAddress at = received.poll(20, TimeUnit.SECONDS).from();
        PortId port = PortId.of(7);
        ByteBuffer frame = ByteBuffer.allocate(1400);
        int accepted = 0;
        while (t.send(at, frame, port)) {
            accepted++;
            assertTrue(accepted < 20_000, "the queue of a reader that never reads fills");
        }
        agent.close();
        String lost = ended.poll(20, TimeUnit.SECONDS);
        assertTrue(lost != null && lost.startsWith("lost " + port + " "), "staged messages reported: " + lost);
        String[] parts = lost.split(" ");
        int frames = Integer.parseInt(parts[2]);
        assertTrue(frames > 0 && frames <= accepted, lost);
        assertEquals(1400L * frames, Long.parseLong(parts[3]), "the bytes handed over");
        assertEquals("closed " + at, ended.poll(20, TimeUnit.SECONDS), "the switch is told the connection ended");
        await(() -> t.server().connections() == 0, "the connection gone");
    }

    @Test
    void stoppingTheTransportEndsNoPort() throws Exception {
        TcpTransport t = start(new Cfg());
        DatagramEndpoint agent = connect(t, true);
        agent.send(null, text("hello"));
        received.poll(20, TimeUnit.SECONDS);
        t.stop();
        assertEquals(null, ended.poll(300, TimeUnit.MILLISECONDS), "a stopping transport keeps its ports (detached)");
    }

    @Test
    void badConfigurationIsOneClearError() {
        Cfg cfg = new Cfg();
        cfg.writeQueue = 1000;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TcpTransport(cfg, data));
        assertTrue(e.getMessage().startsWith("Invalid configuration org.vl2.transport.tcp: write.queue.bytes=1000"),
                e.getMessage());
    }
}
