package org.vl2.transport.vxlan.internal;

import java.lang.annotation.Annotation;

/** A {@link VxlanTransportConfig} with the annotation's defaults, changed field by field in tests. */
final class Cfg implements VxlanTransportConfig {

    String bindAddress = "0.0.0.0";
    int port = VxlanTransport.DEFAULT_PORT;
    String[] vni = {};
    String[] remotes = {};
    String[] allowedVteps = {};
    String sourcePortRange = "49152-49167";
    int receiveBufferBytes = 1 << 20;
    int sendBufferBytes = 1 << 20;
    int ioBatch = VxlanTransport.DEFAULT_BATCH;
    boolean ioOffload = true;

    Cfg bind(String address) {
        bindAddress = address;
        return this;
    }

    Cfg port(int p) {
        port = p;
        return this;
    }

    Cfg vni(String... entries) {
        vni = entries;
        return this;
    }

    Cfg remotes(String... entries) {
        remotes = entries;
        return this;
    }

    Cfg allowed(String... entries) {
        allowedVteps = entries;
        return this;
    }

    Cfg range(String range) {
        sourcePortRange = range;
        return this;
    }

    Cfg range(int min, int max) {
        return range(min + "-" + max);
    }

    Cfg buffers(int receive, int send) {
        receiveBufferBytes = receive;
        sendBufferBytes = send;
        return this;
    }

    Cfg io(int batch, boolean offload) {
        ioBatch = batch;
        ioOffload = offload;
        return this;
    }

    @Override
    public Class<? extends Annotation> annotationType() {
        return VxlanTransportConfig.class;
    }

    @Override
    public String bind_address() {
        return bindAddress;
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String[] vni() {
        return vni;
    }

    @Override
    public String[] remotes() {
        return remotes;
    }

    @Override
    public String[] allowed_vteps() {
        return allowedVteps;
    }

    @Override
    public String source_port_range() {
        return sourcePortRange;
    }

    @Override
    public int receive_buffer_bytes() {
        return receiveBufferBytes;
    }

    @Override
    public int send_buffer_bytes() {
        return sendBufferBytes;
    }

    @Override
    public int io_batch() {
        return ioBatch;
    }

    @Override
    public boolean io_offload() {
        return ioOffload;
    }
}
