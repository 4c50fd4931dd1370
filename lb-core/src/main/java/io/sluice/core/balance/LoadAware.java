package io.sluice.core.balance;

import io.sluice.core.backend.Backend;
import io.sluice.core.config.RoutingConfig;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The eligible backend with the lowest load score ({@link Load}): vLLM's own waiting queue, running
 * batch and KV-cache usage from the latest scrape, plus the requests Sluice sent since, so that a
 * backend whose queue Sluice cannot see through its in-flight count (other clients, long prompts) is
 * avoided. A sample older than {@code stale-after} is ignored: in-flight counts alone then decide.
 */
public final class LoadAware implements BalancePolicy {
    private volatile RoutingConfig routing;

    public LoadAware(RoutingConfig routing) {
        this.routing = routing;
    }

    @Override
    public void routing(RoutingConfig r) {
        routing = r;
    }

    @Override
    public Backend choose(List<Backend> backends, BalanceRequest request, int maxInFlight, List<Backend> exclude) {
        RoutingConfig r = routing;
        long now = System.currentTimeMillis();
        Backend best = null;
        double bestScore = 0;
        int ties = 0;
        for (int i = 0, size = backends.size(); i < size; i++) {
            Backend b = backends.get(i);
            if (!BalancePolicy.eligible(b, maxInFlight, exclude)) {
                continue;
            }
            double s = Load.score(b, r, now);
            if (best == null || s < bestScore) {
                best = b;
                bestScore = s;
                ties = 1;
            } else if (s == bestScore && ThreadLocalRandom.current().nextInt(++ties) == 0) {
                best = b;
            }
        }
        if (best != null) {
            String metrics = Load.fresh(best, r, now) != null ? "" : best.loadSample() == null ? "; metrics=none" : "; metrics=stale";
            request.explain("score=" + Load.format(bestScore) + metrics);
        }
        return best;
    }
}
