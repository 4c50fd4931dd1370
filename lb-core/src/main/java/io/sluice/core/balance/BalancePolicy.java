package io.sluice.core.balance;

import io.sluice.core.backend.Backend;
import java.util.List;

/**
 * Chooses the backend for one request among a pool's backends, seeing the request
 * ({@link BalanceRequest}: model, session key, headers) as Armeria's {@code EndpointSelector} does.
 *
 * <p>Called on the request's event loop, concurrently from several loops on the same pool: an
 * implementation keeps only thread-safe state. The choice is a hint; the pool then takes the slot
 * atomically and asks again, without that backend, when another loop was faster.
 * Implementations are registered by name in {@link BalancePolicies}.
 */
public interface BalancePolicy {

    /**
     * @param backends    the pool's members; only {@link Backend#isAvailable()} ones may be chosen
     * @param request     the request being placed
     * @param maxInFlight backends with this many requests in flight are full (0: no limit)
     * @param exclude     backends already tried for this request, or null
     * @return the chosen backend, or null when none is eligible
     */
    Backend choose(List<Backend> backends, BalanceRequest request, int maxInFlight, List<Backend> exclude);

    /**
     * Takes a reloaded pool's {@code routing:} settings; state learned so far (affinities) is kept.
     * Policies without settings ignore it.
     */
    default void routing(io.sluice.core.config.RoutingConfig routing) {
    }

    /** Without a request: warm-up and tests. */
    default Backend choose(List<Backend> backends) {
        return choose(backends, BalanceRequest.NONE, 0, null);
    }

    /** True when the backend may take this request: available, not excluded, below the limit. */
    static boolean eligible(Backend b, int maxInFlight, List<Backend> exclude) {
        return b.isAvailable() && (exclude == null || !exclude.contains(b)) && (maxInFlight <= 0 || b.inFlight() < maxInFlight);
    }
}
