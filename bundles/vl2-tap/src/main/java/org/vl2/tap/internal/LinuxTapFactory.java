package org.vl2.tap.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.sun.jna.Platform;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.TapFactory;
import org.vl2.tap.TapSettings;

/**
 * Creates Linux TAP devices through JNA and closes the ones still open when it is deactivated, so stopping
 * the bundle leaves no interface behind. The service registers even where TAP devices cannot work (wrong
 * OS, JNA's native part missing): {@link #create} then throws a {@link TapException} saying why, which
 * is easier to act on than a service that never appears.
 */
@Component(service = TapFactory.class)
public final class LinuxTapFactory implements TapFactory {

    private static final Logger LOG = LoggerFactory.getLogger(LinuxTapFactory.class);
    /** LP64 Linux architectures with the asm-generic ioctl numbering and the 40-byte struct ifreq. */
    private static final List<String> ARCHS = List.of("x86-64", "aarch64", "riscv64");

    private final Set<LinuxTapDevice> open = ConcurrentHashMap.newKeySet();

    @Activate
    void activate() {
        String why = unavailable();
        if (why == null) {
            LOG.info("Started: TAP devices through {} (JNA direct mapping)", TapErrors.TUN);
        } else {
            LOG.warn("Started, but TAP devices are unavailable: {}", why);
        }
    }

    @Deactivate
    void deactivate() {
        List<LinuxTapDevice> left = new ArrayList<>(open);
        for (LinuxTapDevice d : left) {
            d.close();
        }
        LOG.info("Stopped{}", left.isEmpty() ? "" : " (closed " + left.size() + " TAP device(s) still open: "
                + left.stream().map(LinuxTapDevice::name).reduce((a, b) -> a + ", " + b).orElse("") + ")");
    }

    @Override
    public TapDevice create(TapSettings settings) throws TapException {
        if (settings == null) {
            throw new IllegalArgumentException("settings are missing (TapSettings.defaults() for the defaults)");
        }
        String why = unavailable();
        if (why != null) {
            throw new TapException(why);
        }
        LinuxTapDevice device = LinuxTapDevice.create(settings, open::remove);
        open.add(device);
        LOG.debug("Created {} from {}", device, settings);
        return device;
    }

    /** Why TAP devices cannot work here, or null if they can. Probed once (loads JNA's native part). */
    String unavailable() {
        return probeOnce();
    }

    private static volatile String probedOnce;

    /**
     * {@link #probe()} once per class loader, for the factory and the other users of LibC (routes). Two threads may
     * both probe the first time: the same answer, stored twice.
     */
    static String probeOnce() {
        String p = probedOnce;
        if (p == null) {
            p = probe();
            probedOnce = p == null ? "" : p;
        }
        return p == null || p.isEmpty() ? null : p;
    }

    private static String probe() {
        if (!Platform.isLinux()) {
            return "TAP devices need Linux (/dev/net/tun); this is " + System.getProperty("os.name");
        }
        if (!ARCHS.contains(Platform.ARCH) || !Platform.is64Bit()) {
            return "vl2-tap supports Linux on " + ARCHS + " (the ioctl numbers and struct layouts it uses); this"
                    + " is " + Platform.ARCH;
        }
        try {
            if (!LibC.errnoWorks()) {
                return "JNA does not report errno, so errors could not be explained: remove the system property"
                        + " jna.preserve_last_error=false";
            }
        } catch (LinkageError e) {
            return "JNA's native library could not be loaded (" + e + "): install the com.sun.jna bundle with"
                    + " its native part (Karaf feature vl2-tap) and let it load from the bundle"
                    + " (jna.nosys=false, or a writable jna.tmpdir)";
        }
        return null;
    }
}
