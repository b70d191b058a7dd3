package org.vl2.agent.internal;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import org.vl2.api.Endpoints;
import org.vl2.crypto.CipherPolicy;
import org.vl2.crypto.CipherSuite;
import org.vl2.crypto.CookieChecker;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Responder;
import org.vl2.crypto.TimestampGuard;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Join;
import org.vl2.protocol.KeyReply;
import org.vl2.protocol.KeyRequest;
import org.vl2.protocol.Keepalive;
import org.vl2.protocol.Leave;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;
import org.vl2.tap.Cidr;

/**
 * The switch end in tests: a UDP socket on loopback.
 *
 * <p>Raw mode (as created): {@link #receive} returns the agent's datagrams and {@link #send} sends raw frames
 * back, as a raw-mode switch does.
 *
 * <p>vl2 mode ({@link #speakVl2()}): a thread answers like a vl2 switch, with the codec: JOIN gets a WELCOME
 * (a port, a random token, {@link #mtu}, {@link #keepaliveSeconds}, the member's lease from {@link #ipv4} and
 * the IPv6 prefix plus the member id if {@link #ipv6Prefix} is set) or the {@link #joinError}; FRAMEs with a
 * known port and token are recorded, with an unknown port answered {@code unknown-port}; KEEPALIVE gets an ACK;
 * LEAVE removes the port. {@link #restart()} forgets every session but keeps the leases, as a restarted
 * switch does; {@link #silent} drops everything unanswered.
 *
 * <p>Encrypted vl2 ({@link #speakEncrypted()}, docs/crypto.md), the responder's side with vl2-crypto: an
 * INITIATION is verified ({@link Responder#consume}, its own {@link #identity} and {@link #guard}), the JOIN
 * inside it answered with a RESPONSE carrying the WELCOME (token 0) under a fresh random index, or with a
 * plaintext ERROR ({@link #joinError}, unknown network) carrying the JOIN's nonce. Sealed FRAME, KEEPALIVE and
 * LEAVE are looked up by their receiver index and opened: only then are they recorded (the plaintext, in
 * {@link #frames}, {@link #keepalives}, {@link #leaves}); KEEPALIVE gets a sealed ACK; an index the switch does not
 * know gets {@code unknown-port} with that index, one that does not open counts in {@link #unopened}. Like the real
 * switch it sends with a port's previous keys until it has opened a message under the new ones.
 */
final class TestSwitch implements AutoCloseable {

    record Datagram(byte[] data, InetSocketAddress source, long nanos) {
        Datagram(byte[] data, InetSocketAddress source) {
            this(data, source, System.nanoTime());
        }

        int type() {
            return Wire.type(ByteBuffer.wrap(data));
        }

        /** The type byte whatever it is (8 and 9 are the handshake's, which {@link #type()} calls unknown). */
        int rawType() {
            return data.length < 4 ? -1 : data[2] & 0xFF;
        }

        boolean sealed() {
            return data.length >= 4 && (data[3] & Wire.FLAG_SEALED) != 0;
        }
    }

    /**
     * A frame the switch accepted from a port: the header fields and the Ethernet frame behind them. Encrypted,
     * {@code token} is the switch's session index the frame was sealed for, and the frame its opened plaintext.
     */
    record Frame(int port, long token, byte[] frame) {
    }

    /** A port of the vl2 switch. */
    record Session(long member, int port, long token, InetSocketAddress endpoint) {
    }

    /** Encrypted: a port of the switch and the session keys of its handshakes, oldest first. */
    static final class SecurePort {
        final long member;
        final int port;
        volatile InetSocketAddress endpoint;
        final List<org.vl2.crypto.Session> keys = new CopyOnWriteArrayList<>();

        SecurePort(long member, int port) {
            this.member = member;
            this.port = port;
        }

        /**
         * The keys the switch sends with: the newest that has opened a message (confirmed), so that an agent
         * that has not switched yet can still read; the newest if none has (a first handshake).
         */
        org.vl2.crypto.Session sending() {
            org.vl2.crypto.Session c = confirmed();
            return c != null || keys.isEmpty() ? c : keys.get(keys.size() - 1);
        }

        /**
         * The newest keys that have opened a message from the agent: the ones it uses (a handshake it retried
         * may have given newer keys that it never took), or null.
         */
        org.vl2.crypto.Session confirmed() {
            for (int i = keys.size() - 1; i >= 0; i--) {
                if (keys.get(i).isConfirmed()) {
                    return keys.get(i);
                }
            }
            return null;
        }
    }

    private final DatagramChannel channel;
    /** When the switch last sent anything, stamped just before the send: the agent cannot have heard it earlier. */
    volatile long lastSentNanos;
    private final ByteBuffer buffer = ByteBuffer.allocate(65_536);

    // vl2 mode
    /** Every datagram the switch received, in order. */
    final BlockingQueue<Datagram> datagrams = new LinkedBlockingQueue<>();
    final BlockingQueue<Join> joins = new LinkedBlockingQueue<>();
    final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
    final BlockingQueue<Keepalive> keepalives = new LinkedBlockingQueue<>();
    final BlockingQueue<Leave> leaves = new LinkedBlockingQueue<>();
    /** The switch's ports by port id. */
    final Map<Integer, Session> sessions = new ConcurrentHashMap<>();
    /** IPv4 leases by member: they survive {@link #restart()}. */
    final Map<Long, Cidr> leases = new ConcurrentHashMap<>();
    /** When set, JOINs are answered with this ERROR (its nonce replaced by the JOIN's). */
    volatile ProtocolError joinError;
    /** The switch's cipher setting: an offer it cannot meet gets cipher-mismatch, as the real switch answers. */
    volatile CipherPolicy cipher = CipherPolicy.auto();
    /** When set, nothing is answered (the switch is "dead"); datagrams are still recorded. */
    volatile boolean silent;
    /** When set, the switch forgets each port right after its WELCOME (a switch that keeps restarting). */
    volatile boolean forgetful;
    volatile int mtu = 1400;
    volatile int keepaliveSeconds = 2;
    /** The next member's address; null = the network has no pool. */
    volatile Cidr ipv4 = Cidr.parse("10.1.1.5/24");
    /** The network's IPv6 prefix (a /64 address with zero host part), or null for none. */
    volatile Cidr ipv6Prefix;
    /** Networks this switch has; others get unknown-network. */
    final List<Long> networks = new CopyOnWriteArrayList<>(List.of(0L));
    final AtomicInteger wrongTokens = new AtomicInteger();
    private final AtomicInteger nextPort = new AtomicInteger(1);
    private volatile Thread responder;

    // encrypted vl2 mode
    /** The switch's key pair when it speaks encrypted vl2, else null (initiations are then dropped). */
    volatile Identity identity;
    /** Newest answered initiation timestamp per member key; a restart starts with an empty one. */
    volatile TimestampGuard guard = new TimestampGuard();
    /** Limits of the sessions the switch derives (tests shorten them together with the agent's). */
    volatile org.vl2.crypto.Session.Limits limits = org.vl2.crypto.Session.Limits.DEFAULT;
    /** Encrypted ports by member. */
    final Map<Long, SecurePort> securePorts = new ConcurrentHashMap<>();
    /** Encrypted ports by the switch's session index: what a sealed message's receiver index names. */
    final Map<Integer, SecurePort> byIndex = new ConcurrentHashMap<>();
    /** KEY-REQUESTs received (answered with {@link #identity}'s key unless silent or plaintext). */
    final AtomicInteger keyRequests = new AtomicInteger();
    /** True: answer initiations without a valid cookie (mac2) with a COOKIE-REPLY, as a switch under load. */
    volatile boolean requireCookie;
    /** COOKIE-REPLYs sent. */
    final AtomicInteger cookieReplies = new AtomicInteger();
    /** The cookie checker for {@link #identity} (made with it). */
    volatile CookieChecker cookies;
    /** False: ignore KEY-REQUESTs, as a switch from before they existed. */
    volatile boolean answerKeyRequests = true;
    /** Encrypted: handshakes answered with a RESPONSE. */
    final AtomicInteger handshakes = new AtomicInteger();
    /**
     * Encrypted: INITIATIONs the switch has finished with (answered, refused, rejected or dropped): once it equals the
     * handshakes the agent sent, no RESPONSE is still to come.
     */
    final AtomicInteger initiations = new AtomicInteger();
    /** Encrypted: initiations that did not verify (another key, modified, replayed). */
    final AtomicInteger rejectedInitiations = new AtomicInteger();
    /** Encrypted: sealed messages with a known index that did not open. */
    final AtomicInteger unopened = new AtomicInteger();
    /** Encrypted: the RESPONSEs sent, in order. */
    final BlockingQueue<byte[]> responses = new LinkedBlockingQueue<>();
    /**
     * Encrypted: when set, RESPONSEs are not sent but kept in {@link #held} (with the agent's address), for a test
     * to deliver late, in any order: a switch slower than the agent's retry interval.
     */
    volatile boolean holdResponses;
    /**
     * Encrypted: as the real switch, a new handshake of a member replaces its keys that no message has opened under
     * yet (its pending session), so a late answer to an earlier handshake leaves the agent with keys the switch
     * dropped.
     */
    volatile boolean replacePending;
    /** False: sealed messages under keys the switch does not have go unanswered (its ERROR budget spent). */
    volatile boolean answerUnknownSessions = true;
    /** Encrypted: sealed messages under keys the switch does not have. */
    final AtomicInteger unknownSessions = new AtomicInteger();
    final List<Datagram> held = new CopyOnWriteArrayList<>();

    TestSwitch(InetAddress address, int port) throws IOException {
        channel = DatagramChannel.open();
        channel.bind(new InetSocketAddress(address, port));
        channel.configureBlocking(false);
    }

    static TestSwitch onLoopback() throws IOException {
        return new TestSwitch(InetAddress.getLoopbackAddress(), 0);
    }

    /** A vl2 switch on loopback. */
    static TestSwitch vl2OnLoopback() throws IOException {
        return onLoopback().speakVl2();
    }

    int port() throws IOException {
        return ((InetSocketAddress) channel.getLocalAddress()).getPort();
    }

    /** {@code ip:port} as the agent's configuration writes it. */
    String address() throws IOException {
        return Endpoints.format((InetSocketAddress) channel.getLocalAddress());
    }

    /** The next datagram, or null after {@code millis}. Raw mode only. */
    Datagram receive(long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            buffer.clear();
            SocketAddress source = channel.receive(buffer);
            if (source != null) {
                buffer.flip();
                byte[] data = new byte[buffer.remaining()];
                buffer.get(data);
                return new Datagram(data, (InetSocketAddress) source);
            }
            if (System.nanoTime() > deadline) {
                return null;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /** The next datagram that matches, skipping others, or null after {@code millis}. Raw mode only. */
    Datagram receive(long millis, Predicate<byte[]> wanted) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return null;
            }
            Datagram d = receive(left);
            if (d == null || wanted.test(d.data())) {
                return d;
            }
        }
    }

    void send(byte[] datagram, SocketAddress to) throws IOException {
        sendOut(ByteBuffer.wrap(datagram), to);
    }

    /** Sends, stamping {@link #lastSentNanos} first. */
    private void sendOut(ByteBuffer datagram, SocketAddress to) throws IOException {
        lastSentNanos = System.nanoTime();
        channel.send(datagram, to);
    }

    // ---------------------------------------------------------------------------------------------------------
    // vl2 mode

    /** Starts answering as a vl2 switch. */
    TestSwitch speakVl2() throws IOException {
        channel.configureBlocking(true);
        Thread t = new Thread(this::respond, "test-switch");
        t.setDaemon(true);
        responder = t;
        t.start();
        return this;
    }

    /** Starts answering as a vl2 switch with encryption, with a new key pair. */
    TestSwitch speakEncrypted() throws IOException {
        identity = Identity.generate();
        cookies = new CookieChecker(identity);
        return speakVl2();
    }

    /** An encrypted vl2 switch on loopback. */
    static TestSwitch encryptedOnLoopback() throws IOException {
        return onLoopback().speakEncrypted();
    }

    /** The switch's public key as the agent's switch.key takes it. */
    String publicKey() {
        return identity.fingerprint();
    }

    /**
     * Forgets every port and session (and, encrypted, every key and answered timestamp), keeps the leases: what a
     * switch restart does.
     */
    void restart() {
        sessions.clear();
        securePorts.clear();
        byIndex.clear();
        guard = new TimestampGuard();
    }

    /** The port of {@code member}, or null. */
    Session sessionOf(long member) {
        return sessions.values().stream().filter(s -> s.member() == member).findFirst().orElse(null);
    }

    /** Sends a FRAME with these header fields to the session's endpoint. */
    void sendFrame(Session s, int port, long token, byte[] frame) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(FrameHeader.LENGTH + frame.length);
        FrameHeader.write(b, 0, port, token);
        b.position(FrameHeader.LENGTH).put(frame).flip();
        sendOut(b, s.endpoint());
    }

    void sendFrame(Session s, byte[] frame) throws IOException {
        sendFrame(s, s.port(), s.token(), frame);
    }

    /** Sends any bytes to the session's endpoint. */
    void sendRaw(Session s, byte[] datagram) throws IOException {
        sendOut(ByteBuffer.wrap(datagram), s.endpoint());
    }

    /** Encrypted: the port of {@code member}, or null. */
    SecurePort securePort(long member) {
        return securePorts.get(member);
    }

    /**
     * Encrypted: a sealed message as the switch sends it: header (type, flags SEALED, the agent's index of
     * {@code keys}, the counter), {@code body} encrypted, tag.
     */
    static byte[] seal(org.vl2.crypto.Session keys, int type, byte[] body) throws CryptoException {
        ByteBuffer b = ByteBuffer.allocate(FrameHeader.LENGTH + body.length + org.vl2.crypto.Session.TAG_LENGTH);
        b.put(new byte[] {Wire.MAGIC, Wire.VERSION, (byte) type, Wire.FLAG_SEALED}).putInt(keys.remoteIndex());
        b.position(FrameHeader.LENGTH).put(body);
        keys.seal(b, 0, FrameHeader.LENGTH, body.length, System.nanoTime());
        return b.array();
    }

    /** Encrypted: seals {@code frame} with the keys the switch sends with and sends it; returns the datagram. */
    byte[] sendSealedFrame(SecurePort p, byte[] frame) throws IOException, CryptoException {
        byte[] d = seal(p.sending(), Wire.FRAME, frame);
        sendRaw(p, d);
        return d;
    }

    /**
     * Returns once the switch has handled everything sent to it before this call: a marker sent now has come round
     * (one receive thread, in order), so a counter read afterwards no longer moves for what was already on its way.
     */
    void drain(long timeoutMillis) throws IOException, InterruptedException {
        byte[] marker = ("drain " + System.nanoTime()).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (DatagramChannel c = DatagramChannel.open()) {
            c.send(ByteBuffer.wrap(marker), channel.getLocalAddress());
        }
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (datagrams.stream().noneMatch(d -> java.util.Arrays.equals(d.data(), marker))) {
            if (System.nanoTime() > end) {
                throw new AssertionError("the switch did not handle a datagram within " + timeoutMillis + " ms");
            }
            Thread.sleep(5);
        }
        datagrams.removeIf(d -> java.util.Arrays.equals(d.data(), marker));
    }

    /** Encrypted: sends any bytes to the port's endpoint. */
    void sendRaw(SecurePort p, byte[] datagram) throws IOException {
        sendOut(ByteBuffer.wrap(datagram), p.endpoint);
    }

    private void respond() {
        ByteBuffer in = ByteBuffer.allocate(65_536);
        while (channel.isOpen()) {
            InetSocketAddress from;
            try {
                in.clear();
                from = (InetSocketAddress) channel.receive(in);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                continue;
            }
            in.flip();
            byte[] data = new byte[in.remaining()];
            in.duplicate().get(data);
            datagrams.add(new Datagram(data, from));
            try {
                handle(in, from);
            } catch (ProtocolException | IOException | RuntimeException e) {
                // a test switch that cannot read a message just ignores it, as a real one counts and drops it
            }
        }
    }

    private void handle(ByteBuffer in, InetSocketAddress from) throws ProtocolException, IOException {
        if (Handshake.type(in) == Handshake.INITIATION) {
            try {
                initiation(in, from);
            } finally {
                initiations.incrementAndGet(); // after the RESPONSE went out
            }
            return;
        }
        if (Wire.type(in) > 0 && (Wire.flags(in) & Wire.FLAG_SEALED) != 0) {
            sealed(in, from);
            return;
        }
        switch (Wire.type(in)) {
            case Wire.JOIN -> join(Join.decode(in), from);
            case Wire.KEY_REQUEST -> {
                KeyRequest.decode(in);
                keyRequests.incrementAndGet();
                Identity self = identity;
                if (self != null && !silent && answerKeyRequests) {
                    ByteBuffer b = ByteBuffer.allocate(Wire.KEY_REPLY_LENGTH);
                    new KeyReply(self.publicKey()).encode(b);
                    sendOut(b.flip(), from);
                }
            }
            case Wire.FRAME -> {
                int port = FrameHeader.port(in);
                long token = FrameHeader.token(in);
                Session s = sessions.get(port);
                if (s == null) {
                    unknownPort(port, from, in.remaining());
                    return;
                }
                if (s.token() != token) {
                    wrongTokens.incrementAndGet();
                    return;
                }
                byte[] frame = new byte[in.remaining() - FrameHeader.LENGTH];
                in.get(FrameHeader.LENGTH, frame);
                frames.add(new Frame(port, token, frame));
            }
            case Wire.KEEPALIVE -> {
                Keepalive k = Keepalive.decode(in);
                keepalives.add(k);
                Session s = sessions.get(k.port());
                if (s == null) {
                    unknownPort(k.port(), from, Wire.KEEPALIVE_LENGTH);
                } else if (s.token() == k.token() && !silent) {
                    answer(new Keepalive(true, k.port(), k.token(), k.sequence()), from);
                }
            }
            case Wire.LEAVE -> {
                Leave l = Leave.decode(in);
                Session s = sessions.get(l.port());
                if (s != null && s.token() == l.token()) {
                    sessions.remove(l.port());
                }
                leaves.add(l); // after the port is gone: a test that has the LEAVE finds the port removed
            }
            default -> {
                // not for a switch
            }
        }
    }

    private void join(Join j, InetSocketAddress from) throws IOException {
        joins.add(j);
        if (silent || refused(j, from)) {
            return;
        }
        // an existing port comes back with a fresh token, as the protocol says
        Session old = sessionOf(j.member());
        int port = old != null ? old.port() : nextPort.getAndIncrement();
        Session s = new Session(j.member(), port, ThreadLocalRandom.current().nextLong(), from);
        sessions.put(port, s);
        answer(welcome(j, port, s.token()), from);
        if (forgetful) {
            sessions.remove(port);
        }
    }

    /** Answers {@link #joinError} or unknown-network (with the JOIN's nonce) and says so; false to admit. */
    private boolean refused(Join j, InetSocketAddress from) throws IOException {
        ProtocolError e = joinError;
        if (e == null && networks.contains(j.network())) {
            return false;
        }
        if (e == null) {
            e = new ProtocolError(ErrorCode.UNKNOWN_NETWORK, 0, 0, "no network " + j.network());
        }
        ByteBuffer b = ByteBuffer.allocate(Wire.JOIN_LENGTH);
        new ProtocolError(e.code(), 0, j.nonce(), e.message()).encode(b, Wire.JOIN_LENGTH);
        sendOut(b.flip(), from);
        return true;
    }

    /** The WELCOME for {@code j}: the member's lease (or the requested address), the IPv6 prefix + member id. */
    private Welcome welcome(Join j, int port, long token) throws IOException {
        Cidr v4 = j.requestedIpv4() != null ? Cidr.of(j.requestedIpv4(), 24)
                : ipv4 == null ? null : leases.computeIfAbsent(j.member(), m -> ipv4);
        Cidr v6p = ipv6Prefix;
        Inet6Address v6 = null;
        if (v6p != null && (j.capabilities() & Join.CAP_IPV6) != 0) {
            byte[] a = v6p.address().getAddress();
            for (int i = 0; i < 8; i++) {
                a[8 + i] = (byte) (j.member() >>> (56 - 8 * i));
            }
            v6 = (Inet6Address) InetAddress.getByAddress(a);
        }
        return new Welcome(j.network(), j.nonce(), port, token, mtu, keepaliveSeconds,
                v4 == null ? null : (Inet4Address) v4.address(), v4 == null ? 0 : v4.prefixLength(), v6,
                v6 == null ? 0 : v6p.prefixLength());
    }

    /**
     * Encrypted: an INITIATION. Verified first (a plaintext switch drops it); the JOIN inside must name the
     * member the key derives; then refused, or answered with the WELCOME in a RESPONSE under a new index.
     */
    private void initiation(ByteBuffer in, InetSocketAddress from) throws ProtocolException, IOException {
        Identity self = identity;
        if (self == null) {
            return;
        }
        CookieChecker checker = cookies;
        if (requireCookie && checker != null && !silent) {
            CookieChecker.Check check = checker.check(in, from);
            if (check == CookieChecker.Check.MAC2_MISSING) {
                cookieReplies.incrementAndGet();
                sendOut(ByteBuffer.wrap(checker.cookieReply(in, from)), from);
                return;
            }
        }
        Responder r;
        try {
            r = Responder.consume(self, in, guard);
        } catch (CryptoException e) {
            rejectedInitiations.incrementAndGet();
            return;
        }
        Join j = Join.decode(ByteBuffer.wrap(r.payload()));
        joins.add(j);
        if (silent) {
            return;
        }
        if (j.member() != r.initiatorMemberId()) {
            ByteBuffer b = ByteBuffer.allocate(Wire.JOIN_LENGTH);
            new ProtocolError(ErrorCode.BAD_REQUEST, 0, j.nonce(), "member id is not the key's").encode(b,
                    Wire.JOIN_LENGTH);
            sendOut(b.flip(), from);
            return;
        }
        if (refused(j, from)) {
            return;
        }
        CipherPolicy policy = cipher;
        CipherSuite suite = r.choose(policy);
        if (suite == null) {
            ByteBuffer b = ByteBuffer.allocate(Handshake.MIN_INITIATION_LENGTH);
            new ProtocolError(ErrorCode.CIPHER_MISMATCH, 0, j.nonce(), "the switch accepts " + policy.configValue()
                    + " only (its cipher setting)").encode(b, Handshake.MIN_INITIATION_LENGTH);
            sendOut(b.flip(), from);
            return;
        }
        SecurePort p = securePorts.computeIfAbsent(j.member(), m -> new SecurePort(m, nextPort.getAndIncrement()));
        p.endpoint = from;
        int index;
        do {
            index = ThreadLocalRandom.current().nextInt();
        } while (index == 0 || byIndex.containsKey(index));
        ByteBuffer payload = ByteBuffer.allocate(Wire.WELCOME_LENGTH);
        welcome(j, p.port, 0).encode(payload);
        Responder.Reply reply;
        try {
            reply = r.respond(index, payload.array(), limits, suite);
        } catch (CryptoException e) {
            rejectedInitiations.incrementAndGet(); // another copy was answered first
            return;
        }
        if (replacePending) {
            p.keys.removeIf(k -> !k.isConfirmed());
        }
        p.keys.add(reply.session());
        byIndex.put(index, p);
        handshakes.incrementAndGet();
        if (holdResponses) {
            held.add(new Datagram(reply.response(), from));
        } else {
            sendOut(ByteBuffer.wrap(reply.response()), from);
        }
        responses.add(reply.response());
        if (forgetful) {
            forget(p);
        }
    }

    private void forget(SecurePort p) {
        securePorts.remove(p.member, p);
        byIndex.values().removeIf(x -> x == p);
    }

    /**
     * Encrypted: a sealed FRAME, KEEPALIVE or LEAVE, opened under the keys its receiver index names (the
     * plaintext is recorded: a FRAME's token field is that index), or unknown-port for an index nobody has.
     */
    private void sealed(ByteBuffer in, InetSocketAddress from) throws IOException {
        int at = in.position();
        int n = in.remaining();
        int type = Wire.type(in);
        int index = FrameHeader.port(in);
        SecurePort p = byIndex.get(index);
        org.vl2.crypto.Session keys = null;
        if (p != null) {
            for (org.vl2.crypto.Session k : p.keys) {
                if (k.localIndex() == index) {
                    keys = k;
                }
            }
        }
        if (keys == null) {
            unknownSessions.incrementAndGet();
            if (answerUnknownSessions) {
                unknownPort(index, from, n);
            }
            return;
        }
        int length;
        try {
            length = keys.open(in, at, FrameHeader.LENGTH, n - FrameHeader.LENGTH, System.nanoTime());
        } catch (CryptoException e) {
            unopened.incrementAndGet();
            return;
        }
        p.endpoint = from;
        byte[] body = new byte[length];
        in.get(at + FrameHeader.LENGTH, body);
        switch (type) {
            case Wire.FRAME -> frames.add(new Frame(p.port, index, body));
            case Wire.KEEPALIVE -> {
                long seq = ByteBuffer.wrap(body).getLong();
                keepalives.add(new Keepalive(false, p.port, index, seq));
                if (!silent) {
                    try {
                        sendRaw(p, seal(p.sending(), Wire.KEEPALIVE_ACK, body));
                    } catch (CryptoException e) {
                        // expired keys: no ACK, as a real switch
                    }
                }
            }
            case Wire.LEAVE -> {
                forget(p);
                leaves.add(new Leave(p.port, index)); // after the port is gone, as for plaintext
            }
            default -> {
                // not for a switch
            }
        }
    }

    private void unknownPort(int port, InetSocketAddress to, int requestLength) throws IOException {
        if (silent) {
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(Wire.ERROR_HEADER_LENGTH + 64);
        new ProtocolError(ErrorCode.UNKNOWN_PORT, port, 0, "no port " + port).encode(b, requestLength);
        sendOut(b.flip(), to);
    }

    private void answer(Object message, InetSocketAddress to) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Wire.WELCOME_LENGTH);
        if (message instanceof Welcome w) {
            w.encode(b);
        } else if (message instanceof Keepalive k) {
            k.encode(b);
        }
        sendOut(b.flip(), to);
    }

    @Override
    public void close() throws IOException {
        channel.close();
        Thread t = responder;
        if (t != null) {
            try {
                t.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
