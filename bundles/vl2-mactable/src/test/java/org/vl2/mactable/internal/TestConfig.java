package org.vl2.mactable.internal;

import java.lang.annotation.Annotation;

/** The component property type as DS would build it from a configuration. */
final class TestConfig implements MacTableImpl.Config {

    private final long ageingSeconds;
    private final int capacity;
    private final int perPortLimit;

    TestConfig(long ageingSeconds, int capacity, int perPortLimit) {
        this.ageingSeconds = ageingSeconds;
        this.capacity = capacity;
        this.perPortLimit = perPortLimit;
    }

    @Override
    public long ageing_seconds() {
        return ageingSeconds;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int per_port_limit() {
        return perPortLimit;
    }

    @Override
    public Class<? extends Annotation> annotationType() {
        return MacTableImpl.Config.class;
    }
}
