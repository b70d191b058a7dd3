package org.vl2.tap;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;
import org.vl2.api.MacAddress;

/**
 * An open Linux TAP device: reads the Ethernet frames the kernel sends out of the interface and writes
 * frames the kernel receives on it. Frames are plain Ethernet frames without FCS and without a packet-info
 * header; without offload also without a virtio-net header.
 *
 * <p><b>Offload.</b> When {@link #offload()} is true (asked for with {@link TapSettings.Builder#offload}), every
 * buffer read holds a 10-byte {@link VirtioNetHeader} followed by the frame, and every buffer written must hold
 * one too. A read may then be a TCP superframe of up to 64 KiB ({@link #maxReadLength()}) that the kernel did
 * not segment, or a frame whose TCP/UDP checksum is only partial: {@link TsoSegmenter} turns reads into wire
 * frames of at most the MTU. A write may be a superframe made of coalesced segments ({@link TcpCoalescer}),
 * which the kernel takes in as one packet; a plain frame is written behind an all-zero header
 * ({@link VirtioNetHeader#putPlain}).
 *
 * <p><b>Buffers.</b> {@link #read} and {@link #write} take <em>direct</em> buffers only (they hand the
 * kernel the buffer's memory, no copy); heap buffers are refused with {@link IllegalArgumentException}.
 * Neither allocates anything per frame.
 *
 * <p><b>Threads.</b> One thread reading and another writing at the same time is the intended use (a port
 * agent's TAP-to-network and network-to-TAP directions). {@link #close()} may be called from any thread at
 * any time: a reader blocked in {@link #read} returns -1 promptly (within microseconds, not a polling
 * period). Several concurrent readers are safe but each frame goes to only one of them. A thread blocked
 * in {@link #read(ByteBuffer)} does not react to {@link Thread#interrupt()}: stop it with {@link #close()}
 * or use {@link #read(ByteBuffer, int)} and check for interruption between calls.
 *
 * <p><b>Lifetime.</b> The device is not persistent: {@link #close()} deletes the interface, together with
 * its addresses and its bridge membership. If someone else deletes it ({@code ip link del}), the next
 * read or write throws a {@link TapException} saying so.
 */
@ProviderType
public interface TapDevice extends AutoCloseable {

    /** Ethernet header (14 bytes) plus two VLAN tags (8 bytes): what a frame may add to {@link #mtu()}. */
    int FRAME_OVERHEAD = 22;

    /** The interface name, as the kernel chose it when the settings left it open (e.g. {@code tap0}). */
    String name();

    /** The kernel's interface index. */
    int ifIndex();

    /** The interface MTU as read back from the kernel after configuration. */
    int mtu();

    /** The interface MAC address as read back from the kernel (random unless the settings gave one). */
    MacAddress mac();

    /**
     * The longest wire frame of this device: {@link #mtu()} + {@value #FRAME_OVERHEAD}. Without offload, the
     * longest frame the kernel sends out of it (a read buffer with this much room never truncates a frame); with
     * offload, the longest frame once superframes are segmented (reads need {@link #maxReadLength()}).
     */
    int maxFrameLength();

    /** The settings the device was created from. */
    TapSettings settings();

    /**
     * The longest buffer a read can fill, with {@link #offload()}: virtio header (10) + Ethernet header (14) + two
     * VLAN tags (8: one the driver inserts from the packet's VLAN metadata, one inside the data) + an IP datagram
     * of 65535 bytes, the most the IPv4 length field allows. IPv6 superframes stay below it too: the tun device's
     * GSO limit is 64 KiB (GSO_LEGACY_MAX_SIZE; tun does not enable BIG TCP), and the TCP stack sizes its
     * superframes to that limit minus room for headers; a frame received and merged by GRO elsewhere is bounded
     * by the same 64 KiB. Frames without GSO are bounded by the MTU (at most 65521), so they fit as well.
     */
    int MAX_OFFLOAD_READ_LENGTH = VirtioNetHeader.LENGTH + 14 + 8 + 65_535;

    /**
     * Whether offload is in effect: every read returns, and every write needs, a {@value VirtioNetHeader#LENGTH}-byte
     * {@link VirtioNetHeader} in front of the frame (see the class comment). False when the settings did not ask
     * for it, and also when they did but the kernel refused TUNSETOFFLOAD: the device then works without offload
     * (plain frames, as if not asked), which its creator logs as a warning.
     */
    default boolean offload() {
        return false;
    }

    /**
     * The longest buffer one read can fill: {@link #MAX_OFFLOAD_READ_LENGTH} with {@link #offload()}, else
     * {@link #maxFrameLength()}. A read buffer with this much room never truncates.
     */
    default int maxReadLength() {
        return offload() ? MAX_OFFLOAD_READ_LENGTH : maxFrameLength();
    }

    /** False once {@link #close()} has been called. */
    boolean isOpen();

    /**
     * Reads one frame, blocking until one arrives or the device is closed (no timeout). Same as
     * {@link #read(ByteBuffer, int) read(dst, -1)}.
     */
    int read(ByteBuffer dst) throws TapException;

    /**
     * Reads one frame into {@code dst} at its position. With {@link #offload()} "the frame" is the virtio header
     * followed by the Ethernet frame, and {@code n} counts both: the Ethernet frame is at {@code [p + 10, p + n)}
     * and may be a superframe longer than the MTU; size buffers by {@link #maxReadLength()} then.
     *
     * <p>On success, with {@code p} the position on entry, the frame is stored at {@code [p, p + n)} and on
     * return <b>position is {@code p} and limit is {@code p + n}</b>: the buffer holds exactly the frame,
     * ready to be parsed or handed on (e.g. to a transport's send) without a flip. Before the next read,
     * {@code clear()} it (or set position and limit). If the frame is longer than {@code dst.remaining()},
     * the kernel stores what fits, drops the rest and reports only the bytes stored ({@code n} equals the
     * room): size buffers with at least {@link #maxReadLength()} bytes, and one more byte if truncation
     * must be detected ({@code n == room} then means truncated).
     *
     * <p>On timeout or when closed, position and limit are unchanged.
     *
     * @param dst           a direct, writable buffer with at least one byte remaining
     * @param timeoutMillis how long to wait for a frame: negative waits until a frame arrives or the device
     *                      is closed, 0 only takes a frame that is already queued
     * @return the frame length ({@code > 0}); 0 if the timeout passed with no frame; -1 if the device is
     *         closed (also when {@link #close()} is called while waiting)
     * @throws IllegalArgumentException if {@code dst} is not direct or has no room (with offload: less than the
     *                                  {@value VirtioNetHeader#LENGTH}-byte virtio header)
     * @throws java.nio.ReadOnlyBufferException if {@code dst} is read-only
     * @throws TapException if the read fails, e.g. because the interface was deleted by someone else
     */
    int read(ByteBuffer dst, int timeoutMillis) throws TapException;

    /**
     * Waits until a frame can be read, without reading it: for a reader that first takes what is queued
     * ({@link #read(ByteBuffer, int) read(dst, 0)}) and waits only when that found nothing, so that an idle device
     * costs one system call per wait rather than an empty read in front of every one.
     *
     * @param timeoutMillis how long to wait: negative without limit, 0 not at all
     * @return 1 when a frame (or an error, which the next read reports) is there, 0 after the timeout (or an
     *         interrupted wait), -1 if the device is closed (also when {@link #close()} is called while waiting)
     * @throws TapException if waiting itself fails
     */
    int awaitReadable(int timeoutMillis) throws TapException;

    /**
     * Writes one frame, the bytes between {@code frame}'s position and limit, to the kernel as if the
     * interface had received it. With {@link #offload()} those bytes are a {@link VirtioNetHeader} followed by the
     * Ethernet frame: all zero for a plain frame, or describing a coalesced superframe (of any length up to
     * 14 + 65535 bytes) as {@link TcpCoalescer#pending()} builds it. <b>Position and limit are unchanged</b> on
     * return (as with
     * {@code Transport.send}), so the same buffer can be written again or elsewhere. Does not block: a TAP
     * device accepts or drops a frame at once.
     *
     * @param frame a direct buffer holding a whole Ethernet frame (at least 14 bytes: destination, source,
     *              EtherType; at most {@link #maxFrameLength()} to be useful), with offload behind a virtio
     *              header
     * @throws IllegalArgumentException if {@code frame} is not direct
     * @throws TapException if the device is closed or the kernel refuses the frame (EINVAL for a frame
     *                      shorter than an Ethernet header, or with offload for a virtio header that does not
     *                      fit the frame); {@link TapException#errno()} tells which
     */
    void write(ByteBuffer frame) throws TapException;

    /**
     * Closes the device, which deletes the interface. Wakes up blocked readers (they return -1) and waits
     * for calls in progress to leave the kernel before releasing the file descriptor, so no read or write
     * ever lands on a recycled descriptor. Idempotent; never throws. Readers return within about 0.2 ms,
     * but close itself takes longer (15 to 100 ms measured) because the kernel deletes the interface
     * synchronously: do not call it on a latency-sensitive thread.
     */
    @Override
    void close();
}
