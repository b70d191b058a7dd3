package org.vl2.tap;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Creates TAP devices. Registered as an OSGi service by the vl2-tap bundle (Linux only, through JNA).
 *
 * <p>The device lives in the network namespace of the calling thread (normally the host's), needs
 * {@code CAP_NET_ADMIN} there and access to {@code /dev/net/tun}, and exists exactly as long as its
 * {@link TapDevice}: closing it, or the end of the process, deletes it. Devices still open when the
 * factory goes away (bundle stopped) are closed then.
 */
@ProviderType
public interface TapFactory {

    /**
     * Creates, configures and (unless {@link TapSettings#up()} is false) brings up a TAP device. Either
     * every setting is applied or the device is deleted again and nothing is left behind.
     *
     * @throws TapException naming what failed and how to fix it: no {@code /dev/net/tun}, missing
     *                      {@code CAP_NET_ADMIN}, name in use, bridge not found, address refused, ...
     */
    TapDevice create(TapSettings settings) throws TapException;
}
