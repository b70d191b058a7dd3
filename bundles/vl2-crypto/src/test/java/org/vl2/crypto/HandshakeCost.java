package org.vl2.crypto;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

import javax.crypto.Cipher;

/**
 * What the switch's CPU per handshake and per keepalive goes to, without a switch: a measurement (a {@code main}, no
 * timed assertions), not a test. CPU time of the measuring thread (ThreadMXBean, so the load of a shared machine
 * costs wall time, not the figure) and bytes allocated, per operation: the responder's whole handshake as the switch
 * runs it (consume + respond: members rekeying again and again, as at 10k members, and a member's first handshake), its parts (X25519, key pair,
 * HKDF, hashing, the handshake's AEAD, JCA look-ups) and a keepalive (open the sealed KEEPALIVE, seal the ACK).
 *
 * <pre>
 * cd bundles/vl2-crypto &amp;&amp; java -cp target/classes:target/test-classes:$HOME/.m2/repository/org/bouncycastle/bcprov-jdk18on/1.83/bcprov-jdk18on-1.83.jar \
 *     org.vl2.crypto.HandshakeCost [seconds per figure, default 2] [rounds, default 2]
 * </pre>
 */
public final class HandshakeCost {

    /** Members rekeying in turn: each initiation of a batch is newer than its member's previous one. */
    private static final int MEMBERS = 64;
    private static final int BATCH = 32;

    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private HandshakeCost() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        System.out.println(System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs, X25519 " + X25519.engine()
                + ", load average " + ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        List<Identity> members = new ArrayList<>();
        for (int i = 0; i < MEMBERS; i++) {
            members.add(Identity.generate());
        }
        Identity sw = Fixtures.SWITCH;
        TimestampGuard guard = new TimestampGuard();
        byte[] welcome = new byte[60];
        CipherSuite suite = CipherPolicy.auto().offer().get(0);

        byte[] peer = Identity.generate().publicKey();
        Keepalive[] keepalives = {new Keepalive(CipherSuite.AES_256_GCM), new Keepalive(CipherSuite.CHACHA20_POLY1305)};
        byte[] ikm = new byte[32];
        byte[] ck = SymmetricState.hash(SymmetricState.CONSTRUCTION);
        byte[] plain = new byte[64];
        byte[] key = new byte[32];
        byte[] nonce = new byte[12];
        for (int round = 0; round <= rounds; round++) {
            boolean print = round > 0; // round 0 warms every path up
            double t = print ? seconds : seconds / 2;
            if (print) {
                System.out.println("round " + round + ":");
            }
            batches(print, "responder handshake, a member's rekey", t, members, sw, guard, welcome, suite);
            batches(print, "responder handshake, first of a member", t, members, sw, null, welcome, suite);
            op(print, "  X25519 (one DH, the switch's key)", t, () -> X25519.dh(sw.privateKey(), peer, 0));
            op(print, "  X25519 ephemeral key pair", t, () -> X25519.publicKey(X25519.generate()));
            op(print, "  HKDF, 2 outputs", t, () -> Hkdf.expand(Hkdf.extract(ck, ikm), null, 64));
            op(print, "  SHA-256 mixHash (32 + 32 bytes)", t, () -> SymmetricState.hash(ck, ikm));
            op(print, "  ChaCha20-Poly1305 seal, 64 bytes", t, () -> Aead.seal(key, nonce, ck, plain));
            op(print, "  Mac.getInstance + init", t, () -> Hkdf.mac(key));
            op(print, "  MessageDigest.getInstance", t, () -> MessageDigest.getInstance("SHA-256"));
            op(print, "  Cipher.getInstance ChaCha20-Poly1305", t, () -> Cipher.getInstance(Aead.TRANSFORMATION));
            for (Keepalive k : keepalives) {
                op(print, "keepalive " + k.suite + " (agent seal, switch open + seal)", t, k::run);
            }
        }
    }

    interface Op {
        Object run() throws Exception;
    }

    private static void op(boolean print, String what, double seconds, Op op) throws Exception {
        long tid = Thread.currentThread().getId();
        long n = 0;
        long sink = 0;
        long allocated = MX.getThreadAllocatedBytes(tid);
        long cpu = MX.getCurrentThreadCpuTime();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            for (int i = 0; i < 16; i++) {
                sink += System.identityHashCode(op.run());
                n++;
            }
        }
        cpu = MX.getCurrentThreadCpuTime() - cpu;
        allocated = MX.getThreadAllocatedBytes(tid) - allocated;
        if (print) {
            print(what + (sink == 42 ? " " : ""), n, cpu, allocated);
        }
    }

    /**
     * Whole responder handshakes; the initiators' side (made in batches beforehand) is not counted. A null guard: a
     * new one for each handshake, so that the responder knows nothing of the member (its first handshake).
     */
    private static void batches(boolean print, String what, double seconds, List<Identity> members, Identity sw,
                                TimestampGuard guard, byte[] welcome, CipherSuite suite) throws CryptoException {
        long tid = Thread.currentThread().getId();
        long n = 0;
        long cpu = 0;
        long allocated = 0;
        List<Double> perBatch = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        int index = 1;
        while (System.nanoTime() < end) {
            byte[][] batch = new byte[BATCH][];
            for (int i = 0; i < BATCH; i++) {
                batch[i] = Initiator.create(members.get(index % MEMBERS), sw.publicKey(), index++, new byte[52], null,
                        CipherPolicy.auto().offer()).initiation();
            }
            long a = MX.getThreadAllocatedBytes(tid);
            long c = MX.getCurrentThreadCpuTime();
            for (byte[] initiation : batch) {
                Responder.consume(sw, ByteBuffer.wrap(initiation), guard != null ? guard : new TimestampGuard())
                        .respond(index, welcome, Session.Limits.DEFAULT, suite);
            }
            c = MX.getCurrentThreadCpuTime() - c;
            cpu += c;
            perBatch.add(c / 1e3 / BATCH);
            allocated += MX.getThreadAllocatedBytes(tid) - a;
            n += BATCH;
        }
        if (print) {
            // the mean suffers most from other processes on the same cores: also the median and the least batch
            perBatch.sort(null);
            print(what, n, cpu, allocated);
            System.out.printf("  %-46s %8.2f us median, %8.2f us least of %d batches of %d%n", "",
                    perBatch.get(perBatch.size() / 2), perBatch.get(0), perBatch.size(), BATCH);
        }
    }

    private static void print(String what, long n, long cpuNanos, long allocated) {
        System.out.printf("  %-46s %8.2f us CPU %8d B allocated per op (%d ops)%n", what + ":", cpuNanos / 1e3 / n,
                allocated / n, n);
    }

    /** The switch's side of one sealed KEEPALIVE (24 + tag) and its ACK, as Vl2Ingress and Replies do it. */
    private static final class Keepalive {
        final CipherSuite suite;
        final Session agent;
        final Session sw;
        final ByteBuffer in = ByteBuffer.allocateDirect(64);
        final ByteBuffer out = ByteBuffer.allocateDirect(64);

        Keepalive(CipherSuite suite) throws CryptoException {
            this.suite = suite;
            Fixtures.Pair p = Fixtures.handshake(new Session.Limits(1L << 40, java.time.Duration.ofDays(1), java.time.Duration.ofDays(2)), suite);
            agent = p.agent();
            sw = p.sw();
        }

        Object run() throws CryptoException {
            long now = System.nanoTime();
            Fixtures.frame(in, 1, new byte[8]);
            int sealed = agent.seal(in, 0, 16, 8, now); // the agent's part, as small as the switch's seal below
            int plain = sw.open(in, 0, 16, sealed - 16, now);
            out.clear();
            out.put(0, in, 0, 16 + plain);
            return sw.seal(out, 0, 16, plain, now);
        }
    }
}
