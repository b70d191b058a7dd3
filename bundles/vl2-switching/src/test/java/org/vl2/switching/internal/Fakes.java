package org.vl2.switching.internal;

import java.lang.annotation.Annotation;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;

/** Test doubles for the switch core: an in-memory transport, a map-backed MAC table, configs. */
final class Fakes {

    private Fakes() {
    }

    static SwitchConfig config(String policy, int maxFrame, long idleSeconds, int maxPorts) {
        return config(policy, maxFrame, idleSeconds, maxPorts, 1000);
    }

    static SwitchConfig config(String policy, int maxFrame, long idleSeconds, int maxPorts, int stormPps) {
        return config(policy, maxFrame, idleSeconds, maxPorts, stormPps, true);
    }

    static SwitchConfig config(String policy, int maxFrame, long idleSeconds, int maxPorts, int stormPps,
                               boolean allowPlaintext) {
        return new SwitchConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return SwitchConfig.class;
            }

            @Override
            public String policy() {
                return policy;
            }

            @Override
            public int max_frame_size() {
                return maxFrame;
            }

            @Override
            public long port_idle_timeout_seconds() {
                return idleSeconds;
            }

            @Override
            public int max_ports() {
                return maxPorts;
            }

            @Override
            public int keepalive_seconds() {
                return 10;
            }

            @Override
            public int storm_control_pps() {
                return stormPps;
            }

            @Override
            public boolean allow_plaintext() {
                return allowPlaintext; // most tests here drive the plaintext protocol; EncryptedProtocolTest does not
            }
        };
    }

    static SwitchConfig defaults() {
        return config("learning", 1522, 300, 1024);
    }

    static SocketAddress endpoint(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    /** Builds an Ethernet frame; vlan < 0 means untagged. */
    static ByteBuffer frame(String dst, String src, int vlan, int payload) {
        int len = 14 + (vlan >= 0 ? 4 : 0) + payload;
        ByteBuffer b = ByteBuffer.allocateDirect(len);
        b.put(MacAddress.valueOf(dst).toBytes()).put(MacAddress.valueOf(src).toBytes());
        if (vlan >= 0) {
            b.putShort((short) 0x8100).putShort((short) vlan);
        }
        b.putShort((short) 0x0800);
        while (b.hasRemaining()) {
            b.put((byte) 0x5a);
        }
        return b.flip();
    }

    /** A transport that records what the switch sends and lets a test inject received frames. */
    static final class FakeTransport implements Transport {
        final String name;
        final String mode;
        final Map<SocketAddress, List<byte[]>> sent = new HashMap<>();
        FrameReceiver receiver;
        boolean failSends;
        int starts;
        int stops;

        FakeTransport(String name) {
            this(name, "raw");
        }

        FakeTransport(String name, String mode) {
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
        public synchronized boolean send(SocketAddress remote, ByteBuffer frame) {
            if (failSends) {
                return false;
            }
            byte[] copy = new byte[frame.remaining()];
            frame.duplicate().get(copy);
            sent.computeIfAbsent(remote, k -> new ArrayList<>()).add(copy);
            return true;
        }

        /** Delivers a frame as if it arrived from {@code from}; checks the receiver leaves the buffer usable. */
        void inject(SocketAddress from, ByteBuffer frame) {
            receiver.receive(this, from, frame.duplicate());
        }

        /** The last datagram sent to {@code to}, or null. */
        synchronized byte[] last(SocketAddress to) {
            List<byte[]> l = sent.get(to);
            return l == null || l.isEmpty() ? null : l.get(l.size() - 1);
        }

        int sentTo(SocketAddress to) {
            return sent.getOrDefault(to, List.of()).size();
        }

        int sentTotal() {
            return sent.values().stream().mapToInt(List::size).sum();
        }

        void clear() {
            sent.clear();
        }
    }

    /** A simple, synchronized MAC table: enough to test the switch core's use of it. */
    static final class MapMacTable implements MacTableAdminService {
        private record Key(long network, int vlan, long mac) {
        }

        private record Value(PortId port, boolean isStatic) {
        }

        private final Map<Key, Value> map = new HashMap<>();
        int learnCalls;

        @Override
        public synchronized PortId lookup(long network, int vlan, long mac) {
            Value v = map.get(new Key(network, vlan, mac));
            return v == null ? null : v.port;
        }

        @Override
        public synchronized Optional<MacEntry> entry(long network, int vlan, MacAddress mac) {
            Value v = map.get(new Key(network, vlan, mac.toLong()));
            return v == null ? Optional.empty() : Optional.of(new MacEntry(network, vlan, mac, v.port, v.isStatic, 0, 0));
        }

        @Override
        public synchronized List<MacEntry> entries() {
            List<MacEntry> list = new ArrayList<>();
            map.forEach((k, v) -> list.add(new MacEntry(k.network, k.vlan, MacAddress.of(k.mac), v.port, v.isStatic,
                    0, 0)));
            return list;
        }

        @Override
        public synchronized int size() {
            return map.size();
        }

        @Override
        public MacTableStatistics statistics() {
            return new MacTableStatistics(size(), 0, 8192, 0, 300, 0, 0, 0, 0, 0);
        }

        @Override
        public synchronized LearnResult learn(long network, int vlan, long mac, PortId port) {
            learnCalls++;
            Key k = new Key(network, vlan, mac);
            Value v = map.get(k);
            if (v != null && v.isStatic) {
                return LearnResult.STATIC;
            }
            map.put(k, new Value(port, false));
            return v == null ? LearnResult.LEARNED : v.port.equals(port) ? LearnResult.REFRESHED : LearnResult.MOVED;
        }

        @Override
        public synchronized void addStatic(long network, int vlan, MacAddress mac, PortId port) {
            map.put(new Key(network, vlan, mac.toLong()), new Value(port, true));
        }

        @Override
        public synchronized boolean remove(long network, int vlan, MacAddress mac) {
            return map.remove(new Key(network, vlan, mac.toLong())) != null;
        }

        @Override
        public synchronized int flush() {
            int before = map.size();
            map.values().removeIf(v -> !v.isStatic);
            return before - map.size();
        }

        @Override
        public synchronized int flushPort(PortId port) {
            int before = map.size();
            map.values().removeIf(v -> !v.isStatic && v.port.equals(port));
            return before - map.size();
        }

        @Override
        public synchronized int flushMac(MacAddress mac) {
            int before = map.size();
            map.keySet().removeIf(k -> k.mac == mac.toLong() && !map.get(k).isStatic);
            return before - map.size();
        }
    }
}
