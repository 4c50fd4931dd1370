package io.sluice.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The admission settings of a pool's wait queue beyond its size and timeout: priority classes, fair
 * sharing between clients, and spilling to another pool when the wait would be too long.
 *
 * @param classes         priority classes, highest first; empty for one FIFO line (the queue as before)
 * @param classHeader     request header naming the class (a value outside {@code classes} is ignored); null for none
 * @param keyClasses      API key id to class: wins over the header, so a batch key cannot claim interactive
 * @param defaultClass    the class of a request neither the key nor the header places
 * @param keySharePercent the share of the queue's size one client (API key, else address) may hold, at least one place
 * @param spillTo         the pool a request goes to instead of waiting when its predicted wait exceeds
 *                        {@code spillAfter}; null for none
 * @param spillAfter      the longest predicted wait a request accepts before it spills
 */
public record QueueConfig(List<String> classes, String classHeader, Map<String, String> keyClasses, String defaultClass,
                          int keySharePercent, String spillTo, Duration spillAfter) {
    public static final QueueConfig NONE = new QueueConfig(List.of(), null, Map.of(), null, 100, null, Duration.ZERO);

    public QueueConfig {
        classes = List.copyOf(classes);
        keyClasses = Map.copyOf(keyClasses);
        Objects.requireNonNull(spillAfter, "spillAfter");
    }

    /** Classes are declared: the queue serves by class, then round-robin between clients. */
    public boolean fair() {
        return !classes.isEmpty();
    }

    /** The places one client may hold in a queue of {@code size}: at least one. */
    public int keyLimit(int size) {
        return Math.max(1, (int) Math.ceil(size * keySharePercent / 100.0));
    }
}
