package org.vl2.transport.udp.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;

/**
 * A UDP socket that carries the switch's datagrams: one receive thread per transport reads into one direct
 * buffer and hands each datagram to the switch on that thread; the switch sends on the same non-blocking
 * channel. Nothing is allocated or logged per datagram. A configuration change is applied in place (see
 * {@link #reconfigure}), so the switch keeps its ports. The two components on top differ only in name, PID,
 * default port and what their datagrams are: {@link UdpTransport} (raw frames) and {@link Vl2Transport} (vl2
 * protocol messages).
 */
abstract class UdpEndpoint implements Transport {

    /** Largest UDP payload over IPv4: nothing a peer sends is ever truncated, so oversize frames are seen. */
    static final int MAX_DATAGRAM = 65_507;
    private static final Logger LOG = LoggerFactory.getLogger(UdpEndpoint.class);

    /** The socket settings of a configuration, whichever component it belongs to. */
    record Params(String bindAddress, int port, int receiveBufferBytes, int sendBufferBytes) {
    }

    /** The socket, its selector and its printable address: replaced together when the configuration changes. */
    private record Socket(DatagramChannel channel, Selector selector, InetSocketAddress bound, String local) {
    }

    private final String pid;
    private final String name;
    private final String mode;
    private final ByteBuffer rxBuffer = ByteBuffer.allocateDirect(MAX_DATAGRAM + 1);
    private final LongAdder sendFailures = new LongAdder();

    private final Object lifecycle = new Object();
    private volatile Socket socket;
    private Thread receiveThread;
    private volatile FrameReceiver receiver;
    private volatile boolean running;

    UdpEndpoint(String pid, String name, String mode, Params params) {
        this.pid = pid;
        this.name = name;
        this.mode = mode;
        try {
            this.socket = open(validate(params), params);
        } catch (IllegalArgumentException | IllegalStateException e) {
            LOG.error("{}; the {} transport does not start until this is fixed", e.getMessage(), name);
            throw e;
        }
        LOG.info("Started {} transport on UDP {} ({} mode)", name, socket.local(), mode);
    }

    /**
     * Applies a new configuration without losing the switch's ports: an invalid one is refused and the last good
     * one stays; a new address or port is bound first and swapped in only once it works.
     */
    void reconfigure(Params config) {
        InetSocketAddress bind;
        try {
            bind = validate(config);
        } catch (IllegalArgumentException e) {
            LOG.error("{}; keeping the previous configuration (listening on {})", e.getMessage(), socket.local());
            return;
        }
        synchronized (lifecycle) {
            Socket old = socket;
            if (bind.equals(old.bound())) {
                try {
                    old.channel().setOption(StandardSocketOptions.SO_RCVBUF, config.receiveBufferBytes());
                    old.channel().setOption(StandardSocketOptions.SO_SNDBUF, config.sendBufferBytes());
                } catch (IOException e) {
                    LOG.error("{} transport: cannot set socket buffers on {}: {}", name, old.local(), e.getMessage());
                }
                return;
            }
            Socket next;
            try {
                next = open(bind, config);
            } catch (IllegalStateException e) {
                LOG.error("{}; keeping the previous configuration (listening on {})", e.getMessage(), old.local());
                return;
            }
            FrameReceiver r = receiver;
            stop();
            socket = next;
            close(old.channel(), old.selector());
            if (r != null) {
                start(r);
            }
            LOG.info("{} transport moved from {} to {}", name, old.local(), next.local());
        }
    }

    /** Checks everything but the socket itself; returns the address to bind. */
    private InetSocketAddress validate(Params config) {
        if (config.port() < 1 || config.port() > 65535) {
            throw invalid("port=" + config.port() + " (must be 1..65535)");
        }
        if (config.receiveBufferBytes() < 65536 || config.sendBufferBytes() < 65536) {
            throw invalid("receive.buffer.bytes=" + config.receiveBufferBytes() + ", send.buffer.bytes="
                    + config.sendBufferBytes() + " (each must be at least 65536)");
        }
        String host = config.bindAddress() == null ? "" : config.bindAddress().trim();
        try {
            if (host.isEmpty()) {
                throw new UnknownHostException("empty");
            }
            return new InetSocketAddress(InetAddress.getByName(host), config.port());
        } catch (UnknownHostException | RuntimeException e) {
            throw invalid("bind.address=" + config.bindAddress() + " (not an address of this host: "
                    + e.getMessage() + ")");
        }
    }

    private Socket open(InetSocketAddress bind, Params config) {
        DatagramChannel ch = null;
        Selector sel = null;
        try {
            // An IPv4 bind address gets an IPv4 socket: 0.0.0.0 means all IPv4 addresses, not a dual-stack [::].
            ch = DatagramChannel.open(bind.getAddress() instanceof Inet4Address
                    ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
            ch.setOption(StandardSocketOptions.SO_RCVBUF, config.receiveBufferBytes());
            ch.setOption(StandardSocketOptions.SO_SNDBUF, config.sendBufferBytes());
            ch.bind(bind);
            ch.configureBlocking(false);
            sel = Selector.open();
            ch.register(sel, SelectionKey.OP_READ);
            return new Socket(ch, sel, bind, Endpoints.format((InetSocketAddress) ch.getLocalAddress()));
        } catch (BindException e) {
            close(ch, sel);
            throw failed("cannot listen on UDP " + Endpoints.format(bind) + ": " + e.getMessage()
                    + " (is another switch running? set 'port' or 'bind.address' in " + pid + ")", e);
        } catch (IOException e) {
            close(ch, sel);
            throw failed("cannot open UDP socket on " + Endpoints.format(bind) + ": " + e.getMessage(), e);
        }
    }

    IllegalArgumentException invalid(String what) {
        return new IllegalArgumentException("Invalid configuration " + pid + ": " + what);
    }

    private IllegalStateException failed(String what, Exception cause) {
        return new IllegalStateException(name + " transport: " + what, cause);
    }

    void close() {
        stop();
        Socket s = socket;
        close(s.channel(), s.selector());
        LOG.info("Stopped {} transport on UDP {}", name, s.local());
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
        return socket.local();
    }

    /** The port actually bound (differs from the configured one only when 0 was asked in tests). */
    int boundPort() {
        try {
            return ((InetSocketAddress) socket.channel().getLocalAddress()).getPort();
        } catch (IOException e) {
            return -1;
        }
    }

    long sendFailures() {
        return sendFailures.sum();
    }

    @Override
    public void start(FrameReceiver frameReceiver) {
        synchronized (lifecycle) {
            if (running && receiver == frameReceiver) {
                return;
            }
            stop();
            Socket s = socket;
            if (!s.channel().isOpen()) {
                throw new IllegalStateException(name + " transport on " + s.local() + " is closed");
            }
            receiver = frameReceiver;
            running = true;
            receiveThread = new Thread(() -> receiveLoop(s), "vl2-" + name + "-rx-" + s.local());
            receiveThread.setDaemon(true);
            receiveThread.start();
        }
    }

    @Override
    public void stop() {
        synchronized (lifecycle) {
            Thread t = receiveThread;
            if (t == null) {
                return;
            }
            running = false;
            socket.selector().wakeup();
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                LOG.warn("{} receive thread on {} did not stop within 5 s", name, socket.local());
            }
            receiveThread = null;
            receiver = null;
        }
    }

    private void receiveLoop(Socket s) {
        final ByteBuffer buf = rxBuffer;
        final FrameReceiver rx = receiver;
        final DatagramChannel channel = s.channel();
        final Selector selector = s.selector();
        final String local = s.local();
        while (running) {
            try {
                buf.clear();
                SocketAddress source = channel.receive(buf);
                if (source == null) {
                    // Nothing queued: wait for the socket, but wake up now and then to notice stop().
                    selector.select(500);
                    selector.selectedKeys().clear();
                    continue;
                }
                buf.flip();
                rx.receive(this, source, buf);
            } catch (ClosedChannelException e) {
                break;
            } catch (IOException e) {
                if (running) {
                    LOG.warn("{} receive on {} failed: {}", name, local, e.toString());
                }
            } catch (RuntimeException e) {
                // A bug in a receiver must not kill the port: log it (rarely) and go on with the next frame.
                LOG.error("Datagram handling failed on {} ({})", local, name, e);
            }
        }
    }

    @Override
    public boolean send(SocketAddress remote, ByteBuffer frame) {
        final int position = frame.position();
        try {
            // Non-blocking: a full socket buffer drops the frame (as a congested switch port would).
            return socket.channel().send(frame, remote) > 0;
        } catch (IOException | RuntimeException e) {
            sendFailures.increment();
            return false;
        } finally {
            frame.position(position);
        }
    }

    private static void close(DatagramChannel ch, Selector sel) {
        try {
            if (sel != null) {
                sel.close();
            }
        } catch (IOException ignored) {
            // closing: nothing left to do
        }
        try {
            if (ch != null) {
                ch.close();
            }
        } catch (IOException ignored) {
            // closing: nothing left to do
        }
    }
}
