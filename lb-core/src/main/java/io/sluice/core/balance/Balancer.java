package io.sluice.core.balance;

import io.sluice.core.backend.Backend;
import java.util.List;

/** Picks the backend for a new request among a pool's backends; only healthy ones are eligible. */
public interface Balancer {

    /** @return the chosen backend, or null when no backend is eligible */
    default Backend choose(List<Backend> backends) {
        return choose(backends, 0, null);
    }

    /**
     * @param maxInFlight backends with this many requests in flight are full (0: no limit)
     * @param exclude     backends already tried for this request, or null
     */
    Backend choose(List<Backend> backends, int maxInFlight, List<Backend> exclude);

    static Balancer named(String name) {
        if ("least-connections".equals(name)) {
            return new LeastConnections();
        }
        throw new IllegalArgumentException("balancer '" + name + "' is not supported (least-connections)");
    }
}
