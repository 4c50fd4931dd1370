package io.sluice.core.balance;

import io.sluice.core.backend.Backend;
import io.sluice.core.config.RoutingConfig;
import java.util.List;

/**
 * Session affinity: requests with the same session key ({@link BalanceRequest#sessionKey()}: a
 * configured header, else the body's {@code user}) go to the same backend, where the conversation's
 * earlier turns are still cached. Rendezvous hashing (highest random weight) over the eligible
 * backends, so that a backend leaving moves only its own sessions; with the same bound as
 * {@link PrefixAffinity}: when the session's backend is not acceptable, the next highest weight that is.
 * Without a key, the least loaded backend. Backend weights are not used.
 */
public final class SessionAffinity implements BalancePolicy {
    private volatile RoutingConfig routing;

    public SessionAffinity(RoutingConfig routing) {
        this.routing = routing;
    }

    @Override
    public void routing(RoutingConfig r) {
        routing = r;
    }

    @Override
    public Backend choose(List<Backend> backends, BalanceRequest request, int maxInFlight, List<Backend> exclude) {
        Load.Bounds bounds = Load.Bounds.of(backends, maxInFlight, exclude, routing);
        if (bounds == null) {
            return null;
        }
        String key = request.sessionKey();
        if (key == null) {
            request.explain("session=none");
            return bounds.leastLoaded(backends, maxInFlight, exclude);
        }
        long h = hash(key);
        Backend top = null;
        long topWeight = 0;
        Backend best = null;
        long bestWeight = 0;
        for (int i = 0, size = backends.size(); i < size; i++) {
            Backend b = backends.get(i);
            if (!BalancePolicy.eligible(b, maxInFlight, exclude)) {
                continue;
            }
            long w = mix(h ^ hash(b.id()));
            if (top == null || Long.compareUnsigned(w, topWeight) > 0) {
                top = b;
                topWeight = w;
            }
            if ((best == null || Long.compareUnsigned(w, bestWeight) > 0) && bounds.refusal(b) == null) {
                best = b;
                bestWeight = w;
            }
        }
        if (best == null) {
            best = bounds.leastLoaded(backends, maxInFlight, exclude);
        }
        if (best != top) {
            String why = bounds.refusal(top);
            request.explain(why != null ? why : "bound=exceeded");
        }
        return best;
    }

    /** FNV-1a over the UTF-16 chars, then mixed: stable across runs and JVMs (String.hashCode is too, but only 32 bits). */
    static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0, n = s.length(); i < n; i++) {
            h ^= s.charAt(i);
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    /** SplitMix64's finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
