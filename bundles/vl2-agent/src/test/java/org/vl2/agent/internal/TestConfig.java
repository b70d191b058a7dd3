package org.vl2.agent.internal;

import java.lang.annotation.Annotation;

/** A {@link PortAgent.Config} with the annotation's defaults, changed field by field. */
final class TestConfig implements PortAgent.Config {

    String switchAddress = "127.0.0.1:9990";
    String tapName = PortAgent.DEFAULT_TAP_NAME;
    int mtu = PortAgent.DEFAULT_MTU;
    String mac = "";
    String address = "";
    String address6 = "";
    String bridge = "";
    String mode = "raw";
    int keepaliveSeconds = PortAgent.DEFAULT_KEEPALIVE_SECONDS;

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
        return PortAgent.Config.class;
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
}
