package org.vl2.netio.stream;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.TrustManager;

import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.internal.StreamClientEndpoint;

/**
 * Connects the agent's side of a TCP link: a {@link DatagramEndpoint} whose datagrams are the vl2 messages of one
 * TCP connection (TLS 1.3 by default), optionally through an HTTP proxy (CONNECT).
 *
 * <p><b>Trust.</b> The agent's TLS layer accepts any certificate: the switch is authenticated one layer up, by the
 * vl2 handshake inside the stream, against the switch key the agent pins (switch.key or trust on first use), as over
 * UDP. TLS here hides the vl2 protocol from middleboxes and makes the connection look like any HTTPS one; it is not
 * what protects the network, so no PKI is needed.
 */
public final class StreamEndpoints {

    /** Write queue of an agent's connection: about 40 full-size frames beyond what the socket buffer holds. */
    public static final int CLIENT_WRITE_QUEUE_BYTES = 256 * 1024;

    /**
     * The TLS 1.3 cipher suites both ends enable, most preferred first (the JDK server picks by its own order).
     * AES-128-GCM first: TLS is the outer envelope here (every frame inside is sealed by the vl2 session, AES-256-GCM
     * or ChaCha20-Poly1305), and its 10 AES rounds against 14 make the second encryption of every byte cheaper;
     * AES-256-GCM and ChaCha20-Poly1305 stay enabled for a peer that insists. All three are TLS 1.3's own suites.
     */
    public static final String[] TLS_CIPHER_SUITES = {
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"};

    /** Sets TLS 1.3 only, {@link #TLS_CIPHER_SUITES} in that order, and this end's order as the one that decides. */
    public static void configure(SSLEngine engine) {
        engine.setEnabledProtocols(new String[]{"TLSv1.3"});
        SSLParameters p = engine.getSSLParameters();
        List<String> supported = List.of(engine.getSupportedCipherSuites());
        p.setCipherSuites(Arrays.stream(TLS_CIPHER_SUITES).filter(supported::contains)
                .toArray(String[]::new));
        p.setUseCipherSuitesOrder(true);
        engine.setSSLParameters(p);
    }

    private StreamEndpoints() {
    }

    /**
     * Why the connection of an endpoint from {@link #connect} ended (the switch closed it, a reset, a broken stream),
     * or null while it is up and for every other endpoint. A broken endpoint receives nothing and refuses sends; open
     * a new one.
     */
    public static String broken(DatagramEndpoint endpoint) {
        return endpoint instanceof StreamClientEndpoint s ? s.broken() : null;
    }

    /**
     * Connects to {@code remote} (through {@code proxy} with HTTP CONNECT when not null) and completes the TLS
     * handshake when {@code tls}, all within {@code timeoutMillis}.
     *
     * @throws IOException with a message that names the step that failed (connect, proxy, TLS)
     */
    public static DatagramEndpoint connect(InetSocketAddress remote, InetSocketAddress proxy, boolean tls,
                                           int timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        InetSocketAddress first = proxy != null ? proxy : remote;
        if (first.isUnresolved()) {
            throw new UnknownHostException(first.getHostString());
        }
        SocketChannel ch = SocketChannel.open();
        Selector selector = null;
        try {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            ch.configureBlocking(false);
            selector = Selector.open();
            SelectionKey key = ch.register(selector, 0);
            if (!ch.connect(first)) {
                key.interestOps(SelectionKey.OP_CONNECT);
                while (!ch.finishConnect()) {
                    await(selector, deadline, "TCP connect to " + text(first));
                }
            }
            if (proxy != null) {
                HttpConnect.through(ch, selector, key, remote, deadline);
            }
            SSLEngine engine = tls ? clientEngine(remote) : null;
            FramedStream stream = new FramedStream(ch, engine, CLIENT_WRITE_QUEUE_BYTES);
            while (!stream.handshake()) {
                key.interestOps(stream.wantsWrite() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
                await(selector, deadline, "TLS handshake with " + text(remote));
            }
            while (!stream.flush()) {
                key.interestOps(SelectionKey.OP_WRITE);
                await(selector, deadline, "TLS handshake with " + text(remote));
            }
            key.cancel();
            selector.close();
            return new StreamClientEndpoint(stream, remote);
        } catch (SSLException e) {
            close(ch, selector);
            throw new SSLException("TLS handshake with " + text(remote) + " failed: " + e.getMessage()
                    + " (is the switch's TCP transport on that port, with tls as the agent expects?)", e);
        } catch (IOException | RuntimeException e) {
            close(ch, selector);
            throw e;
        }
    }

    private static void close(SocketChannel ch, Selector selector) {
        try {
            ch.close();
            if (selector != null) {
                selector.close();
            }
        } catch (IOException ignored) {
            // already failing
        }
    }

    /** Waits for the key's interest until {@code deadline}; a timeout is an IOException naming {@code what}. */
    static void await(Selector selector, long deadline, String what) throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000L;
        if (Thread.currentThread().isInterrupted()) {
            // select() returns at once on an interrupted thread: without this the loop would spin to the deadline
            throw new java.io.InterruptedIOException(what + " interrupted");
        }
        if (left <= 0) {
            throw new java.net.SocketTimeoutException(what + " timed out");
        }
        selector.select(left);
        selector.selectedKeys().clear();
    }

    static String text(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static SSLEngine clientEngine(InetSocketAddress remote) throws IOException {
        SSLEngine engine = clientContext().createSSLEngine(remote.getHostString(), remote.getPort());
        engine.setUseClientMode(true);
        configure(engine);
        return engine;
    }

    /**
     * The agent's TLS 1.3 context. It trusts any certificate: only for a link whose peer is authenticated inside it,
     * as the switch is by the vl2 handshake (see the class comment); never for anything else, so it is private: an
     * exported trust-any context would be one call away from a connection that authenticates nobody.
     */
    private static SSLContext clientContext() throws SSLException {
        try {
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(null, new TrustManager[]{new AnyCertificate()}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new SSLException("TLS 1.3 is not available in this JVM: " + e.getMessage(), e);
        }
    }

    /** The vl2 handshake inside authenticates the switch (see the class comment), so any certificate will do. */
    private static final class AnyCertificate extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** HTTP CONNECT through a proxy (RFC 9110 9.3.6): the request, then the status line and headers up to CRLFCRLF. */
    static final class HttpConnect {
        private static final int MAX_RESPONSE = 8192;

        private HttpConnect() {
        }

        static void through(SocketChannel ch, Selector selector, SelectionKey key, InetSocketAddress remote,
                            long deadline) throws IOException {
            String target = text(remote);
            ByteBuffer request = ByteBuffer.wrap(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target
                    + "\r\nUser-Agent: vl2-agent\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            while (request.hasRemaining()) {
                if (ch.write(request) == 0) {
                    key.interestOps(SelectionKey.OP_WRITE);
                    await(selector, deadline, "HTTP proxy CONNECT to " + target);
                }
            }
            // Read one byte at a time: nothing of the tunnel's first bytes may be consumed with the headers.
            ByteBuffer one = ByteBuffer.allocate(1);
            StringBuilder response = new StringBuilder();
            key.interestOps(SelectionKey.OP_READ);
            while (!response.toString().endsWith("\r\n\r\n")) {
                one.clear();
                int n = ch.read(one);
                if (n < 0) {
                    throw new IOException("HTTP proxy closed the connection during CONNECT to " + target
                            + (response.length() > 0 ? " (it said: " + firstLine(response) + ")" : ""));
                }
                if (n == 0) {
                    await(selector, deadline, "HTTP proxy CONNECT to " + target);
                    continue;
                }
                response.append((char) (one.get(0) & 0xff));
                if (response.length() > MAX_RESPONSE) {
                    throw new IOException("HTTP proxy's answer to CONNECT " + target + " is longer than "
                            + MAX_RESPONSE + " bytes");
                }
            }
            String status = firstLine(response);
            String[] parts = status.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !parts[1].equals("200")) {
                throw new IOException("HTTP proxy refused CONNECT " + target + ": " + status);
            }
        }

        private static String firstLine(StringBuilder response) {
            int end = response.indexOf("\r\n");
            String line = end < 0 ? response.toString() : response.substring(0, end);
            return line.replaceAll("[^\\x20-\\x7e]", "?");
        }
    }
}
