package org.vl2.api.test;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;

/**
 * An in-memory {@link Transport}: records what is sent through it (in order, and by destination) and lets a test
 * deliver datagrams or decapsulated frames to the receiver it was started with. {@link #failSends} makes every
 * send fail; {@link #batched} makes sends only queue (accepted) until {@link #flush}, which may refuse some of them
 * and reports those by the port they were sent for as {@link FrameReceiver#transmitFailed(Transport, PortId, int,
 * long)}, as a batched UDP socket does.
 */
public class FakeTransport implements Transport {

    /** One datagram sent: {@code network} is null for {@link #send}, the network for {@link #sendFrame}. */
    public record Sent(SocketAddress to, Long network, byte[] bytes) {
    }

    public final String name;
    public final String mode;
    /** Everything put on the "wire", in order. */
    public final List<Sent> log = new ArrayList<>();
    /** The same by destination. */
    public final Map<SocketAddress, List<byte[]>> sent = new HashMap<>();
    /** The receiver of the last {@link #start}; null once stopped. A test may set it. */
    public volatile FrameReceiver receiver;
    /** Every send returns false (nothing recorded). */
    public volatile boolean failSends;
    /** Sends are queued until {@link #flush}. */
    public volatile boolean batched;
    public int starts;
    public int stops;
    /** What {@link #receiveDrops()} reports. */
    public final Map<String, Long> receiveDrops = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<Sent> queue = new ArrayList<>();
    /** The port each queued datagram was sent for (null: none), parallel to {@link #queue}. */
    private final List<PortId> queuedFor = new ArrayList<>();

    public FakeTransport(String name) {
        this(name, "raw");
    }

    public FakeTransport(String name, String mode) {
        this.name = name;
        this.mode = mode;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String mode() {
        return mode;
    }

    @Override
    public String localAddress() {
        return "test";
    }

    @Override
    public Map<String, Long> receiveDrops() {
        return Map.copyOf(receiveDrops);
    }

    @Override
    public void start(FrameReceiver r) {
        receiver = r;
        starts++;
    }

    @Override
    public void stop() {
        receiver = null;
        stops++;
    }

    @Override
    public boolean send(SocketAddress remote, ByteBuffer frame) {
        return record(remote, null, frame, null);
    }

    @Override
    public boolean sendFrame(SocketAddress remote, long network, ByteBuffer frame) {
        return record(remote, network, frame, null);
    }

    @Override
    public boolean send(SocketAddress remote, ByteBuffer frame, PortId port) {
        return record(remote, null, frame, port);
    }

    @Override
    public boolean sendFrame(SocketAddress remote, long network, ByteBuffer frame, PortId port) {
        return record(remote, network, frame, port);
    }

    private synchronized boolean record(SocketAddress remote, Long network, ByteBuffer frame, PortId port) {
        if (failSends) {
            return false;
        }
        Sent s = new Sent(remote, network, TestFrames.bytes(frame));
        if (batched) {
            queue.add(s);
            queuedFor.add(port);
        } else {
            wire(s);
        }
        return true;
    }

    private void wire(Sent s) {
        log.add(s);
        sent.computeIfAbsent(s.to(), k -> new ArrayList<>()).add(s.bytes());
    }

    /**
     * Puts the queued datagrams on the wire but the last {@code refuse} of them, which are dropped and reported to
     * the receiver one by one, with the port each was sent for and its bytes as handed over, as
     * {@link FrameReceiver#transmitFailed(Transport, PortId, int, long)}.
     *
     * @return how many were refused
     */
    public int flush(int refuse) {
        List<Sent> dropped = new ArrayList<>();
        List<PortId> droppedFor = new ArrayList<>();
        synchronized (this) {
            int keep = queue.size() - Math.min(refuse, queue.size());
            for (int i = 0; i < queue.size(); i++) {
                if (i < keep) {
                    wire(queue.get(i));
                } else {
                    dropped.add(queue.get(i));
                    droppedFor.add(queuedFor.get(i));
                }
            }
            queue.clear();
            queuedFor.clear();
        }
        for (int i = 0; i < dropped.size(); i++) {
            receiver.transmitFailed(this, droppedFor.get(i), 1, dropped.get(i).bytes().length);
        }
        return dropped.size();
    }

    /** Datagrams waiting for {@link #flush}. */
    public synchronized int queued() {
        return queue.size();
    }

    /** Delivers a datagram as if it arrived from {@code from} (a duplicate: the test's buffer stays as it is). */
    public void inject(SocketAddress from, ByteBuffer datagram) {
        receiver.receive(this, from, datagram.duplicate());
    }

    /** Delivers a frame this transport decapsulated itself (as VXLAN does) from {@code remote} in {@code network}. */
    public void injectFrame(SocketAddress remote, long network, ByteBuffer frame) {
        receiver.receiveFrame(this, remote, network, frame.duplicate());
    }

    /** The last datagram sent to {@code to}, or null. */
    public synchronized byte[] last(SocketAddress to) {
        List<byte[]> l = sent.get(to);
        return l == null || l.isEmpty() ? null : l.get(l.size() - 1);
    }

    public synchronized int sentTo(SocketAddress to) {
        return sent.getOrDefault(to, List.of()).size();
    }

    public synchronized int sentTotal() {
        return log.size();
    }

    /** Forgets what was sent (and what is queued). */
    public synchronized void clear() {
        log.clear();
        sent.clear();
        queue.clear();
        queuedFor.clear();
    }
}
