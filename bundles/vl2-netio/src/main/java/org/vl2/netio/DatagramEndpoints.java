package org.vl2.netio;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;

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

    /** An endpoint on Java NIO: one datagram per system call, no JNA. */
    public static DatagramEndpoint openNio(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes)
            throws IOException {
        return NioDatagramEndpoint.open(bind, receiveBufferBytes, sendBufferBytes);
    }
}
