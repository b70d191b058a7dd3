package org.vl2.transport.tcp.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;

/**
 * TCP transport for the vl2 protocol: the same vl2 messages as the vl2 UDP transport (join, sealed frames,
 * keepalives), each with a 2-byte length in a TCP stream, in TLS 1.3 unless configured otherwise; for agents behind
 * firewalls that block UDP (docs/tcp.md). The switch core reads them as any vl2 transport's: a TCP member is an
 * ordinary port, named by its connection's remote address. A configuration change re-creates the component; the
 * switch keeps its ports (detached) and the agents connect again.
 */
@Component(service = Transport.class, configurationPid = TcpTransport.PID, immediate = true,
        property = Transport.PROPERTY + "=" + TcpTransport.NAME)
@Designate(ocd = TcpTransportConfig.class)
public final class TcpTransport implements Transport {

    static final String PID = "org.vl2.transport.tcp";
    static final String NAME = "tcp";
    static final String MODE = "vl2";
    static final int DEFAULT_PORT = 8443;
    private static final Logger LOG = LoggerFactory.getLogger(TcpTransport.class);
    /** Contract with the launchers: the one ERROR saying why a transport does not start (docs/operating.md). */
    private static final Logger FATAL = LoggerFactory.getLogger("org.vl2.fatal");

    private final ServerSocketChannel listener;
    private final String local;
    private final TcpServer server;

    @Activate
    public TcpTransport(TcpTransportConfig config, BundleContext context) {
        this(config, dataDirectory(context));
    }

    /** With an explicit data directory (where a generated certificate is kept): tests. */
    TcpTransport(TcpTransportConfig config, Path dataDirectory) {
        ServerTls tls;
        InetSocketAddress bind;
        TcpServer.Limits limits;
        try {
            bind = bindAddress(config);
            limits = limits(config);
            tls = config.tls() ? ServerTls.load(config.tls_certificate(), config.tls_key(), dataDirectory, PID) : null;
        } catch (IllegalArgumentException e) {
            FATAL.error("{}; the tcp transport does not start until this is fixed", e.getMessage());
            throw e;
        }
        try {
            // an IPv4 bind address gets an IPv4 socket (0.0.0.0: all IPv4 addresses, not a dual-stack [::]), so the
            // peers are IPv4 addresses too, as on the UDP transports
            listener = ServerSocketChannel.open(bind.getAddress() instanceof java.net.Inet4Address
                    ? java.net.StandardProtocolFamily.INET : java.net.StandardProtocolFamily.INET6);
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(bind, 1024);
            local = Endpoints.format(listener.getLocalAddress());
        } catch (IOException e) {
            String why = "tcp transport: cannot listen on TCP " + Endpoints.format(bind) + ": " + e.getMessage()
                    + (e instanceof BindException ? " (in use, or a port below 1024 without the right to bind it; "
                    + "set 'port' or 'bind.address' in " + PID + ")" : "");
            FATAL.error("{}; the tcp transport does not start until this is fixed", why);
            throw new IllegalStateException(why, e);
        }
        server = new TcpServer(this, listener, local, tls, limits);
        String exposure = bind.getAddress().isLoopbackAddress() ? " (this host only)" : "";
        if (tls != null) {
            LOG.info("Started tcp transport on TCP {}{} (vl2 mode, TLS 1.3, certificate {}; up to {} connections, {} "
                    + "per source)", local, exposure, tls.description(), limits.maxConnections(), limits.maxPerSource());
        } else {
            LOG.warn("Started tcp transport on TCP {}{} (vl2 mode) WITHOUT TLS (tls=false): the vl2 messages are still"
                    + " sealed, but the stream is recognisable as vl2 by any middlebox", local, exposure);
        }
    }

    static Path dataDirectory(BundleContext context) {
        String data = System.getProperty("karaf.data");
        if (data != null && !data.isBlank()) {
            return Path.of(data, "vl2");
        }
        java.io.File f = context == null ? null : context.getDataFile("");
        return f == null ? Path.of(System.getProperty("java.io.tmpdir"), "vl2-switch") : f.toPath();
    }

    private static InetSocketAddress bindAddress(TcpTransportConfig config) {
        if (config.port() < 0 || config.port() > 65535) {
            throw invalid("port=" + config.port() + " (must be 1..65535)");
        }
        String host = config.bind_address() == null ? "" : config.bind_address().trim();
        try {
            if (host.isEmpty()) {
                throw new UnknownHostException("empty");
            }
            return new InetSocketAddress(InetAddress.getByName(host), config.port());
        } catch (UnknownHostException | RuntimeException e) {
            throw invalid("bind.address=" + config.bind_address() + " (not an address of this host: "
                    + e.getMessage() + ")");
        }
    }

    static TcpServer.Limits limits(TcpTransportConfig config) {
        if (config.max_connections() < 1 || config.max_connections_per_source() < 1) {
            throw invalid("max.connections=" + config.max_connections() + ", max.connections.per.source="
                    + config.max_connections_per_source() + " (each at least 1)");
        }
        int min = org.vl2.netio.stream.LengthPrefix.HEADER + org.vl2.netio.stream.LengthPrefix.MAX_MESSAGE;
        if (config.write_queue_bytes() < min) {
            throw invalid("write.queue.bytes=" + config.write_queue_bytes() + " (at least " + min
                    + ": one message of the largest size)");
        }
        if (config.idle_timeout_seconds() < 5 || config.handshake_timeout_seconds() < 1) {
            throw invalid("idle.timeout.seconds=" + config.idle_timeout_seconds() + ", handshake.timeout.seconds="
                    + config.handshake_timeout_seconds() + " (at least 5 and 1)");
        }
        return new TcpServer.Limits(config.max_connections(), config.max_connections_per_source(),
                config.write_queue_bytes(), TimeUnit.SECONDS.toNanos(config.idle_timeout_seconds()),
                TimeUnit.SECONDS.toNanos(config.handshake_timeout_seconds()));
    }

    private static IllegalArgumentException invalid(String what) {
        return new IllegalArgumentException("Invalid configuration " + PID + ": " + what);
    }

    @Deactivate
    void deactivate() {
        stop();
        try {
            listener.close();
        } catch (IOException e) {
            // stopping
        }
        LOG.info("Stopped tcp transport on TCP {}", local);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String mode() {
        return MODE;
    }

    @Override
    public String localAddress() {
        return local;
    }

    /** The port bound (tests ask for 0). */
    int boundPort() {
        try {
            return ((InetSocketAddress) listener.getLocalAddress()).getPort();
        } catch (IOException e) {
            return -1;
        }
    }

    TcpServer server() {
        return server;
    }

    /**
     * Connections refused or closed, by why (limit, source_limit, handshake_failed, handshake_timeout, bad_length,
     * idle, error). Messages refused on a full write queue are not here: send returns false for them, so the switch
     * already counts them as this transport's transmit errors.
     */
    @Override
    public Map<String, Long> receiveDrops() {
        return server.reports().totals();
    }

    @Override
    public void start(FrameReceiver receiver) {
        synchronized (server) {
            stop();
            try {
                server.start(receiver);
            } catch (IOException e) {
                throw new IllegalStateException("tcp transport on " + local + ": cannot start: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public void stop() {
        if (!server.stop(5_000)) {
            LOG.warn("tcp connection thread on {} did not stop within 5 s", local);
        }
    }

    /** Stages the message on {@code remote}'s connection (see {@link TcpServer#send}). */
    @Override
    public boolean send(SocketAddress remote, ByteBuffer message) {
        return remote instanceof InetSocketAddress to && server.send(to, message, null);
    }

    /** A message for a port: what a connection that ends still holds is reported against the port. */
    @Override
    public boolean send(SocketAddress remote, ByteBuffer message, PortId port) {
        return remote instanceof InetSocketAddress to && server.send(to, message, port);
    }
}
