package org.vl2.netio;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;

import org.vl2.netio.internal.NioDatagramEndpoint;
import org.vl2.netio.internal.UdpBatchSocket;

/**
 * Opens {@link DatagramEndpoint}s: the batched one ({@link UdpBatchSocket}) where it works, else the one on Java NIO.
 * Callers that asked for a batch and got NIO say why with {@link #batchedUnavailableReason()}.
 */
public final class DatagramEndpoints {

    private DatagramEndpoints() {
    }

    /** Null when batched endpoints work here; otherwise why not (JNA missing or unusable, not 64-bit Linux). */
    public static String batchedUnavailableReason() {
        try {
            return UdpBatchSocket.unavailableReason();
        } catch (LinkageError e) {
            return "vl2-netio's batched I/O is not usable: " + e;
        }
    }

    /**
     * Opens an endpoint bound to {@code bind} with the given socket buffer sizes (the kernel caps them at
     * net.core.rmem_max/wmem_max): with {@code batch} 1..{@value DatagramEndpoint#MAX_BATCH} a batched one (with UDP
     * GSO/GRO where {@code offload} asks and the kernel has them) if {@link #batchedUnavailableReason()} is null,
     * else, and with {@code batch} 0, one on NIO.
     *
     * @throws BindException if the address is in use or not local; another {@link IOException} for other failures
     * @throws IllegalArgumentException if {@code batch} is out of range
     */
    public static DatagramEndpoint open(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes,
                                        int batch, boolean offload) throws IOException {
        if (batch < 0 || batch > DatagramEndpoint.MAX_BATCH) {
            throw new IllegalArgumentException("batch " + batch + " (must be 0.." + DatagramEndpoint.MAX_BATCH + ")");
        }
        if (batch > 0 && batchedUnavailableReason() == null) {
            return UdpBatchSocket.open(bind, receiveBufferBytes, sendBufferBytes, batch, offload);
        }
        return openNio(bind, receiveBufferBytes, sendBufferBytes);
    }

    /** Most sockets in one {@link #openGroup group}. */
    public static final int MAX_GROUP = 64;
    /** {@link #openGroup}'s {@code steerByte} for the kernel's own spread: a hash of source and destination. */
    public static final int KERNEL_HASH = -1;

    /**
     * Sockets bound to one address and port, each for a receive thread of its own: the kernel hands every datagram
     * to one of them, by the payload's byte at {@code steerByte}, or by its hash of source and destination
     * ({@link #KERNEL_HASH}; also for one socket, where it does not matter). {@code steeringRefused}: null, or why the
     * kernel refused the asked steering, so that the group spreads by the hash instead.
     */
    public record Group(List<DatagramEndpoint> endpoints, int steerByte, String steeringRefused) {
        public Group {
            endpoints = List.copyOf(endpoints);
        }

        public Group(List<DatagramEndpoint> endpoints, int steerByte) {
            this(endpoints, steerByte, null);
        }

        /** The first socket: the one a single-socket caller uses, and where the group's address is read. */
        public DatagramEndpoint first() {
            return endpoints.get(0);
        }

        /** Closes every socket of the group. */
        public void close() {
            endpoints.forEach(DatagramEndpoint::close);
        }
    }

    /**
     * Opens {@code sockets} endpoints (as {@link #open}) on one address and port. One socket is a plain one. More
     * form a reuseport group (SO_REUSEPORT): the kernel spreads the datagrams over them, by the hash of source and
     * destination address and port ({@code steerByte} {@link #KERNEL_HASH}), or, on batched endpoints, by the payload's
     * byte at {@code steerByte} modulo {@code sockets}: datagrams that carry the same byte there always reach the same
     * socket whatever their source (the vl2 transport steers by a session's index, so a member whose NAT mapping
     * changes stays on its thread). A datagram too short for that byte goes to the first socket; NIO endpoints get the
     * kernel's hash, and so does a group whose kernel refuses the steering program (SO_ATTACH_REUSEPORT_CBPF: an old
     * kernel, a seccomp policy): its sockets work, {@link Group#steeringRefused} says why, for the caller to say once.
     *
     * <p>A reuseport group admits any later socket of the same user that sets SO_REUSEPORT. So that a second switch
     * still finds the port taken, a plain socket is bound first and the group replaces it: a port in use by anyone
     * fails with {@link BindException} as a single socket does (a second process that binds in the few microseconds
     * between would join the group instead).
     *
     * @throws BindException if the address is in use or not local; another {@link IOException} for other failures
     * @throws IllegalArgumentException if {@code batch} or {@code sockets} is out of range
     */
    public static Group openGroup(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes, int batch,
                                  boolean offload, int sockets, int steerByte) throws IOException {
        return openGroup(bind, receiveBufferBytes, sendBufferBytes, batch, offload, sockets, steerByte,
                UdpBatchSocket::steerByPayloadByte);
    }

    /** Attaches the steering program to the first socket of a group (tests: a kernel that refuses it). */
    interface Steering {
        void attach(UdpBatchSocket first, int steerByte, int sockets) throws SocketException;
    }

    static Group openGroup(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes, int batch,
                           boolean offload, int sockets, int steerByte, Steering steering) throws IOException {
        if (sockets < 1 || sockets > MAX_GROUP) {
            throw new IllegalArgumentException("sockets " + sockets + " (must be 1.." + MAX_GROUP + ")");
        }
        if (sockets == 1) {
            return new Group(List.of(open(bind, receiveBufferBytes, sendBufferBytes, batch, offload)), KERNEL_HASH);
        }
        if (batch < 0 || batch > DatagramEndpoint.MAX_BATCH) {
            throw new IllegalArgumentException("batch " + batch + " (must be 0.." + DatagramEndpoint.MAX_BATCH + ")");
        }
        boolean batched = batch > 0 && batchedUnavailableReason() == null;
        InetSocketAddress at;
        try (DatagramEndpoint probe = openNio(bind, 65536, 65536)) {
            at = new InetSocketAddress(bind.getAddress(), probe.localAddress().getPort()); // port 0: the one picked
        }
        List<DatagramEndpoint> group = new ArrayList<>(sockets);
        try {
            for (int i = 0; i < sockets; i++) {
                group.add(batched
                        ? UdpBatchSocket.open(at, receiveBufferBytes, sendBufferBytes, batch, offload, true)
                        : NioDatagramEndpoint.open(at, receiveBufferBytes, sendBufferBytes, true));
            }
            if (batched && steerByte >= 0) {
                try {
                    steering.attach((UdpBatchSocket) group.get(0), steerByte, sockets);
                } catch (SocketException refused) {
                    // the group works as it is, spread by the kernel's hash: better than no switch at all
                    return new Group(group, KERNEL_HASH, refused.getMessage());
                }
                return new Group(group, steerByte);
            }
            return new Group(group, KERNEL_HASH);
        } catch (IOException | RuntimeException e) {
            group.forEach(DatagramEndpoint::close);
            throw e;
        }
    }

    /** An endpoint on Java NIO: one datagram per system call, no JNA. */
    public static DatagramEndpoint openNio(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes)
            throws IOException {
        return NioDatagramEndpoint.open(bind, receiveBufferBytes, sendBufferBytes);
    }
}
