package io.sluice.core.balance;

import io.sluice.core.backend.Backend;
import java.util.List;

/** Picks the backend for a new request among a pool's backends; only healthy ones are eligible. */
public interface Balancer {

    /** @return the chosen backend, or null when no backend is eligible */
    Backend choose(List<Backend> backends);

    static Balancer named(String name) {
        if ("least-connections".equals(name)) {
            return new LeastConnections();
        }
        throw new IllegalArgumentException("balancer '" + name + "' is not supported (least-connections)");
    }
}
