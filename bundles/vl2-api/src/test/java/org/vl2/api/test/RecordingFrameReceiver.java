package org.vl2.api.test;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;

/**
 * The switch as a transport sees it: records every frame handed over (a copy: the transport reuses its buffer),
 * every port attached or detached and every frame reported as not sent. Thread-safe: transports call it from
 * their own threads; tests wait with {@link #poll}.
 */
public class RecordingFrameReceiver implements FrameReceiver {

    /** One frame received: {@code network} is null for {@link #receive} (a raw datagram). */
    public record Received(Transport transport, SocketAddress source, Long network, byte[] frame) {
    }

    /** An {@link #attachPort} ({@code attach = true}) or {@link #detachPort} call. */
    public record PortCall(boolean attach, SocketAddress remote, long network) {
    }

    public final BlockingQueue<Received> frames = new LinkedBlockingQueue<>();
    public final List<PortCall> portCalls = new CopyOnWriteArrayList<>();
    /** Sum of the frames reported through {@link #transmitFailed}. */
    public final AtomicInteger transmitFailed = new AtomicInteger();

    @Override
    public void receive(Transport transport, SocketAddress source, ByteBuffer frame) {
        frames.add(new Received(transport, source, null, copy(frame)));
    }

    @Override
    public void receiveFrame(Transport transport, SocketAddress remote, long network, ByteBuffer frame) {
        frames.add(new Received(transport, remote, network, copy(frame)));
    }

    @Override
    public PortId attachPort(Transport transport, SocketAddress remote, long network) {
        portCalls.add(new PortCall(true, remote, network));
        return PortId.of(portCalls.size());
    }

    @Override
    public boolean detachPort(Transport transport, SocketAddress remote, long network) {
        portCalls.add(new PortCall(false, remote, network));
        return true;
    }

    @Override
    public void transmitFailed(Transport transport, int count) {
        transmitFailed.addAndGet(count);
    }

    /** The next frame received, waiting at most {@code timeout}; null if none came. */
    public Received poll(Duration timeout) throws InterruptedException {
        return frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Moves the position, as receivers may. */
    private static byte[] copy(ByteBuffer frame) {
        byte[] copy = new byte[frame.remaining()];
        frame.get(copy);
        return copy;
    }
}
