package org.vl2.mactable.internal;

import java.util.function.LongSupplier;

import org.vl2.api.MacTableAdminService;

/** Lets benchmarks in other packages build a real MAC table without DS and without its ageing thread. */
public final class BenchMacTables {

    private BenchMacTables() {
    }

    /** A table as the switch runs it (300 s ageing, System.nanoTime), minus the ageing sweep thread. */
    public static MacTableAdminService create(int capacity) {
        return create(capacity, System::nanoTime);
    }

    /** The same with another clock (nanoseconds, monotonic). */
    public static MacTableAdminService create(int capacity, LongSupplier nanoClock) {
        return new MacTableImpl(new Settings(Settings.DEFAULT_AGEING_SECONDS, capacity, 0), nanoClock);
    }
}
