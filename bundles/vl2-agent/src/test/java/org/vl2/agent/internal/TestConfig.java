package org.vl2.agent.internal;

import java.lang.annotation.Annotation;

/** A {@link AgentConfig.Config} with the annotation's defaults, changed field by field. */
final class TestConfig implements AgentConfig.Config {

    String switchAddress = "127.0.0.1:9990";
    String tapName = AgentConfig.DEFAULT_TAP_NAME;
    int mtu = 0;
    String mac = "";
    String address = "";
    String address6 = "";
    String bridge = "";
    String mode = AgentConfig.MODE_VL2;
    int keepaliveSeconds = AgentConfig.DEFAULT_KEEPALIVE_SECONDS;
    String network = "0";
    String name = "";
    String identityFile = MemberIdentity.DEFAULT_FILE;
    int vni = 0;
    boolean encryption = true;
    String switchKey = "";
    boolean trustOnFirstUse = false;
    boolean tapOffload = true;
    boolean udpOffload = true;
    String cipher = "auto";
    boolean pairs = true;
    boolean direct = true;
    String transport = AgentConfig.TRANSPORT_AUTO;
    int tcpPort = AgentConfig.TCP_PORT;
    boolean tcpTls = true;
    String proxy = "";

    TestConfig transportNamed(String t) {
        transport = t;
        return this;
    }

    /** transport tcp to this port (TLS unless {@link #tcpTls} is changed), through {@code proxy} unless empty. */
    TestConfig tcp(int port, String proxyAddress) {
        transport = AgentConfig.TRANSPORT_TCP;
        tcpPort = port;
        proxy = proxyAddress;
        return this;
    }

    /** Raw mode, as the seed VPort. */
    TestConfig raw() {
        return mode(AgentConfig.MODE_RAW);
    }

    /** vxlan mode with this VNI. */
    TestConfig vxlan(int v) {
        return mode(AgentConfig.MODE_VXLAN).vni(v);
    }

    TestConfig direct(boolean v) {
        direct = v;
        return this;
    }

    TestConfig pairs(boolean v) {
        pairs = v;
        return this;
    }

    TestConfig cipher(String v) {
        cipher = v;
        return this;
    }

    /** vl2 mode in plaintext (the JOIN in the clear, no sealed frames), as before encryption. */
    TestConfig plaintext() {
        return encryption(false);
    }

    TestConfig encryption(boolean v) {
        encryption = v;
        return this;
    }

    TestConfig tapOffload(boolean v) {
        tapOffload = v;
        return this;
    }

    TestConfig udpOffload(boolean v) {
        udpOffload = v;
        return this;
    }

    TestConfig trustOnFirstUse(boolean v) {
        trustOnFirstUse = v;
        return this;
    }

    TestConfig switchKey(String v) {
        switchKey = v;
        return this;
    }

    TestConfig vni(int v) {
        vni = v;
        return this;
    }

    TestConfig network(String v) {
        network = v;
        return this;
    }

    TestConfig name(String v) {
        name = v;
        return this;
    }

    TestConfig identityFile(String v) {
        identityFile = v;
        return this;
    }

    TestConfig keepaliveSeconds(int v) {
        keepaliveSeconds = v;
        return this;
    }

    TestConfig switchAddress(String v) {
        switchAddress = v;
        return this;
    }

    TestConfig tapName(String v) {
        tapName = v;
        return this;
    }

    TestConfig mtu(int v) {
        mtu = v;
        return this;
    }

    TestConfig mac(String v) {
        mac = v;
        return this;
    }

    TestConfig address(String v) {
        address = v;
        return this;
    }

    TestConfig address6(String v) {
        address6 = v;
        return this;
    }

    TestConfig bridge(String v) {
        bridge = v;
        return this;
    }

    TestConfig mode(String v) {
        mode = v;
        return this;
    }

    @Override
    public Class<? extends Annotation> annotationType() {
        return AgentConfig.Config.class;
    }

    @Override
    public String switch_address() {
        return switchAddress;
    }

    @Override
    public String tap_name() {
        return tapName;
    }

    @Override
    public int mtu() {
        return mtu;
    }

    @Override
    public String mac() {
        return mac;
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public String address6() {
        return address6;
    }

    @Override
    public String bridge() {
        return bridge;
    }

    @Override
    public String mode() {
        return mode;
    }

    @Override
    public int keepalive_seconds() {
        return keepaliveSeconds;
    }

    @Override
    public String network() {
        return network;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String identity_file() {
        return identityFile;
    }

    @Override
    public int vni() {
        return vni;
    }

    @Override
    public boolean encryption() {
        return encryption;
    }

    @Override
    public String switch_key() {
        return switchKey;
    }

    @Override
    public boolean tap_offload() {
        return tapOffload;
    }

    @Override
    public boolean udp_offload() {
        return udpOffload;
    }

    @Override
    public String cipher() {
        return cipher;
    }

    @Override
    public boolean pairs() {
        return pairs;
    }

    @Override
    public boolean direct() {
        return direct;
    }

    @Override
    public boolean trust_on_first_use() {
        return trustOnFirstUse;
    }

    @Override
    public String transport() {
        return transport;
    }

    @Override
    public int tcp_port() {
        return tcpPort;
    }

    @Override
    public boolean tcp_tls() {
        return tcpTls;
    }

    @Override
    public String proxy() {
        return proxy;
    }

    boolean acceptRoutes = false;
    boolean acceptDefaultRoute = false;
    boolean gateway = false;
    String masquerade = "";

    @Override
    public boolean accept_routes() {
        return acceptRoutes;
    }

    @Override
    public boolean accept_default_route() {
        return acceptDefaultRoute;
    }

    @Override
    public boolean gateway() {
        return gateway;
    }

    @Override
    public String masquerade() {
        return masquerade;
    }
}
