package org.vl2.tap.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Component;
import org.vl2.tap.KernelRoute;
import org.vl2.tap.Routing;
import org.vl2.tap.TapException;

/** {@link Routing} through rtnetlink ({@link Netlink}), one socket per call. */
@Component(service = Routing.class)
public final class LinuxRouting implements Routing {

    @Override
    public void add(KernelRoute route) throws TapException {
        available();
        try (Netlink n = new Netlink()) {
            n.modify(true, route);
        }
    }

    @Override
    public boolean delete(KernelRoute route) throws TapException {
        available();
        try (Netlink n = new Netlink()) {
            n.modify(false, route);
            return true;
        } catch (TapException e) {
            if (e.errno() == Errno.ESRCH) {
                return false; // gone already (its interface went, or someone deleted it)
            }
            throw e;
        }
    }

    @Override
    public KernelRoute lookup(InetAddress destination) throws TapException {
        available();
        try (Netlink n = new Netlink()) {
            return n.lookup(destination);
        } catch (TapException e) {
            if (e.errno() == Errno.ENETUNREACH || e.errno() == Errno.EHOSTUNREACH) {
                return null; // no route
            }
            throw e;
        }
    }

    @Override
    public List<KernelRoute> routes(boolean ipv4) throws TapException {
        available();
        List<KernelRoute> main = new ArrayList<>();
        try (Netlink n = new Netlink()) {
            for (KernelRoute r : n.dump(ipv4)) {
                if (r.table() == KernelRoute.MAIN) {
                    main.add(r);
                }
            }
        }
        return main;
    }

    @Override
    public int ifindex(String name) throws TapException {
        available();
        return LibC.if_nametoindex(name);
    }

    private static void available() throws TapException {
        String why = LinuxTapFactory.probeOnce();
        if (why != null) {
            throw new TapException(why.replace("TAP devices", "routes"));
        }
    }
}
