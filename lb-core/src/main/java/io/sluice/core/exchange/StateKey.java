package io.sluice.core.exchange;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A slot for a filter's per-request state in {@link RequestContext}: an array index, not a map
 * lookup. Create keys as constants; there are only a handful.
 */
public final class StateKey<T> {
    private static final AtomicInteger COUNT = new AtomicInteger();
    final int index = COUNT.getAndIncrement();
    private final String name;

    private StateKey(String name) {
        this.name = name;
    }

    public static <T> StateKey<T> of(String name) {
        return new StateKey<>(name);
    }

    static int count() {
        return COUNT.get();
    }

    @Override
    public String toString() {
        return name;
    }
}
