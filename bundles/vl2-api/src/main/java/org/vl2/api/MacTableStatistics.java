package org.vl2.api;

/**
 * MAC table counters since the table started.
 *
 * @param size         entries now (dynamic and static)
 * @param staticSize   static entries now
 * @param capacity     maximum number of entries
 * @param perPortLimit maximum dynamic entries one port may hold, 0 = no limit
 * @param ageingSeconds idle time after which a dynamic entry is removed, 0 = never
 * @param learned      new dynamic entries
 * @param moved        entries that moved to another port
 * @param aged         entries removed by ageing
 * @param evicted      entries removed to make room when the table was full
 * @param refused      learn attempts refused (per-port limit, or full of static entries)
 */
public record MacTableStatistics(int size, int staticSize, int capacity, int perPortLimit, long ageingSeconds,
                                 long learned, long moved, long aged, long evicted, long refused) {
}
