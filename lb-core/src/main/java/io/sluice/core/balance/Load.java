package io.sluice.core.balance;

import io.sluice.core.backend.Backend;
import io.sluice.core.config.RoutingConfig;
import java.util.List;

/**
 * A backend's load as the LLM-aware policies see it, and the bound that keeps an affinity from
 * piling onto one backend.
 *
 * <p>The score starts from Sluice's own in-flight count, which is exact and current:
 * {@code inFlight × runningWeight}. A vLLM scrape younger than {@code stale-after} adds what only vLLM
 * knows: the requests it had beyond Sluice's ({@code running + waiting − in-flight at the scrape}, other
 * replicas' and clients'; × runningWeight), its queue estimated for now (× waitingWeight) and its KV-cache
 * usage (× kvWeight). All divided by the backend's weight. Scraped counts are never taken as current:
 * a sample is seconds old, and requests finish in between (a first version did, and steered by stale
 * queues: 1.5–1.7 max/mean in-flight in the routing benchmark).
 */
final class Load {
    private Load() {
    }

    /** The sample when it is younger than {@code stale-after}, else null. */
    static Backend.LoadSample fresh(Backend b, RoutingConfig r, long nowMillis) {
        Backend.LoadSample s = b.loadSample();
        return s == null || nowMillis - s.atMillis() > r.staleAfter().toMillis() ? null : s;
    }

    static double score(Backend b, RoutingConfig r, long nowMillis) {
        int inFlight = b.inFlight();
        double score = inFlight * r.runningWeight();
        Backend.LoadSample s = fresh(b, r, nowMillis);
        if (s != null) {
            int atSample = b.inFlightAtSample();
            // What vLLM counted beyond Sluice's own requests at the scrape: other replicas', other clients'.
            double external = Math.max(0, s.running() + s.waiting() - atSample);
            score += external * r.runningWeight() + waitingNow(b, s) * r.waitingWeight() + s.kvUsage() * r.kvWeight();
        }
        return score / b.weight();
    }

    /**
     * vLLM's queue now, estimated: what waited at the scrape, plus what Sluice sent since, less what
     * finished since. A backend whose scrape showed no queue has none, however many Sluice sent since:
     * in-flight counts them already.
     */
    static double waitingNow(Backend b, Backend.LoadSample s) {
        return s.waiting() <= 0 ? 0 : Math.max(0, s.waiting() + b.inFlight() - b.inFlightAtSample());
    }

    /** One decimal, for the route reason. */
    static String format(double score) {
        return Double.toString(Math.round(score * 10) / 10.0);
    }

    /**
     * What an affinity may choose from, worked out once per request: the bounded-load limit over the
     * eligible backends and whether any of them reports an empty queue.
     */
    static final class Bounds {
        final RoutingConfig routing;
        final long now;
        final int limit;
        final boolean someoneWithoutQueue;

        private Bounds(RoutingConfig routing, long now, int limit, boolean someoneWithoutQueue) {
            this.routing = routing;
            this.now = now;
            this.limit = limit;
            this.someoneWithoutQueue = someoneWithoutQueue;
        }

        /** @return null when no backend is eligible */
        static Bounds of(List<Backend> backends, int maxInFlight, List<Backend> exclude, RoutingConfig r) {
            long now = System.currentTimeMillis();
            int n = 0;
            long total = 0;
            boolean noQueue = false;
            for (int i = 0, size = backends.size(); i < size; i++) {
                Backend b = backends.get(i);
                if (!BalancePolicy.eligible(b, maxInFlight, exclude)) {
                    continue;
                }
                n++;
                total += b.inFlight();
                Backend.LoadSample s = fresh(b, r, now);
                noQueue |= s != null && waitingNow(b, s) <= 0;
            }
            if (n == 0) {
                return null;
            }
            // Consistent hashing with bounded loads: below ceil(c × (m + 1) / n), counting this request.
            int limit = (int) Math.ceil(r.loadFactor() * (total + 1) / n);
            return new Bounds(r, now, limit, noQueue);
        }

        /** Null when an affinity may send the request to {@code b}, else why not (for the route reason). */
        String refusal(Backend b) {
            if (b.inFlight() >= limit) {
                return "bound=exceeded";
            }
            if (someoneWithoutQueue) {
                Backend.LoadSample s = fresh(b, routing, now);
                if (s != null && waitingNow(b, s) > 0) {
                    return "bound=queued";
                }
            }
            return null;
        }

        /** The eligible backend with the lowest load score that an affinity may take, or any eligible one if none may. */
        Backend leastLoaded(List<Backend> backends, int maxInFlight, List<Backend> exclude) {
            Backend best = leastLoaded(backends, maxInFlight, exclude, true);
            return best != null ? best : leastLoaded(backends, maxInFlight, exclude, false);
        }

        private Backend leastLoaded(List<Backend> backends, int maxInFlight, List<Backend> exclude, boolean bounded) {
            Backend best = null;
            double bestScore = 0;
            int ties = 0;
            for (int i = 0, size = backends.size(); i < size; i++) {
                Backend b = backends.get(i);
                if (!BalancePolicy.eligible(b, maxInFlight, exclude) || bounded && refusal(b) != null) {
                    continue;
                }
                double s = score(b, routing, now);
                if (best == null || s < bestScore) {
                    best = b;
                    bestScore = s;
                    ties = 1;
                } else if (s == bestScore && java.util.concurrent.ThreadLocalRandom.current().nextInt(++ties) == 0) {
                    best = b;
                }
            }
            return best;
        }
    }
}
