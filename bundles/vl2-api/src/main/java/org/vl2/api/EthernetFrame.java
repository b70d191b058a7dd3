package org.vl2.api;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A zero-copy view of an Ethernet II frame held in a {@link ByteBuffer} between its position and limit.
 * Reads only; it never moves the buffer's position or limit. The view is a flyweight: a receive loop
 * keeps one and {@link #wrap(ByteBuffer) re-points} it at each frame, so parsing allocates nothing.
 * Not thread-safe; a view belongs to the thread that wraps it.
 *
 * <p>Layout: destination MAC (6), source MAC (6), then either the EtherType (2) or an 802.1Q tag
 * (TPID 0x8100 or 0x88a8, then TCI: PCP 3 bits, DEI 1 bit, VLAN id 12 bits) followed by the EtherType.
 */
public final class EthernetFrame {

    /** Destination + source + EtherType: anything shorter is a runt. */
    public static final int HEADER_LENGTH = 14;
    public static final int TPID_8021Q = 0x8100;
    public static final int TPID_8021AD = 0x88A8;
    /** VLAN id of untagged frames (and of priority-tagged frames, whose VID is 0). */
    public static final int UNTAGGED = 0;

    private ByteBuffer buffer;
    private int offset;
    private int length;

    /** A view pointing nowhere; call {@link #wrap(ByteBuffer)} before reading. */
    public EthernetFrame() {
    }

    /** A new view over the frame between {@code frame}'s position and limit. */
    public static EthernetFrame of(ByteBuffer frame) {
        return new EthernetFrame().wrap(frame);
    }

    /**
     * Re-points this view at the frame between {@code frame}'s position and limit.
     *
     * @throws IllegalArgumentException if the buffer is not in network (big-endian) byte order
     */
    public EthernetFrame wrap(ByteBuffer frame) {
        if (frame.order() != ByteOrder.BIG_ENDIAN) {
            throw new IllegalArgumentException("frame buffers must be in network byte order");
        }
        this.buffer = frame;
        this.offset = frame.position();
        this.length = frame.remaining();
        return this;
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    /** Frame length in bytes (without FCS, as TAP devices and UDP transports carry it). */
    public int length() {
        return length;
    }

    /** True when the frame is too short to hold an Ethernet header (and, if tagged, its tag). */
    public boolean isRunt() {
        return length < HEADER_LENGTH || (isTaggedUnchecked() && length < HEADER_LENGTH + 4);
    }

    /** Destination MAC in primitive form (see {@link MacAddress#toLong()}). */
    public long destinationBits() {
        return mac(offset);
    }

    /** Source MAC in primitive form. */
    public long sourceBits() {
        return mac(offset + 6);
    }

    public MacAddress destination() {
        return MacAddress.of(destinationBits());
    }

    public MacAddress source() {
        return MacAddress.of(sourceBits());
    }

    /** True if the frame carries an 802.1Q (or 802.1ad) tag after the source MAC. */
    public boolean hasVlanTag() {
        return length >= HEADER_LENGTH && isTaggedUnchecked();
    }

    /** VLAN id of the outer tag, or {@link #UNTAGGED}. */
    public int vlanId() {
        return hasVlanTag() && length >= HEADER_LENGTH + 4 ? buffer.getShort(offset + 14) & 0x0FFF : UNTAGGED;
    }

    /**
     * The outer tag's TPID, {@link #TPID_8021Q} or {@link #TPID_8021AD}, or 0 if untagged.
     *
     * @since 2.7
     */
    public int outerTpid() {
        return hasVlanTag() ? buffer.getShort(offset + 12) & 0xFFFF : 0;
    }

    /** Priority code point of the outer tag, 0 if untagged. */
    public int priority() {
        return hasVlanTag() && length >= HEADER_LENGTH + 4 ? (buffer.getShort(offset + 14) >>> 13) & 0x7 : 0;
    }

    /** The EtherType of the payload (after the tag if tagged); -1 if the frame is too short. */
    public int etherType() {
        if (hasVlanTag()) {
            return length >= HEADER_LENGTH + 4 ? buffer.getShort(offset + 16) & 0xFFFF : -1;
        }
        return length >= HEADER_LENGTH ? buffer.getShort(offset + 12) & 0xFFFF : -1;
    }

    /** Offset of the payload from the start of the frame (14, or 18 when tagged). */
    public int payloadOffset() {
        return hasVlanTag() ? HEADER_LENGTH + 4 : HEADER_LENGTH;
    }

    private boolean isTaggedUnchecked() {
        int tpid = buffer.getShort(offset + 12) & 0xFFFF;
        return tpid == TPID_8021Q || tpid == TPID_8021AD;
    }

    private long mac(int at) {
        if (length < at - offset + 6) {
            throw new IndexOutOfBoundsException("frame of " + length + " bytes has no MAC at " + (at - offset));
        }
        return ((buffer.getShort(at) & 0xFFFFL) << 32) | (buffer.getInt(at + 2) & 0xFFFF_FFFFL);
    }

    @Override
    public String toString() {
        if (length < HEADER_LENGTH) {
            return "EthernetFrame[runt, " + length + " bytes]";
        }
        return "EthernetFrame[" + MacAddress.toString(sourceBits()) + " > " + MacAddress.toString(destinationBits())
                + (hasVlanTag() ? ", vlan " + vlanId() : "")
                + ", type 0x" + Integer.toHexString(etherType()) + ", " + length + " bytes]";
    }
}
