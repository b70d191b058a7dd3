package org.vl2.tap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import com.sun.jna.Library;
import com.sun.jna.Native;

import org.junit.jupiter.api.Test;
import org.vl2.tap.KernelRoute;
import org.vl2.tap.TapException;

/**
 * rtnetlink against the real kernel, in a namespace of its own: the calls run on a thread that entered it with
 * setns(2) (a netlink socket belongs to the namespace of the thread that opens it), so the host's table is never
 * touched. Root only.
 */
class LinuxRoutingTest {

    interface Setns extends Library {
        Setns C = Native.load("c", Setns.class);

        int setns(int fd, int nstype);

        int open(String path, int flags);

        int close(int fd);
    }

    private static final int CLONE_NEWNET = 0x40000000;

    @Test
    void addsLooksUpListsAndDeletesRoutesOfBothFamilies() throws Exception {
        Kernel.assumeRootAndTun();
        try (Netns netns = new Netns()) {
            String ns = netns.create();
            Kernel.run("-n", ns, "link", "add", "rta", "type", "veth", "peer", "name", "rtb");
            Kernel.run("-n", ns, "addr", "add", "10.77.0.1/24", "dev", "rta");
            Kernel.run("-n", ns, "addr", "add", "fd00:77::1/64", "dev", "rta", "nodad");
            Kernel.run("-n", ns, "link", "set", "rta", "up");
            Kernel.run("-n", ns, "link", "set", "rtb", "up");
            ExecutorService inside = Executors.newSingleThreadExecutor();
            try {
                in(inside, () -> {
                    int fd = Setns.C.open("/var/run/netns/" + ns, 0);
                    assertTrue(fd >= 0);
                    assertEquals(0, Setns.C.setns(fd, CLONE_NEWNET));
                    Setns.C.close(fd);
                    return null;
                });
                LinuxRouting routing = new LinuxRouting();
                int rta = in(inside, () -> routing.ifindex("rta"));
                assertTrue(rta > 0);
                assertEquals(0, (int) in(inside, () -> routing.ifindex("nosuchif0")));

                KernelRoute onLink = in(inside, () -> routing.lookup(InetAddress.getByName("10.77.0.9")));
                assertEquals(rta, onLink.ifindex());
                assertNull(onLink.gateway());
                assertNull(in(inside, () -> routing.lookup(InetAddress.getByName("192.0.2.1"))), "no default route");

                KernelRoute r4 = KernelRoute.of(InetAddress.getByName("10.88.0.0"), 16,
                        InetAddress.getByName("10.77.0.2"), rta, 5);
                KernelRoute r6 = KernelRoute.of(InetAddress.getByName("fd00:88::"), 48,
                        InetAddress.getByName("fd00:77::2"), rta, 7);
                in(inside, () -> {
                    routing.add(r4);
                    routing.add(r6);
                    return null;
                });
                String shown = Kernel.run("-n", ns, "route", "show", "proto", "118");
                assertTrue(shown.contains("10.88.0.0/16 via 10.77.0.2 dev rta metric 5"), shown);
                shown = Kernel.run("-n", ns, "-6", "route", "show", "proto", "118");
                assertTrue(shown.contains("fd00:88::/48 via fd00:77::2 dev rta metric 7"), shown);
                TapException twice = assertThrows(TapException.class, () -> in(inside, () -> {
                    routing.add(r4);
                    return null;
                }));
                assertEquals(17, twice.errno(), "EEXIST: " + twice.getMessage());

                KernelRoute via = in(inside, () -> routing.lookup(InetAddress.getByName("10.88.1.1")));
                assertEquals(InetAddress.getByName("10.77.0.2"), via.gateway());
                assertTrue(in(inside, () -> routing.routes(true)).stream().anyMatch(r -> r.prefixLength() == 16
                        && r.protocol() == KernelRoute.PROTO_VL2 && r.metric() == 5
                        && r.destination().equals(r4.destination())));
                assertTrue(in(inside, () -> routing.routes(true)).stream().anyMatch(r -> r.prefixLength() == 24
                        && r.protocol() == KernelRoute.PROTO_KERNEL && r.ifindex() == rta),
                        "the connected route is listed");
                assertTrue(in(inside, () -> routing.routes(false)).stream().anyMatch(r -> r.prefixLength() == 48));

                assertTrue(in(inside, () -> routing.delete(r4)));
                assertTrue(in(inside, () -> routing.delete(r6)));
                assertFalse(in(inside, () -> routing.delete(r4)), "gone: false, not an error");
                assertEquals("", Kernel.run("-n", ns, "route", "show", "proto", "118").trim());

                TapException unreachable = assertThrows(TapException.class, () -> in(inside, () -> {
                    routing.add(KernelRoute.of(InetAddress.getByName("10.99.0.0"), 16,
                            InetAddress.getByName("10.66.0.1"), rta, 0));
                    return null;
                }));
                assertTrue(unreachable.getMessage().contains("ENETUNREACH"), unreachable.getMessage());
            } finally {
                inside.shutdownNow();
                inside.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static <T> T in(ExecutorService thread, Callable<T> call) throws Exception {
        try {
            return thread.submit(call).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw e;
        }
    }
}
