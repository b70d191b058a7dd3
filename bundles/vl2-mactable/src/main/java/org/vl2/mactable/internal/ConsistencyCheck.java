package org.vl2.mactable.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.vl2.api.PortId;

/**
 * The MAC table's invariants, checked as a whole under its writer lock (for tests and diagnostics): every live
 * slot holds a sound entry of its own table, the network index holds exactly the non-empty tables, and the
 * sizes, static count and per-port counts match what the tables hold.
 */
final class ConsistencyCheck {

    private ConsistencyCheck() {
    }

    /** The problems found in {@code fdb}; empty when it is sound. */
    static List<String> problems(ForwardingDatabase fdb) {
        fdb.lock.lock();
        try {
            List<String> problems = new ArrayList<>(fdb.ports.check());
            NetworkIndex networks = fdb.networks;
            int total = 0;
            int statics = 0;
            int tables = 0;
            Map<PortId, Integer> perPort = new HashMap<>();
            for (NetworkTable t : networks.tables()) {
                if (t == null) {
                    continue;
                }
                tables++;
                if (t.size() == 0) {
                    problems.add("empty network table kept: " + t.network);
                }
                int n = 0;
                NetworkTable.Slots sl = t.slots();
                for (int i = 0, len = sl.length(); i < len; i++) {
                    Entry e = sl.live(i);
                    if (e == null) {
                        continue;
                    }
                    n++;
                    if (e.removed || e.table != t || t.get(e.key) != e || !e.port.equals(sl.ports[i])
                            || sl.keyWord(i) != NetworkTable.tagged(e.key, e.isStatic)) {
                        problems.add("bad entry in table " + t.network + ": " + e);
                    }
                    if (e.isStatic) {
                        statics++;
                    } else {
                        perPort.merge(e.port, 1, Integer::sum);
                        if (e.portRecord == null) {
                            problems.add("dynamic entry not in its port list: " + e);
                        }
                    }
                }
                if (n != t.size()) {
                    problems.add("network " + t.network + " holds " + n + " entries but counts " + t.size());
                }
                total += n;
            }
            if (tables != networks.count()) {
                problems.add("network index counts " + networks.count() + " tables, holds " + tables);
            }
            int size = fdb.size;
            int staticSize = fdb.staticSize;
            if (total != size || statics != staticSize) {
                problems.add("size " + size + "/" + staticSize + " static, but " + total + "/" + statics + " found");
            }
            perPort.forEach((port, n) -> {
                if (fdb.ports.count(port) != n) {
                    problems.add("port " + port + " counts " + fdb.ports.count(port) + " entries, " + n + " found");
                }
            });
            return problems;
        } finally {
            fdb.lock.unlock();
        }
    }
}
