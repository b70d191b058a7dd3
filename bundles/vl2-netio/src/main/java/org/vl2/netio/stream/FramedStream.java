package org.vl2.netio.stream;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * One non-blocking TCP connection that carries length-prefixed vl2 messages ({@link LengthPrefix}), in TLS when it
 * has an {@link SSLEngine}, as the switch's TCP transport and the agent's TCP link both use it.
 *
 * <pre>
 *   read side (one thread)                      write side (any thread, under one lock)
 *   fill()   socket -> TLS records -> plaintext  offer(message)  prefix + message into the write queue
 *   next(v)  v = the next whole message          flush()         TLS records -> socket, as far as it takes them
 * </pre>
 *
 * <p>Back-pressure: the write queue holds at most {@code writeQueueBytes} of staged messages; {@link #offer} refuses
 * a message that does not fit (the caller counts the drop) and never waits, so a peer that reads slowly costs its
 * own messages and never stalls the thread that sends. Bytes already turned into TLS records are never dropped
 * (a record cut short would break the stream): they wait for the socket. Nothing is allocated per message.
 *
 * <p>The read side keeps a plaintext buffer that holds one whole message of the largest size plus what one TLS
 * record opens to; {@link #next} hands out views into it, valid until the next {@link #fill}. It is direct where the
 * reader hands messages to native code (the agent writes frames to its TAP device through JNA), and a heap buffer
 * where it does not (the switch): there the JDK's AES-GCM opens the TLS records and then the session's sealed frames
 * on an array in place, with no copy through a scratch array.
 */
public final class FramedStream implements AutoCloseable {

    /** The peer's stream cannot be read on: a length prefix out of range. */
    public static final class BrokenStreamException extends IOException {
        private static final long serialVersionUID = 1L;

        BrokenStreamException(String message) {
            super(message);
        }
    }

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SocketChannel channel;
    private final SSLEngine engine;
    private final InetSocketAddress remote;

    // read side: one thread
    /** TLS records from the socket (write mode); unused in plaintext. */
    private final ByteBuffer netIn;
    /** The plaintext stream (write mode: position is the end of what arrived). */
    private final ByteBuffer appIn;
    /** Where the first message not handed out yet starts in {@link #appIn}. */
    private int consumed;

    // write side: under writeLock
    private final Object writeLock = new Object();
    /** Staged messages with their prefixes (write mode): the write queue. */
    private final ByteBuffer appOut;
    /** TLS records for the socket (read mode: position to limit is still to write); unused in plaintext. */
    private final ByteBuffer netOut;
    private final int packetSize;

    private volatile boolean handshakeDone;
    private volatile boolean closed;

    /**
     * @param channel         a connected channel; made non-blocking here
     * @param engine          the TLS engine (client or server mode set), or null for plaintext
     * @param writeQueueBytes staged bytes at most, at least one message of the largest size with its prefix
     */
    public FramedStream(SocketChannel channel, SSLEngine engine, int writeQueueBytes) throws IOException {
        this(channel, engine, writeQueueBytes, true);
    }

    /**
     * @param directInput whether the plaintext input (the views {@link #next} hands out) is a direct buffer: for a
     *                    reader that passes messages to native code; a heap buffer costs less CPU otherwise
     */
    public FramedStream(SocketChannel channel, SSLEngine engine, int writeQueueBytes, boolean directInput)
            throws IOException {
        if (writeQueueBytes < LengthPrefix.HEADER + LengthPrefix.MAX_MESSAGE) {
            throw new IllegalArgumentException("write queue of " + writeQueueBytes + " bytes (at least "
                    + (LengthPrefix.HEADER + LengthPrefix.MAX_MESSAGE) + ")");
        }
        this.channel = channel;
        this.engine = engine;
        this.remote = (InetSocketAddress) channel.getRemoteAddress();
        channel.configureBlocking(false);
        int opened = engine == null ? 64 * 1024 : engine.getSession().getApplicationBufferSize();
        this.packetSize = engine == null ? 0 : engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(engine == null ? 0 : 2 * packetSize);
        int in = LengthPrefix.HEADER + LengthPrefix.MAX_MESSAGE + opened;
        this.appIn = directInput ? ByteBuffer.allocateDirect(in) : ByteBuffer.allocate(in);
        this.appOut = ByteBuffer.allocate(writeQueueBytes);
        this.netOut = ByteBuffer.allocate(engine == null ? 0 : 4 * packetSize);
        this.netOut.flip();
        this.handshakeDone = engine == null;
        if (engine != null) {
            engine.beginHandshake();
        }
    }

    public SocketChannel channel() {
        return channel;
    }

    /** The peer's address, as it was when connected. */
    public InetSocketAddress remote() {
        return remote;
    }

    /** Whether this stream is in TLS. */
    public boolean tls() {
        return engine != null;
    }

    public boolean handshakeDone() {
        return handshakeDone;
    }

    /** A new view of the plaintext input for {@link #next}: one per slot, made once. */
    public ByteBuffer newView() {
        return appIn.duplicate();
    }

    /**
     * Drives the TLS handshake as far as the socket allows without waiting: true once it is done (at once in
     * plaintext); false when it waits for the peer (then read, or write when {@link #wantsWrite}). Read-side thread.
     *
     * @throws IOException when the handshake fails or the peer closes
     */
    public boolean handshake() throws IOException {
        if (handshakeDone) {
            return true;
        }
        for (int round = 0; round < 256; round++) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> runTasks();
                case NEED_WRAP -> {
                    synchronized (writeLock) {
                        if (!wrapInto(EMPTY) || !writeOut()) {
                            return false;
                        }
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (!unwrapHandshake()) {
                        return false;
                    }
                }
                default -> {
                    handshakeDone = true;
                    return true;
                }
            }
        }
        return false;
    }

    /** One handshake record from the peer: false when it has not fully arrived and the socket has no more now. */
    private boolean unwrapHandshake() throws IOException {
        netIn.flip();
        SSLEngineResult r;
        try {
            r = engine.unwrap(netIn, appIn);
        } finally {
            netIn.compact();
        }
        switch (r.getStatus()) {
            case CLOSED -> throw new EOFException("TLS closed by the peer during the handshake");
            case BUFFER_UNDERFLOW -> {
                int n = channel.read(netIn);
                if (n < 0) {
                    throw new EOFException("connection closed during the TLS handshake");
                }
                return n > 0;
            }
            case BUFFER_OVERFLOW -> throw new SSLException("TLS handshake: plaintext buffer overflow");
            default -> {
                return true;
            }
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    /**
     * Reads what the socket has now (no waiting) and opens it into the plaintext stream; views from {@link #next}
     * are invalid afterwards. Read-side thread, after the handshake.
     *
     * @return bytes read from the socket, -1 when the peer has closed its side
     */
    public int fill() throws IOException {
        compactInput();
        if (engine == null) {
            return channel.read(appIn);
        }
        int n = channel.read(netIn);
        netIn.flip();
        try {
            while (netIn.hasRemaining()) {
                SSLEngineResult r = engine.unwrap(netIn, appIn);
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                    return -1;
                }
                if (r.getStatus() != SSLEngineResult.Status.OK) {
                    break; // underflow: a partial record; overflow: messages to hand out first
                }
                afterRecord(r);
            }
        } finally {
            netIn.compact();
        }
        return n;
    }

    /** A record may ask for post-handshake work (session tickets, key updates). */
    private void afterRecord(SSLEngineResult r) throws IOException {
        SSLEngineResult.HandshakeStatus hs = r.getHandshakeStatus();
        if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            runTasks();
            hs = engine.getHandshakeStatus();
        }
        if (hs == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
            synchronized (writeLock) {
                wrapInto(EMPTY);
                writeOut();
            }
        }
    }

    /** TLS bytes read but not opened yet (a partial record, or one waiting for room): {@link #fill} again. */
    public boolean hasBufferedInput() {
        return engine != null && netIn.position() > 0;
    }

    private void compactInput() {
        if (consumed > 0) {
            int end = appIn.position();
            appIn.limit(end).position(consumed);
            appIn.compact();
            consumed = 0;
        }
    }

    /**
     * The next whole message: sets {@code view}'s (from {@link #newView}) position and limit to it.
     *
     * @return false if no whole message is there yet
     * @throws BrokenStreamException if the next length prefix is out of range (close the connection)
     */
    public boolean next(ByteBuffer view) throws BrokenStreamException {
        int length = LengthPrefix.next(appIn, consumed, appIn.position());
        if (length == LengthPrefix.NEED_MORE) {
            return false;
        }
        if (length == LengthPrefix.BAD_LENGTH) {
            int bad = ((appIn.get(consumed) & 0xff) << 8) | (appIn.get(consumed + 1) & 0xff);
            throw new BrokenStreamException("length prefix " + bad + " (must be 1.." + LengthPrefix.MAX_MESSAGE + ")");
        }
        int start = consumed + LengthPrefix.HEADER;
        view.clear();
        view.limit(start + length).position(start);
        consumed = start + length;
        return true;
    }

    /**
     * Stages a message (position to limit, unchanged) with its prefix. Never waits. Any thread.
     *
     * @return false if the write queue has no room for it, it is empty or too long, or the stream is closed
     */
    public boolean offer(ByteBuffer message) {
        synchronized (writeLock) {
            return !closed && LengthPrefix.put(appOut, message);
        }
    }

    /** Bytes staged and not yet turned into records or written. */
    public int queuedBytes() {
        synchronized (writeLock) {
            return appOut.position() + netOut.remaining();
        }
    }

    /** True while something waits for room in the socket (or, during the handshake, for its end). */
    public boolean wantsWrite() {
        synchronized (writeLock) {
            return netOut.hasRemaining() || (handshakeDone && appOut.position() > 0);
        }
    }

    /**
     * Writes the write queue as far as the socket takes it, without waiting. Any thread; before the handshake is done
     * only handshake records go.
     *
     * @return true when nothing is left to write
     */
    public boolean flush() throws IOException {
        synchronized (writeLock) {
            while (true) {
                if (!writeOut()) {
                    return false;
                }
                if (appOut.position() == 0 || !handshakeDone) {
                    return true;
                }
                if (engine == null) {
                    appOut.flip();
                    try {
                        channel.write(appOut);
                    } finally {
                        appOut.compact();
                    }
                    return appOut.position() == 0;
                }
                if (!wrapInto(appOut)) {
                    return false;
                }
            }
        }
    }

    /**
     * Under writeLock: turns staged plaintext ({@code src} is {@link #appOut}, or {@link #EMPTY} for a handshake
     * record) into records behind what {@link #netOut} still holds, as many as fit. False if none fit.
     */
    private boolean wrapInto(ByteBuffer src) throws IOException {
        boolean staged = src == appOut;
        netOut.compact(); // write mode, pending bytes kept at the front
        if (staged) {
            appOut.flip();
        }
        boolean wrapped = false;
        try {
            do {
                if (netOut.remaining() < packetSize) {
                    break;
                }
                SSLEngineResult r = engine.wrap(src, netOut);
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                    throw new EOFException("TLS closed");
                }
                if (r.getStatus() != SSLEngineResult.Status.OK) {
                    break;
                }
                wrapped = true;
                if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                    runTasks();
                }
            } while (staged && src.hasRemaining());
        } finally {
            if (staged) {
                appOut.compact();
            }
            netOut.flip();
        }
        return wrapped;
    }

    /** Under writeLock: writes {@link #netOut}; true when all of it went. */
    private boolean writeOut() throws IOException {
        while (netOut.hasRemaining()) {
            if (channel.write(netOut) == 0) {
                return false;
            }
        }
        return true;
    }

    public boolean isOpen() {
        return !closed;
    }

    /** What {@link #discardStaged} dropped: messages and their bytes (without prefixes). */
    public record Staged(int messages, long bytes) {
    }

    /**
     * Drops the messages still staged (not yet in TLS records or the socket) and says how many: a connection that
     * ended leaves them undelivered. What was already written into records is lost like bytes in a socket's send
     * buffer, and not counted here. Any thread; meant for a closed connection (not per message).
     */
    public Staged discardStaged() {
        synchronized (writeLock) {
            int messages = 0;
            long bytes = 0;
            int end = appOut.position();
            for (int at = 0; at + LengthPrefix.HEADER <= end; ) {
                int length = ((appOut.get(at) & 0xff) << 8) | (appOut.get(at + 1) & 0xff);
                messages++;
                bytes += length;
                at += LengthPrefix.HEADER + length;
            }
            appOut.clear();
            return new Staged(messages, bytes);
        }
    }

    /** Closes the socket (no TLS close_notify: the peer sees the connection end). Idempotent, any thread. */
    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            // closing: nothing to do about it
        }
    }
}
