import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Random;

/**
 * A rogue port for the hardening tests, run as a single source file inside a test namespace
 * ({@code java Flood.java MODE HOST PORTS COUNT}):
 * <ul>
 * <li>{@code macs}: COUNT raw-mode broadcast frames, each from a new random source MAC (a MAC flood);</li>
 * <li>{@code garbage}: COUNT random datagrams (0..99 bytes, one in ten up to 9000), half of them behind a
 * plausible vl2 header (magic, version 1), spread over the comma-separated PORTS.</li>
 * </ul>
 * Fixed seed, so a failure can be replayed.
 */
public class Flood {

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: java Flood.java macs|garbage HOST PORT[,PORT...] COUNT");
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
        long t0 = System.nanoTime();
        try (DatagramChannel channel = DatagramChannel.open()) {
            for (long i = 0; i < count; i++) {
                b.clear();
                if (mode.equals("macs")) {
                    b.put(new byte[] {-1, -1, -1, -1, -1, -1});
                    long mac = (random.nextLong() & 0xfeff_ffff_ffffL) | 0x0200_0000_0000L; // unicast, local
                    for (int k = 5; k >= 0; k--) {
                        b.put((byte) (mac >>> (8 * k)));
                    }
                    b.putShort((short) 0x88b5).put(new byte[46]);
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
        System.out.println("sent " + count + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }
}
