package io.sluice.http.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.sluice.core.ratelimit.Limiter;
import io.sluice.core.ratelimit.RateLimiter;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A listener's per-key or per-address limits held in Redis, so that every replica draws on one budget
 * per client. Admission asks Redis (one script call); tokens are charged without waiting, at most
 * one call in flight per client, what streams produce meanwhile being added up for the next call.
 *
 * <p>When Redis cannot answer within the store's timeout: fail open admits by this replica's own
 * buckets (the same limits, per replica), fail closed refuses ({@link RateLimiter.Decision#unavailable()}).
 */
final class SharedLimiter implements Limiter {
    private final RedisBuckets store;
    private final String scope;
    private final long requestsPerMinute;
    private final long tokensPerMinute;
    private final RateLimiter local;
    private final Cache<String, Charges> charges = Caffeine.newBuilder().expireAfterAccess(Duration.ofMinutes(2))
            .maximumSize(100_000).build();

    /** A client's tokens not yet sent to Redis, and what the last answer said. */
    private static final class Charges {
        final AtomicLong pending = new AtomicLong();
        final AtomicBoolean sending = new AtomicBoolean();
        volatile boolean exhausted;
    }

    SharedLimiter(RedisBuckets store, String scope, long requestsPerMinute, long tokensPerMinute) {
        this.store = store;
        this.scope = scope;
        this.requestsPerMinute = requestsPerMinute;
        this.tokensPerMinute = tokensPerMinute;
        this.local = new RateLimiter(requestsPerMinute, tokensPerMinute);
    }

    RedisBuckets store() {
        return store;
    }

    @Override
    public long requestsPerMinute() {
        return requestsPerMinute;
    }

    @Override
    public long tokensPerMinute() {
        return tokensPerMinute;
    }

    @Override
    public CompletionStage<RateLimiter.Decision> acquire(String client) {
        return store.run(store.key(scope, client), requestsPerMinute, tokensPerMinute, -1).handle((reply, failure) -> {
            if (failure != null) {
                return store.config().failOpen() ? local.tryAcquire(client) : RateLimiter.Decision.unavailable();
            }
            if (reply.allowed()) {
                Charges c = charges.getIfPresent(client);
                if (c != null) {
                    c.exhausted = false;
                }
            }
            return RateLimiter.Decision.of(reply.allowed(), reply.requests(), reply.tokens(), requestsPerMinute, tokensPerMinute);
        });
    }

    @Override
    public boolean spendTokens(String client, long tokens) {
        if (tokensPerMinute <= 0) {
            return true;
        }
        Charges c = charges.get(client, k -> new Charges());
        c.pending.addAndGet(tokens);
        send(client, c);
        return !c.exhausted;
    }

    /** Sends what is pending unless a call is already in flight, whose answer sends the rest. */
    private void send(String client, Charges c) {
        while (c.pending.get() > 0 && c.sending.compareAndSet(false, true)) {
            long n = c.pending.getAndSet(0);
            if (n == 0) {
                c.sending.set(false);
                continue;
            }
            store.run(store.key(scope, client), requestsPerMinute, tokensPerMinute, n).whenComplete((reply, failure) -> {
                if (failure == null) {
                    c.exhausted = !reply.allowed();
                } else if (store.config().failOpen()) {
                    c.exhausted = !local.spendTokens(client, n);
                } // failing closed, charges are lost while Redis is away: no new request is admitted meanwhile anyway
                c.sending.set(false);
                send(client, c);
            });
            return;
        }
    }
}
