package org.vl2.transport.tcp.internal;

import java.lang.annotation.Annotation;

/** A {@link TcpTransportConfig} with the annotation's defaults on loopback and a free port, changed in tests. */
final class Cfg implements TcpTransportConfig {

    int port;
    boolean tls = true;
    String certificate = "";
    String key = "";
    int maxConnections = 512;
    int maxPerSource = 32;
    int writeQueue = 128 * 1024;
    int idle = 120;
    int handshake = 10;

    @Override
    public String bind_address() {
        return "127.0.0.1";
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public boolean tls() {
        return tls;
    }

    @Override
    public String tls_certificate() {
        return certificate;
    }

    @Override
    public String tls_key() {
        return key;
    }

    @Override
    public int max_connections() {
        return maxConnections;
    }

    @Override
    public int max_connections_per_source() {
        return maxPerSource;
    }

    @Override
    public int write_queue_bytes() {
        return writeQueue;
    }

    @Override
    public int idle_timeout_seconds() {
        return idle;
    }

    @Override
    public int handshake_timeout_seconds() {
        return handshake;
    }

    @Override
    public Class<? extends Annotation> annotationType() {
        return TcpTransportConfig.class;
    }
}
