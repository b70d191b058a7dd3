import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.TreeMap;

/**
 * A raw-mode port for the sealed-network tests, run as a single source file inside a test namespace
 * ({@code java RawProbe.java HOST PORT SECONDS MAC}): what anyone on the underlay can do with the seed wire format.
 * Every 200 ms it sends one broadcast frame from MAC, EtherType 0x88b5, payload {@code vl2e2e:inject:<n>} (the
 * l2probe format: an l2probe receiver on a victim's TAP counts them), and it counts what comes back for SECONDS:
 * frames of another probe ({@code vl2e2e:inject:} from another MAC) and everything else, by EtherType. Prints
 * {@code ready} once its socket is open, then {@code sent S probes P other O types {...}} at the end. A datagram the
 * network refuses (ICMP port unreachable: nothing listens) is counted as {@code unreachable}, not as a frame.
 */
public class RawProbe {

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: java RawProbe.java HOST PORT SECONDS MAC");
            System.exit(2);
        }
        InetSocketAddress target = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        long end = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
        byte[] mac = new byte[6];
        String[] octets = args[3].split(":");
        for (int i = 0; i < 6; i++) {
            mac[i] = (byte) Integer.parseInt(octets[i], 16);
        }
        int sent = 0;
        int probes = 0;
        int other = 0;
        int unreachable = 0;
        TreeMap<String, Integer> types = new TreeMap<>();
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress(0));
            ch.socket().setSoTimeout(50);
            System.out.println("ready");
            System.out.flush();
            long nextSend = 0;
            ByteBuffer in = ByteBuffer.allocate(65535);
            while (System.nanoTime() < end) {
                if (System.nanoTime() >= nextSend) {
                    try {
                        ch.send(frame(mac, sent), target);
                        sent++;
                    } catch (java.io.IOException refused) {
                        unreachable++;
                    }
                    nextSend = System.nanoTime() + 200_000_000L;
                }
                in.clear();
                try {
                    ch.socket().receive(new java.net.DatagramPacket(in.array(), in.capacity()));
                } catch (SocketTimeoutException idle) {
                    continue;
                } catch (java.net.PortUnreachableException refused) {
                    unreachable++;
                    continue;
                }
                byte[] d = in.array();
                String text = new String(d, 14, 40, StandardCharsets.ISO_8859_1);
                boolean fromMe = java.util.Arrays.equals(d, 6, 12, mac, 0, 6);
                if (text.startsWith("vl2e2e:inject:") && !fromMe) {
                    probes++;
                } else {
                    other++;
                    types.merge(String.format("%02x%02x", d[12], d[13]), 1, Integer::sum);
                }
            }
        }
        System.out.println("sent " + sent + " probes " + probes + " other " + other + " unreachable " + unreachable
                + " types " + types);
    }

    private static ByteBuffer frame(byte[] mac, int n) {
        ByteBuffer f = ByteBuffer.allocate(60);
        for (int i = 0; i < 6; i++) {
            f.put((byte) 0xff);
        }
        f.put(mac).putShort((short) 0x88b5).put(("vl2e2e:inject:" + n).getBytes(StandardCharsets.US_ASCII));
        return f.position(60).flip();
    }
}
