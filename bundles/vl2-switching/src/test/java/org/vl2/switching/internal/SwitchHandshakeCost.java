package org.vl2.switching.internal;

import java.lang.management.ManagementFactory;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.crypto.CipherPolicy;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Initiator;
import org.vl2.crypto.Session;
import org.vl2.protocol.Join;
import org.vl2.protocol.Wire;

/**
 * What the switch spends per rekey handshake and per keepalive of an encrypted member, end to end through its vl2
 * ingress (Admission, the replay guard, the port registry, the RESPONSE; the sealed KEEPALIVE opened, the port
 * touched, the ACK sealed), without sockets or a 10k run: a measurement (a {@code main}), not a test. The handshakes
 * run inline on the measuring thread; CPU time (ThreadMXBean: a loaded machine costs wall time, not this figure) and
 * bytes allocated per operation. The agents' side (initiations, sealing their keepalives, opening the answers) is
 * made outside the measured spans. Logging is slf4j's no-op here (the switch writes an INFO line per handshake).
 *
 * <pre>
 * mvn -o -q -pl bundles/vl2-switching test-compile; cd bundles/vl2-switching; java -cp "target/classes:target/test-classes:$(cat cp.txt)" \
 *     org.vl2.switching.internal.SwitchHandshakeCost [seconds per figure, default 3] [rounds, default 2]
 * </pre>
 * (cp.txt: {@code mvn -o -q dependency:build-classpath -Dmdep.outputFile=cp.txt}; add Bouncy Castle's jar for its X25519.)
 */
public final class SwitchHandshakeCost {

    private static final long NET = 0xa1L;
    private static final int MEMBERS = 64;
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private SwitchHandshakeCost() {
    }

    /** A simulated member: its key, address and current session. */
    private static final class Member {
        final Identity identity = Identity.generate();
        final SocketAddress address;
        final byte[] join;
        Session session;
        long sequence;

        Member(int n) {
            address = TestFrames.endpoint(40000 + n);
            ByteBuffer b = ByteBuffer.allocate(64);
            new Join(NET, identity.memberId(), 10, 1518, 0, null, "m" + n).encode(b);
            join = java.util.Arrays.copyOf(b.array(), b.position());
        }
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        Path state = Files.createTempDirectory("vl2-handshake-cost");
        AtomicLong clock = new AtomicLong(1_000_000_000_000L);
        Identity switchIdentity = Identity.generate();
        FakeTransport vl2 = new FakeTransport("vl2", "vl2");
        SwitchCore sw = Fakes.vl2Switch(vl2, 4096, clock::get, state, switchIdentity, null);
        try {
            sw.bindNetwork(new NetworkDefinition(Vl2ProtocolTest.network(NET, "10.1.0.0/20", null)
                    .withPlaintext(false)));
            System.out.println(System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
                    + ", X25519 " + Identity.x25519Engine() + ", load average "
                    + ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            List<Member> members = new ArrayList<>();
            for (int i = 0; i < MEMBERS; i++) {
                members.add(new Member(i));
            }
            handshakes(false, 0, members, switchIdentity, vl2, clock); // every member joins once
            for (int round = 0; round <= rounds; round++) {
                boolean print = round > 0;
                double t = print ? seconds : seconds / 2;
                handshakes(print, t, members, switchIdentity, vl2, clock);
                keepalives(print, t, members, vl2, clock);
            }
        } finally {
            sw.deactivate();
        }
    }

    /**
     * Rekeys of the members in turn, each followed (unmeasured) by the keepalive that confirms it; at least one
     * for each member.
     */
    private static void handshakes(boolean print, double seconds, List<Member> members, Identity sw,
                                   FakeTransport vl2, AtomicLong clock) throws Exception {
        Meter meter = new Meter();
        long n = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        int index = 1;
        while (System.nanoTime() < end || n < members.size()) {
            Member m = members.get((int) (n % members.size()));
            Initiator i = Initiator.create(m.identity, sw.publicKey(), index++, m.join, null,
                    CipherPolicy.auto().offer());
            ByteBuffer initiation = ByteBuffer.wrap(i.initiation());
            clock.addAndGet(20_000_000L); // 50 a second: below the gate's budget, as rekeys at 10k members are
            vl2.clear();
            meter.measure(() -> vl2.inject(m.address, initiation));
            byte[] answer = vl2.last(m.address);
            if (answer == null || answer[2] != 9) {
                throw new IllegalStateException("no RESPONSE to member " + n % members.size());
            }
            m.session = i.consume(ByteBuffer.wrap(answer)).session();
            vl2.inject(m.address, ByteBuffer.wrap(keepalive(m))); // confirms the new session at the switch
            n++;
        }
        if (print) {
            meter.print("switch: rekey handshake (inline)", n);
        }
    }

    private static void keepalives(boolean print, double seconds, List<Member> members, FakeTransport vl2,
                                   AtomicLong clock) throws Exception {
        Meter meter = new Meter();
        long n = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            Member m = members.get((int) (n % members.size()));
            ByteBuffer k = ByteBuffer.wrap(keepalive(m));
            clock.addAndGet(1_000_000L);
            vl2.clear();
            meter.measure(() -> vl2.inject(m.address, k));
            byte[] ack = vl2.last(m.address);
            if (ack == null || ack[2] != Wire.KEEPALIVE_ACK) {
                throw new IllegalStateException("no KEEPALIVE-ACK to member " + n % members.size());
            }
            n++;
        }
        if (print) {
            meter.print("switch: keepalive (open, ACK sealed)", n);
        }
    }

    private static byte[] keepalive(Member m) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(16 + 8 + 16);
        b.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) Wire.KEEPALIVE)
                .put(3, (byte) Wire.FLAG_SEALED).putInt(4, m.session.remoteIndex()).putLong(16, ++m.sequence);
        m.session.seal(b, 0, 16, 8, System.nanoTime());
        return b.array();
    }

    /** CPU time and bytes allocated by the measuring thread in the spans it measured. */
    private static final class Meter {
        final long thread = Thread.currentThread().getId();
        long cpu;
        long allocated;

        void measure(Runnable r) {
            long a = MX.getThreadAllocatedBytes(thread);
            long c = MX.getCurrentThreadCpuTime();
            r.run();
            cpu += MX.getCurrentThreadCpuTime() - c;
            allocated += MX.getThreadAllocatedBytes(thread) - a;
        }

        void print(String what, long n) {
            System.out.printf("  %-40s %8.2f us CPU %8d B allocated per op (%d ops)%n", what + ":", cpu / 1e3 / n,
                    allocated / n, n);
        }
    }
}
