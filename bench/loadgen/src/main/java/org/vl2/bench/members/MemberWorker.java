package org.vl2.bench.members;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.vl2.crypto.CipherSuite;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Initiator;
import org.vl2.crypto.Session;
import org.vl2.protocol.Join;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;

/**
 * One thread driving a share of the members over a few UDP sockets (one source address each), with one
 * {@link Selector}: the handshakes (vl2-crypto's {@link Initiator}, the agent's own), the sealed keepalives, a trickle
 * of sealed frames, rekeys when the session says so, and LEAVEs for churn. Timers are a scan of the worker's
 * members every {@link #TICK_NANOS}: a few thousand comparisons, far cheaper than the crypto they trigger.
 */
final class MemberWorker implements Runnable {

    static final long TICK_NANOS = 20_000_000L;
    private static final long SECOND = 1_000_000_000L;
    /** An unanswered handshake is sent again after this (plus up to as much jitter). */
    private static final long RETRY_NANOS = SECOND;
    private static final int FRAME_LENGTH = 60;
    private static final int ETHERTYPE = 0x88B5; // IEEE local experimental

    private final MemberGen.Config config;
    private final Fleet fleet;
    private final Selector selector;
    private final DatagramChannel[] channels;
    private final List<SimMember> members;
    /** Member by local index: handshakes in flight, current and previous sessions. */
    private final Map<Integer, SimMember> byIndex = new HashMap<>();
    private final int[] inflight;
    private final byte[][] cookie;
    private final long[] cookieAt;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final SplittableRandom random;
    private final ByteBuffer rx = ByteBuffer.allocate(65_536);
    private final ByteBuffer tx = ByteBuffer.allocate(2_048);
    private final ByteBuffer joinBuf = ByteBuffer.allocate(Wire.JOIN_LENGTH);
    private final List<CipherSuite> offer;
    private int generation;
    private volatile boolean running = true;

    MemberWorker(MemberGen.Config config, Fleet fleet, List<InetSocketAddress> sources, List<SimMember> members,
                 long seed) throws IOException {
        this.config = config;
        this.fleet = fleet;
        this.members = members;
        this.offer = config.cipher().offer();
        this.random = new SplittableRandom(seed);
        this.selector = Selector.open();
        this.channels = new DatagramChannel[sources.size()];
        this.inflight = new int[sources.size()];
        this.cookie = new byte[sources.size()][];
        this.cookieAt = new long[sources.size()];
        for (int i = 0; i < channels.length; i++) {
            DatagramChannel c = DatagramChannel.open();
            c.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            c.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
            c.bind(sources.get(i));
            c.connect(config.target()); // read/write without an address object per datagram; others are filtered
            c.configureBlocking(false);
            c.register(selector, SelectionKey.OP_READ, i);
            channels[i] = c;
        }
    }

    /** Runs {@code task} on this worker's thread at its next tick (churn). */
    void submit(Runnable task) {
        tasks.add(task);
    }

    void stop() {
        running = false;
        selector.wakeup();
    }

    @Override
    public void run() {
        long nextTick = 0;
        try {
            while (running) {
                long now = System.nanoTime();
                long wait = Math.max(1, (nextTick - now) / 1_000_000L);
                if (selector.select(wait) > 0) {
                    for (SelectionKey k : selector.selectedKeys()) {
                        drain((Integer) k.attachment());
                    }
                    selector.selectedKeys().clear();
                }
                now = System.nanoTime();
                if (now - nextTick >= 0) {
                    for (Runnable t; (t = tasks.poll()) != null; ) {
                        t.run();
                    }
                    tick(now);
                    nextTick = now + TICK_NANOS;
                }
            }
        } catch (IOException e) {
            System.err.println("members: worker stopped: " + e);
        } finally {
            for (DatagramChannel c : channels) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
    }

    // ---- receive ----------------------------------------------------------------------------------------

    private void drain(int socket) throws IOException {
        DatagramChannel c = channels[socket];
        for (int i = 0; i < 256; i++) {
            rx.clear();
            int n;
            try {
                n = c.read(rx);
            } catch (java.net.PortUnreachableException e) {
                continue; // the switch is not (yet) listening: handshakes time out and are retried
            }
            if (n <= 0) {
                return;
            }
            rx.flip();
            receive(socket, n);
        }
    }

    private void receive(int socket, int n) {
        long now = System.nanoTime();
        int hs = Handshake.type(rx);
        if (hs == Handshake.RESPONSE || hs == Handshake.COOKIE_REPLY) {
            handshakeAnswer(socket, hs, now);
            return;
        }
        int type = Wire.type(rx);
        if (type == Wire.ERROR) {
            fleet.errors.increment();
            try {
                fleet.errorsByCode[ProtocolError.decode(rx).code().code() & 15].increment();
            } catch (ProtocolException | RuntimeException e) {
                fleet.badAnswers.increment();
            }
            return;
        }
        if (n < SealedHeader.LENGTH + Session.TAG_LENGTH || !SealedHeader.isSealed(rx, 0)) {
            fleet.badAnswers.increment();
            return;
        }
        int index = SealedHeader.receiverIndex(rx, 0);
        SimMember m = byIndex.get(index);
        Session keys = m == null ? null : m.keys != null && m.keys.localIndex() == index ? m.keys
                : m.previous != null && m.previous.localIndex() == index ? m.previous : null;
        if (keys == null) {
            fleet.unopened.increment();
            return;
        }
        int length;
        try {
            length = keys.open(rx, 0, SealedHeader.LENGTH, n - SealedHeader.LENGTH, now);
        } catch (CryptoException e) {
            fleet.unopened.increment();
            return;
        }
        m.heardNanos = now;
        if (type == Wire.KEEPALIVE_ACK && length == 8) {
            fleet.acks.increment();
            if (keys == m.frameKeys && m.state == SimMember.State.UP) {
                m.learned = true;
            }
            if (keys == m.keys && m.handshaking()) { // the switch holds the newest keys: the handshake is done
                dropPending(m, keys.localIndex());
                if (m.rekeying) {
                    m.rekeying = false;
                    fleet.rekeys.increment();
                }
            }
            if (m.state == SimMember.State.CONFIRMING && keys == m.keys) {
                m.state = SimMember.State.UP;
                m.heardNanos = now;
                fleet.up.increment();
                release(m);
                if (m.attempts >= 0) {
                    fleet.firstJoin(m.joinStartNanos, now);
                }
            }
        } else if (type == Wire.FRAME) {
            fleet.framesReceived.increment();
        }
        // ROUTES: the bench network has none; anything else opened is ignored
    }

    private void handshakeAnswer(int socket, int hs, long now) {
        int index;
        try {
            index = Handshake.receiverIndex(rx);
        } catch (CryptoException e) {
            fleet.badAnswers.increment();
            return;
        }
        SimMember m = byIndex.get(index);
        Initiator handshake = m == null ? null : m.pending(index);
        if (handshake == null) {
            fleet.badAnswers.increment(); // an answer to a handshake this member already completed or gave up
            return;
        }
        try {
            if (hs == Handshake.COOKIE_REPLY) {
                cookie[socket] = handshake.consumeCookieReply(rx);
                cookieAt[socket] = now;
                fleet.cookieReplies.increment();
                // send again soon with the cookie: the switch wants this address proven
                m.handshakeSentNanos = now - RETRY_NANOS + random.nextLong(SECOND / 5);
                return;
            }
            Initiator.Completion done = handshake.consume(rx);
            Welcome w = Welcome.decode(ByteBuffer.wrap(done.payload()));
            fleet.responses.increment();
            // Under load an earlier handshake's answer may come after a retry's: the switch keeps the one it answered
            // last, so the newest keys are used and the older stay open for what is still on its way.
            if (m.previous != null && !holds(m, m.previous.localIndex(), false)) {
                byIndex.remove(m.previous.localIndex());
            }
            m.previous = m.keys;
            m.keys = done.session();
            long interval = w.keepaliveSeconds() * SECOND;
            if (m.state != SimMember.State.UP) {
                m.state = SimMember.State.CONFIRMING;
                m.nextFrameNanos = now + random.nextLong(config.frameIntervalNanos() + 1);
            }
            keepalive(m, now); // confirms the session at the switch (proves this source address)
            m.nextKeepaliveNanos = now + interval - random.nextLong(interval / 10 + 1);
        } catch (CryptoException | ProtocolException e) {
            fleet.badAnswers.increment();
        }
    }

    // ---- timers -----------------------------------------------------------------------------------------

    private void tick(long now) {
        for (SimMember m : members) {
            switch (m.state) {
                case DOWN -> {
                    if (m.rejoinAtNanos != 0 && now - m.rejoinAtNanos >= 0 && inflight[m.socket] < config.inflight()
                            && fleet.mayJoin(now)) {
                        join(m, now);
                    }
                }
                case JOINING, CONFIRMING -> {
                    if (now - m.handshakeSentNanos >= RETRY_NANOS) {
                        fleet.timeouts.increment();
                        m.state = SimMember.State.JOINING;
                        handshake(m, now);
                    }
                }
                case UP -> {
                    if (now - m.heardNanos > 3 * config.keepaliveNanos()) {
                        // as the agent: the switch is silent for 3 intervals (it lost the session): join again
                        fleet.silences.increment();
                        forget(m);
                        m.attempts = -1; // not a first join
                        m.joinStartNanos = now;
                        m.state = SimMember.State.JOINING;
                        m.inflight = true;
                        inflight[m.socket]++;
                        handshake(m, now);
                        continue;
                    }
                    if (m.rekeying ? now - m.handshakeSentNanos >= RETRY_NANOS : m.keys.needsRekey(now)) {
                        if (m.rekeying) {
                            fleet.timeouts.increment();
                        }
                        m.rekeying = true;
                        handshake(m, now);
                    }
                    if (now - m.nextKeepaliveNanos >= 0) {
                        keepalive(m, now);
                        m.nextKeepaliveNanos = now + config.keepaliveNanos();
                    }
                    if (config.frameIntervalNanos() > 0 && now - m.nextFrameNanos >= 0) {
                        frame(m, now);
                        m.nextFrameNanos = now + config.frameIntervalNanos();
                    }
                }
                default -> throw new IllegalStateException();
            }
        }
    }

    private void join(SimMember m, long now) {
        if (m.identity == null || config.churnNewIdentity() && m.attempts < 0) {
            m.newIdentity(generation++);
        }
        m.state = SimMember.State.JOINING;
        boolean first = m.joinStartNanos == 0;
        m.attempts = first ? 0 : -1; // -1: a churn re-join, not counted into the first-join figures
        m.joinStartNanos = now;
        fleet.firstJoinNanos.compareAndSet(0, now);
        m.inflight = true;
        inflight[m.socket]++;
        handshake(m, now);
    }

    private void release(SimMember m) {
        if (m.inflight) {
            m.inflight = false;
            inflight[m.socket]--;
        }
    }

    /** A new initiation carrying a JOIN (first join, retry or rekey), with the socket's cookie if it has one. */
    private void handshake(SimMember m, long now) {
        joinBuf.clear();
        String name = "sim-" + m.number;
        new Join(config.network(), m.identity.memberId(), random.nextLong(), 1514, 0, null, name).encode(joinBuf);
        byte[] payload = new byte[Wire.JOIN_LENGTH];
        joinBuf.flip().get(payload);
        Initiator oldest = m.pending[m.pendingNext];
        if (oldest != null && !holds(m, oldest.senderIndex(), true)) {
            byIndex.remove(oldest.senderIndex());
        }
        int index;
        do {
            index = random.nextInt();
        } while (index == 0 || byIndex.containsKey(index));
        byte[] c = cookie[m.socket] != null && now - cookieAt[m.socket] < 100 * SECOND ? cookie[m.socket] : null;
        Initiator h = Initiator.create(m.identity, config.switchKey(), index, payload, c, offer);
        m.pending[m.pendingNext] = h;
        m.pendingNext = (m.pendingNext + 1) % m.pending.length;
        byIndex.put(index, m);
        m.handshakeSentNanos = now + random.nextLong(RETRY_NANOS); // jitter: retries spread out
        m.handshakeSentNanos -= RETRY_NANOS / 2;
        send(m.socket, ByteBuffer.wrap(h.initiation()));
        fleet.initiations.increment();
    }

    private void keepalive(SimMember m, long now) {
        tx.clear().limit(SealedHeader.LENGTH + 8 + Session.TAG_LENGTH);
        SealedHeader.write(tx, 0, Wire.KEEPALIVE, m.keys.remoteIndex());
        tx.putLong(SealedHeader.LENGTH, ++m.keepaliveSequence);
        if (seal(m, SealedHeader.LENGTH + 8 - SealedHeader.LENGTH, now) && send(m.socket, tx)) {
            fleet.keepalives.increment();
        }
    }

    /** A 60-byte frame to a member the switch has learned (else to itself: the switch drops it, no flood). */
    private void frame(SimMember m, long now) {
        SimMember[] all = fleet.members;
        SimMember to = all[random.nextInt(all.length)];
        long dst = to != m && to.learned ? to.mac : m.mac;
        tx.clear().limit(SealedHeader.LENGTH + FRAME_LENGTH + Session.TAG_LENGTH);
        SealedHeader.write(tx, 0, Wire.FRAME, m.keys.remoteIndex());
        int f = SealedHeader.LENGTH;
        putMac(tx, f, dst);
        putMac(tx, f + 6, m.mac);
        tx.putShort(f + 12, (short) ETHERTYPE);
        for (int i = f + 14; i < f + FRAME_LENGTH; i++) {
            tx.put(i, (byte) 0);
        }
        if (seal(m, FRAME_LENGTH, now) && send(m.socket, tx)) {
            fleet.framesSent.increment();
            m.frameKeys = m.keys;
        }
    }

    /** Churn: a sealed LEAVE, then the member is down until {@code backAt}. */
    void leave(SimMember m, long backAt) {
        if (m.state != SimMember.State.UP) {
            return;
        }
        tx.clear().limit(SealedHeader.LENGTH + Session.TAG_LENGTH);
        SealedHeader.write(tx, 0, Wire.LEAVE, m.keys.remoteIndex());
        if (seal(m, 0, System.nanoTime()) && send(m.socket, tx)) {
            fleet.leaves.increment();
        }
        forget(m);
        m.rejoinAtNanos = backAt;
        m.attempts = -1;
    }

    private void forget(SimMember m) {
        for (Session s : new Session[] {m.keys, m.previous}) {
            if (s != null) {
                byIndex.remove(s.localIndex());
            }
        }
        dropPending(m, 0);
        if (m.state == SimMember.State.UP) {
            fleet.up.decrement();
        }
        release(m);
        m.keys = null;
        m.previous = null;
        m.rekeying = false;
        m.learned = false;
        m.frameKeys = null;
        m.state = SimMember.State.DOWN;
    }

    /** Forgets the member's pending handshakes, but for the index {@code keep} (now its session's). */
    private void dropPending(SimMember m, int keep) {
        for (int i = 0; i < m.pending.length; i++) {
            Initiator h = m.pending[i];
            if (h != null && h.senderIndex() != keep && !holds(m, h.senderIndex(), true)) {
                byIndex.remove(h.senderIndex());
            }
            m.pending[i] = null;
        }
    }

    /** Whether {@code index} is one of the member's keys (and, if {@code keys} is false, a pending handshake's). */
    private static boolean holds(SimMember m, int index, boolean keys) {
        if (keys) {
            return m.keys != null && m.keys.localIndex() == index || m.previous != null && m.previous.localIndex() == index;
        }
        return m.pending(index) != null;
    }

    /** Leaves with every member that is up (the end of a run: the switch frees the ports at once). */
    void leaveAll() {
        for (SimMember m : members) {
            leave(m, 0);
        }
    }

    private boolean seal(SimMember m, int payload, long now) {
        try {
            m.keys.seal(tx, 0, SealedHeader.LENGTH, payload, now);
            tx.position(0);
            return true;
        } catch (CryptoException e) {
            return false; // keys past reject-after: the rekey is late
        }
    }

    private boolean send(int socket, ByteBuffer b) {
        try {
            if (channels[socket].write(b) > 0) {
                return true;
            }
        } catch (IOException e) {
            // ICMP port unreachable from an earlier datagram, or a full buffer: counted, the member retries
        }
        fleet.sendDrops.increment();
        return false;
    }

    private static void putMac(ByteBuffer b, int at, long mac) {
        for (int i = 0; i < 6; i++) {
            b.put(at + i, (byte) (mac >>> (40 - 8 * i)));
        }
    }
}
