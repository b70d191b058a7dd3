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
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Join;
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
 */
final class TestSwitch implements AutoCloseable {

    record Datagram(byte[] data, InetSocketAddress source, long nanos) {
        Datagram(byte[] data, InetSocketAddress source) {
            this(data, source, System.nanoTime());
        }

        int type() {
            return Wire.type(ByteBuffer.wrap(data));
        }
    }

    /** A frame the switch accepted from a port: the header fields and the Ethernet frame behind them. */
    record Frame(int port, long token, byte[] frame) {
    }

    /** A port of the vl2 switch. */
    record Session(long member, int port, long token, InetSocketAddress endpoint) {
    }

    private final DatagramChannel channel;
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
        channel.send(ByteBuffer.wrap(datagram), to);
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

    /** Forgets every port and session, keeps the leases: what a switch restart does. */
    void restart() {
        sessions.clear();
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
        channel.send(b, s.endpoint());
    }

    void sendFrame(Session s, byte[] frame) throws IOException {
        sendFrame(s, s.port(), s.token(), frame);
    }

    /** Sends any bytes to the session's endpoint. */
    void sendRaw(Session s, byte[] datagram) throws IOException {
        channel.send(ByteBuffer.wrap(datagram), s.endpoint());
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
        switch (Wire.type(in)) {
            case Wire.JOIN -> join(Join.decode(in), from);
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
                leaves.add(l);
                Session s = sessions.get(l.port());
                if (s != null && s.token() == l.token()) {
                    sessions.remove(l.port());
                }
            }
            default -> {
                // not for a switch
            }
        }
    }

    private void join(Join j, InetSocketAddress from) throws IOException {
        joins.add(j);
        if (silent) {
            return;
        }
        ProtocolError e = joinError;
        if (e != null) {
            ByteBuffer b = ByteBuffer.allocate(Wire.JOIN_LENGTH);
            new ProtocolError(e.code(), 0, j.nonce(), e.message()).encode(b, Wire.JOIN_LENGTH);
            channel.send(b.flip(), from);
            return;
        }
        if (!networks.contains(j.network())) {
            ByteBuffer b = ByteBuffer.allocate(Wire.JOIN_LENGTH);
            new ProtocolError(ErrorCode.UNKNOWN_NETWORK, 0, j.nonce(), "no network " + j.network()).encode(b,
                    Wire.JOIN_LENGTH);
            channel.send(b.flip(), from);
            return;
        }
        // an existing port comes back with a fresh token, as the protocol says
        Session old = sessionOf(j.member());
        int port = old != null ? old.port() : nextPort.getAndIncrement();
        Session s = new Session(j.member(), port, ThreadLocalRandom.current().nextLong(), from);
        sessions.put(port, s);
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
        answer(new Welcome(j.network(), j.nonce(), port, s.token(), mtu, keepaliveSeconds,
                v4 == null ? null : (Inet4Address) v4.address(), v4 == null ? 0 : v4.prefixLength(), v6,
                v6 == null ? 0 : v6p.prefixLength()), from);
        if (forgetful) {
            sessions.remove(port);
        }
    }

    private void unknownPort(int port, InetSocketAddress to, int requestLength) throws IOException {
        if (silent) {
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(Wire.ERROR_HEADER_LENGTH + 64);
        new ProtocolError(ErrorCode.UNKNOWN_PORT, port, 0, "no port " + port).encode(b, requestLength);
        channel.send(b.flip(), to);
    }

    private void answer(Object message, InetSocketAddress to) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Wire.WELCOME_LENGTH);
        if (message instanceof Welcome w) {
            w.encode(b);
        } else if (message instanceof Keepalive k) {
            k.encode(b);
        }
        channel.send(b.flip(), to);
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
