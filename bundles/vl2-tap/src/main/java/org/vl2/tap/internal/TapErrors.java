package org.vl2.tap.internal;

import org.vl2.tap.Cidr;
import org.vl2.tap.TapException;

/**
 * Turns a failed system call into a {@link TapException} whose message says what failed, why, and what to
 * do about it, and ends with the errno for support: {@code <what>: <fix> [errno 16 EBUSY: ...]}.
 */
final class TapErrors {

    static final String TUN = "/dev/net/tun";
    static final String CAP_FIX = "needs CAP_NET_ADMIN: run as root or grant the capability"
            + " (AmbientCapabilities=CAP_NET_ADMIN in a systemd unit, or 'setcap cap_net_admin+ep' on the java"
            + " binary; in a container also --cap-add NET_ADMIN --device /dev/net/tun)";

    private TapErrors() {
    }

    static TapException of(String message, int errno) {
        return new TapException(message + " [" + Errno.describe(errno) + "]", errno);
    }

    private static boolean permission(int errno) {
        return errno == Errno.EPERM || errno == Errno.EACCES;
    }

    static TapException openTun(int errno) {
        switch (errno) {
            case Errno.ENOENT:
                return of(TUN + " does not exist: load the tun module with 'modprobe tun' (if it is loaded, create"
                        + " the node: 'mkdir -p /dev/net && mknod /dev/net/tun c 10 200'; in a container pass"
                        + " --device /dev/net/tun)", errno);
            case Errno.ENODEV:
            case Errno.ENXIO:
                return of(TUN + " has no driver behind it: load the tun module with 'modprobe tun'", errno);
            case Errno.EPERM:
            case Errno.EACCES:
                return of("cannot open " + TUN + ": " + CAP_FIX, errno);
            case Errno.EMFILE:
            case Errno.ENFILE:
                return of("cannot open " + TUN + ": out of file descriptors: raise the limit (ulimit -n,"
                        + " LimitNOFILE=) or close unused devices", errno);
            default:
                return of("cannot open " + TUN, errno);
        }
    }

    static TapException createTap(String name, int errno) {
        if (permission(errno)) {
            return of("creating TAP device " + name + " " + CAP_FIX, errno);
        }
        switch (errno) {
            case Errno.EBUSY:
            case Errno.EEXIST:
                // Only suggest deleting it when it is a TAP/TUN device (a leftover); never for eth0 and friends.
                if (java.nio.file.Files.exists(java.nio.file.Path.of("/sys/class/net", name, "tun_flags"))) {
                    return of("TAP device " + name + " exists: choose another --tap name, or delete it with"
                            + " 'ip link del " + name + "' if it is a leftover", errno);
                }
                return of("device " + name + " exists and is not a TAP device: choose another --tap name", errno);
            case Errno.EINVAL:
                return of("the kernel refused TAP device name '" + name + "': use 1 to 15 characters without"
                        + " '/', ':' or whitespace, or leave the name empty to get tapN", errno);
            case Errno.ENFILE:
                return of("no free number for TAP device name template '" + name + "': delete unused devices"
                        + " or choose another name", errno);
            default:
                return of("cannot create TAP device " + name, errno);
        }
    }

    static TapException socket(String family, int errno) {
        if (errno == Errno.EAFNOSUPPORT) {
            return of("cannot configure an " + family + " address: " + family + " is not available in this"
                    + " kernel (booted with ipv6.disable=1?): drop the " + family + " setting or enable it", errno);
        }
        return of("cannot open an " + family + " control socket to configure the device", errno);
    }

    static TapException ifIndex(String name, int errno) {
        return of("TAP device " + name + " vanished while being configured (no ifindex): is something else"
                + " deleting interfaces?", errno);
    }

    static TapException mtu(String name, int mtu, int errno) {
        if (permission(errno)) {
            return of("setting MTU " + mtu + " on " + name + " " + CAP_FIX, errno);
        }
        return of("cannot set MTU " + mtu + " on " + name + ": a TAP device accepts 68..65521", errno);
    }

    static TapException mac(String name, Object mac, int errno) {
        if (permission(errno)) {
            return of("setting MAC " + mac + " on " + name + " " + CAP_FIX, errno);
        }
        if (errno == Errno.EADDRNOTAVAIL || errno == Errno.EINVAL) {
            return of("the kernel refused MAC " + mac + " on " + name + ": use a unicast, non-zero address such"
                    + " as 02:00:5e:10:00:01", errno);
        }
        return of("cannot set MAC " + mac + " on " + name, errno);
    }

    static TapException bridgeNotFound(String bridge, int errno) {
        return of("bridge " + bridge + " not found: create it with 'ip link add " + bridge + " type bridge'"
                + " (and 'ip link set " + bridge + " up')", errno);
    }

    static TapException enslave(String name, String bridge, int errno) {
        if (permission(errno)) {
            return of("adding " + name + " to bridge " + bridge + " " + CAP_FIX, errno);
        }
        switch (errno) {
            case Errno.EOPNOTSUPP:
            case Errno.EINVAL:
            case Errno.ENOPKG:
                return of(bridge + " is not a Linux bridge, cannot add " + name + " to it: name an existing"
                        + " bridge ('ip link show type bridge' lists them)", errno);
            case Errno.EBUSY:
                return of(name + " is already a port of another master device, cannot add it to bridge " + bridge,
                        errno);
            case Errno.ELOOP:
                return of("adding " + name + " to bridge " + bridge + " would make a loop", errno);
            default:
                return of("cannot add " + name + " to bridge " + bridge, errno);
        }
    }

    static TapException address(String name, Cidr cidr, String step, int errno) {
        String a = cidr.toString();
        if (errno == Errno.EPERM) {
            return of("adding address " + a + " to " + name + " " + CAP_FIX, errno);
        }
        if (cidr.isIpv6() && errno == Errno.EACCES) {
            return of("cannot add " + a + " to " + name + ": IPv6 is disabled on new interfaces: enable it with"
                    + " 'sysctl -w net.ipv6.conf.default.disable_ipv6=0' or drop the ipv6 setting", errno);
        }
        switch (errno) {
            case Errno.EEXIST:
                return of("address " + a + " already exists on " + name + ": choose another address", errno);
            case Errno.EADDRNOTAVAIL:
            case Errno.EINVAL:
                return of("the kernel refused address " + a + " on " + name + " (" + step + "): use a host"
                        + " address with a valid prefix, e.g. 10.1.1.101/24 or fd00::1/64", errno);
            default:
                return of("cannot add address " + a + " to " + name + " (" + step + ")", errno);
        }
    }

    static TapException up(String name, int errno) {
        if (permission(errno)) {
            return of("bringing " + name + " up " + CAP_FIX, errno);
        }
        return of("cannot bring " + name + " up", errno);
    }

    static TapException readBack(String name, String what, int errno) {
        return of("cannot read back the " + what + " of " + name, errno);
    }

    static TapException eventFd(int errno) {
        return of("cannot create the eventfd that wakes up readers on close: out of file descriptors? (ulimit -n)",
                errno);
    }

    static TapException deleted(String name, int errno) {
        return of("TAP device " + name + " was deleted by someone else ('ip link del " + name + "'?): close this"
                + " device and create a new one", errno);
    }

    static TapException read(String name, int errno) {
        return of("reading a frame from TAP device " + name + " failed", errno);
    }

    static TapException write(String name, int length, boolean offload, int errno) {
        if (errno == Errno.EINVAL) {
            if (offload) {
                return of("TAP device " + name + " refused a frame of " + length + " bytes: with offload a write"
                        + " needs the 10-byte virtio header, describing the frame correctly (hdr_len, csum_start,"
                        + " gso_type), followed by at least the 14-byte Ethernet header", errno);
            }
            return of("TAP device " + name + " refused a frame of " + length + " bytes: a frame needs at least"
                    + " the 14-byte Ethernet header", errno);
        }
        return of("writing a frame of " + length + " bytes to TAP device " + name + " failed", errno);
    }

    static TapException offloadRefused(String name, int errno) {
        return of("TAP device " + name + ": the kernel refused TUNSETOFFLOAD (checksum and TSO offload); working"
                + " without offload (turn offload off in the settings to silence this)", errno);
    }

    static TapException closed(String name) {
        return new TapException("TAP device " + name + " is closed: create a new one");
    }
}
