import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A rogue port for the hardening tests, run as a single source file inside a test namespace
 * ({@code java Flood.java MODE HOST PORTS COUNT}):
 * <ul>
 * <li>{@code macs}: COUNT raw-mode broadcast frames, each from a new random source MAC (a MAC flood);</li>
 * <li>{@code garbage}: COUNT random datagrams (0..99 bytes, one in ten up to 9000), half of them behind a
 * plausible vl2 header (magic, version 1), spread over the comma-separated PORTS;</li>
 * <li>{@code initiations}: COUNT 256-byte handshake INITIATIONs (type 8) with a valid mac1 for the switch key KEY
 * (the 5th argument, base64) and random everything else: what anyone who knows the switch's public key can send.
 * Each passes mac1, so without cookies it would cost the switch two X25519 (docs/crypto.md, "Under load").</li>
 * </ul>
 * Fixed seed, so a failure can be replayed. Stopped early (SIGTERM), it prints how many it had sent by then, so a
 * test can flood "until it is done" with a COUNT it never reaches.
 */
public class Flood {

    public static void main(String[] args) throws Exception {
        if (args.length != 4 && !(args.length == 5 && args[0].equals("initiations"))) {
            System.err.println("usage: java Flood.java macs|garbage HOST PORT[,PORT...] COUNT, or"
                    + " java Flood.java initiations HOST PORT COUNT SWITCH_KEY");
            System.exit(2);
        }
        String mode = args[0];
        InetAddress host = InetAddress.getByName(args[1]);
        String[] ports = args[2].split(",");
        long count = Long.parseLong(args[3]);
        Random random = new Random(42);
        ByteBuffer b = ByteBuffer.allocate(9100);
        InetSocketAddress[] targets = new InetSocketAddress[ports.length];
        for (int i = 0; i < ports.length; i++) {
            targets[i] = new InetSocketAddress(host, Integer.parseInt(ports[i]));
        }
        Mac mac1 = null;
        if (mode.equals("initiations")) {
            // mac1 key = SHA-256("vl2 mac1" | the switch's public key)
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update("vl2 mac1".getBytes(StandardCharsets.US_ASCII));
            byte[] key = sha.digest(Base64.getDecoder().decode(args[4]));
            mac1 = Mac.getInstance("HmacSHA256");
            mac1.init(new SecretKeySpec(key, "HmacSHA256"));
        }
        long t0 = System.nanoTime();
        long[] sent = {0};
        Thread report = new Thread(() -> System.out.println("sent " + sent[0] + " in "
                + (System.nanoTime() - t0) / 1_000_000 + " ms"));
        Runtime.getRuntime().addShutdownHook(report);
        try (DatagramChannel channel = DatagramChannel.open()) {
            for (long i = 0; i < count; i++, sent[0] = i) {
                b.clear();
                if (mode.equals("macs")) {
                    b.put(new byte[] {-1, -1, -1, -1, -1, -1});
                    long mac = (random.nextLong() & 0xfeff_ffff_ffffL) | 0x0200_0000_0000L; // unicast, local
                    for (int k = 5; k >= 0; k--) {
                        b.put((byte) (mac >>> (8 * k)));
                    }
                    b.putShort((short) 0x88b5).put(new byte[46]);
                } else if (mac1 != null) {
                    byte[] msg = new byte[256]; // mac1 at 224, mac2 (zeros: no cookie) at 240
                    random.nextBytes(msg);
                    msg[0] = 0x56;
                    msg[1] = 1;
                    msg[2] = 8;
                    msg[3] = 0;
                    mac1.update(msg, 0, 224);
                    System.arraycopy(Arrays.copyOf(mac1.doFinal(), 16), 0, msg, 224, 16);
                    Arrays.fill(msg, 240, 256, (byte) 0);
                    b.put(msg);
                } else {
                    int length = random.nextInt(10) == 0 ? random.nextInt(9000) : random.nextInt(100);
                    byte[] junk = new byte[length];
                    random.nextBytes(junk);
                    if (length > 1 && random.nextBoolean()) {
                        junk[0] = 0x56;
                        junk[1] = 1;
                    }
                    b.put(junk);
                }
                b.flip();
                channel.send(b, targets[(int) (i % targets.length)]);
            }
        }
        // the shutdown hook prints the count
    }
}
