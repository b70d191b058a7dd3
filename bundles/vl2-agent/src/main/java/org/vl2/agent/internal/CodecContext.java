package org.vl2.agent.internal;

/**
 * What every {@link FrameCodec} works with: the counters its drops go to, the link keeper it tells that the switch was
 * heard, the TAP device whose MTU bounds a frame, and {@code room}, the longest datagram the agent takes plus one
 * (one that fills it was truncated).
 */
record CodecContext(Counters counters, LinkKeeper links, TapPort tap, int room) {
}
