package org.vl2.itests;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Builds and reads the test frames: Ethernet header, then an ASCII tag the tests match on. */
final class Frames {

    private Frames() {
    }

    static byte[] mac(String text) {
        String[] parts = text.split(":");
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return b;
    }

    /** An Ethernet frame (untagged when vlan < 0) of at least 60 bytes whose payload starts with {@code tag}. */
    static byte[] ethernet(String dst, String src, int vlan, String tag) {
        byte[] t = (tag + "\n").getBytes(StandardCharsets.US_ASCII);
        int header = vlan >= 0 ? 18 : 14;
        ByteBuffer b = ByteBuffer.allocate(Math.max(60, header + t.length));
        b.put(mac(dst)).put(mac(src));
        if (vlan >= 0) {
            b.putShort((short) 0x8100).putShort((short) vlan);
        }
        b.putShort((short) 0x88b5); // IEEE local experimental EtherType
        b.put(t);
        return b.array();
    }

    /** A frame of exactly {@code length} bytes. */
    static byte[] sized(String dst, String src, int length, String tag) {
        byte[] f = new byte[length];
        byte[] head = ethernet(dst, src, -1, tag);
        System.arraycopy(head, 0, f, 0, Math.min(head.length, length));
        return f;
    }

    /** The tag of a frame built by {@link #ethernet}, or null. */
    static String tag(byte[] frame) {
        if (frame.length < 14) {
            return null;
        }
        int start = (frame[12] & 0xff) == 0x81 && frame[13] == 0 ? 18 : 14;
        int end = start;
        while (end < frame.length && frame[end] != '\n' && frame[end] != 0) {
            end++;
        }
        return end < frame.length && frame[end] == '\n'
                ? new String(frame, start, end - start, StandardCharsets.US_ASCII) : null;
    }

    static String srcMac(byte[] frame) {
        return String.format("%02x:%02x:%02x:%02x:%02x:%02x", frame[6], frame[7], frame[8], frame[9], frame[10],
                frame[11]);
    }
}
