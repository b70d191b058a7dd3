package org.vl2.api.spi;

import java.net.SocketAddress;
import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/** Where a {@link Transport} delivers the frames it receives: implemented by the switch core. */
@ProviderType
public interface FrameReceiver {

    /**
     * One frame from {@code source}, between {@code frame}'s position and limit. The buffer belongs to the
     * transport and is reused after the call returns: the receiver must not keep it. The receiver may move
     * position and limit. Called from the transport's receive thread(s), concurrently for different
     * transports.
     */
    void receive(Transport transport, SocketAddress source, ByteBuffer frame);
}
