package io.sluice.core.balance;

import io.sluice.core.backend.Backend;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Each backend in turn, skipping those that are not eligible; weights are ignored. For backends
 * whose requests all cost the same; LLM requests rarely do, so least-connections is the default.
 */
public final class RoundRobin implements BalancePolicy {
    private final AtomicInteger next = new AtomicInteger();

    @Override
    public Backend choose(List<Backend> backends, BalanceRequest request, int maxInFlight, List<Backend> exclude) {
        int n = backends.size();
        if (n == 0) {
            return null;
        }
        int start = Math.floorMod(next.getAndIncrement(), n);
        for (int i = 0; i < n; i++) {
            Backend b = backends.get((start + i) % n);
            if (BalancePolicy.eligible(b, maxInFlight, exclude)) {
                return b;
            }
        }
        return null;
    }
}
