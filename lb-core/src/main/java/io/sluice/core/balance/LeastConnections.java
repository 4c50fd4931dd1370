package io.sluice.core.balance;

import io.sluice.core.backend.Backend;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Least in-flight requests, scaled by weight: the backend with the smallest {@code (inFlight + 1) / weight}.
 *
 * <p>The {@code + 1} makes weights matter on an idle pool (where every count is zero). Ties are broken
 * uniformly at random with reservoir sampling, in one pass and without allocating, so that concurrent
 * event loops picking at the same instant do not all pile onto the first backend of the list.
 */
public final class LeastConnections implements BalancePolicy {

    @Override
    public Backend choose(List<Backend> backends, BalanceRequest request, int maxInFlight, List<Backend> exclude) {
        Backend best = null;
        long bestLoad = 0;
        int bestWeight = 1;
        int ties = 0;
        for (int i = 0, n = backends.size(); i < n; i++) {
            Backend b = backends.get(i);
            if (!b.isAvailable() || (exclude != null && exclude.contains(b))) {
                continue;
            }
            int inFlight = b.inFlight();
            if (maxInFlight > 0 && inFlight >= maxInFlight) {
                continue;
            }
            long load = inFlight + 1L;
            int weight = b.weight();
            if (best == null) {
                best = b;
                bestLoad = load;
                bestWeight = weight;
                ties = 1;
                continue;
            }
            // load/weight < bestLoad/bestWeight, without division
            long lhs = load * bestWeight;
            long rhs = bestLoad * weight;
            if (lhs < rhs) {
                best = b;
                bestLoad = load;
                bestWeight = weight;
                ties = 1;
            } else if (lhs == rhs && ThreadLocalRandom.current().nextInt(++ties) == 0) {
                best = b;
                bestLoad = load;
                bestWeight = weight;
            }
        }
        return best;
    }
}
