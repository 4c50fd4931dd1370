package io.sluice.core.balance;

import io.sluice.core.backend.Backend;
import io.sluice.core.config.RoutingConfig;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Power of two choices (Mitzenmacher): two distinct eligible backends at random, the one with the
 * lower load score wins ({@link Load}: the scraped vLLM load when fresh, else in-flight requests).
 * Nearly as even as least-connections, but concurrent event loops do not all see and chase the same
 * least-loaded backend.
 */
public final class PowerOfTwo implements BalancePolicy {
    private volatile RoutingConfig routing;

    public PowerOfTwo(RoutingConfig routing) {
        this.routing = routing;
    }

    @Override
    public void routing(RoutingConfig r) {
        routing = r;
    }

    @Override
    public Backend choose(List<Backend> backends, BalanceRequest request, int maxInFlight, List<Backend> exclude) {
        int n = 0;
        for (int i = 0, size = backends.size(); i < size; i++) {
            if (BalancePolicy.eligible(backends.get(i), maxInFlight, exclude)) {
                n++;
            }
        }
        if (n == 0) {
            return null;
        }
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int first = rnd.nextInt(n);
        Backend a = nth(backends, maxInFlight, exclude, first);
        if (n == 1) {
            return a;
        }
        int second = rnd.nextInt(n - 1);
        Backend b = nth(backends, maxInFlight, exclude, second >= first ? second + 1 : second);
        RoutingConfig r = routing;
        long now = System.currentTimeMillis();
        return Load.score(b, r, now) < Load.score(a, r, now) ? b : a;
    }

    private static Backend nth(List<Backend> backends, int maxInFlight, List<Backend> exclude, int k) {
        Backend last = null;
        for (int i = 0, size = backends.size(); i < size; i++) {
            Backend b = backends.get(i);
            if (BalancePolicy.eligible(b, maxInFlight, exclude)) {
                last = b;
                if (k-- == 0) {
                    return b;
                }
            }
        }
        return last; // eligibility changed under us: any eligible one will do
    }
}
