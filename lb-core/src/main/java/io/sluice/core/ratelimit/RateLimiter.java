package io.sluice.core.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Requests and tokens per minute for many clients (API keys or IP addresses), as token buckets that
 * refill continuously. Buckets live in Caffeine and expire two minutes after their last use, so a
 * flood of distinct client addresses cannot grow memory without bound.
 *
 * <p>Tokens are charged as they are produced (during a stream) and may go negative by the last
 * chunk's worth; a client in debt is refused until the bucket refills.
 */
public final class RateLimiter implements Limiter {
    private final long requestsPerMinute;
    private final long tokensPerMinute;
    private final Cache<String, Bucket> buckets;

    public RateLimiter(long requestsPerMinute, long tokensPerMinute) {
        this.requestsPerMinute = requestsPerMinute;
        this.tokensPerMinute = tokensPerMinute;
        this.buckets = Caffeine.newBuilder().expireAfterAccess(Duration.ofMinutes(2)).maximumSize(1_000_000).build();
    }

    @Override
    public long requestsPerMinute() {
        return requestsPerMinute;
    }

    @Override
    public long tokensPerMinute() {
        return tokensPerMinute;
    }

    /** Takes one request from the client's budget, if both its request and token budgets allow. */
    public Decision tryAcquire(String client) {
        return bucket(client).tryAcquire();
    }

    @Override
    public CompletionStage<Decision> acquire(String client) {
        return CompletableFuture.completedFuture(tryAcquire(client));
    }

    /** Charges tokens as they are produced; @return false once the client's token budget is used up. */
    @Override
    public boolean spendTokens(String client, long tokens) {
        return tokensPerMinute <= 0 || bucket(client).spend(tokens);
    }

    public Decision peek(String client) {
        return bucket(client).peek();
    }

    private Bucket bucket(String client) {
        return buckets.get(client, k -> new Bucket());
    }

    /**
     * The outcome of a check, with what the {@code x-ratelimit-*} headers report.
     *
     * @param storeUnavailable refused because a shared store could not be asked and the limits fail closed
     */
    public record Decision(boolean allowed, long remainingRequests, long remainingTokens, long retryAfterSeconds,
                           long requestsResetSeconds, long tokensResetSeconds, boolean storeUnavailable) {
        public Decision(boolean allowed, long remainingRequests, long remainingTokens, long retryAfterSeconds,
                        long requestsResetSeconds, long tokensResetSeconds) {
            this(allowed, remainingRequests, remainingTokens, retryAfterSeconds, requestsResetSeconds, tokensResetSeconds, false);
        }

        /** A refusal because the shared store of the buckets cannot be reached (fail closed). */
        public static Decision unavailable() {
            return new Decision(false, -1, -1, 1, 0, 0, true);
        }

        /**
         * The decision for a bucket holding {@code requests} and {@code tokens} (after refill and after
         * this check's charge), for limits per minute of which 0 means none.
         */
        public static Decision of(boolean allowed, double requests, double tokens, long requestsPerMinute, long tokensPerMinute) {
            long reqWait = requestsPerMinute <= 0 || requests >= 1 ? 0 : seconds((1 - requests) / requestsPerMinute);
            long tokWait = tokensPerMinute <= 0 || tokens > 0 ? 0 : seconds((1 - tokens) / tokensPerMinute);
            long reqReset = requestsPerMinute <= 0 ? 0 : seconds((requestsPerMinute - requests) / requestsPerMinute);
            long tokReset = tokensPerMinute <= 0 ? 0 : seconds((tokensPerMinute - tokens) / tokensPerMinute);
            return new Decision(allowed, requestsPerMinute <= 0 ? -1 : (long) Math.floor(Math.max(0, requests)),
                    tokensPerMinute <= 0 ? -1 : (long) Math.floor(Math.max(0, tokens)),
                    Math.max(reqWait, tokWait), reqReset, tokReset, false);
        }

        private static long seconds(double minutes) {
            return (long) Math.ceil(minutes * 60);
        }
    }

    private final class Bucket {
        private double requests = requestsPerMinute;
        private double tokens = tokensPerMinute;
        private long lastNanos = System.nanoTime();

        private void refill() {
            long now = System.nanoTime();
            double minutes = (now - lastNanos) / 60e9;
            lastNanos = now;
            requests = Math.min(requestsPerMinute, requests + minutes * requestsPerMinute);
            tokens = Math.min(tokensPerMinute, tokens + minutes * tokensPerMinute);
        }

        synchronized Decision tryAcquire() {
            refill();
            boolean requestOk = requestsPerMinute <= 0 || requests >= 1;
            boolean tokensOk = tokensPerMinute <= 0 || tokens > 0;
            if (requestOk && tokensOk && requestsPerMinute > 0) {
                requests -= 1;
            }
            return decision(requestOk && tokensOk);
        }

        synchronized boolean spend(long n) {
            refill();
            tokens -= n;
            return tokens > 0;
        }

        synchronized Decision peek() {
            refill();
            return decision(true);
        }

        private Decision decision(boolean allowed) {
            return Decision.of(allowed, requests, tokens, requestsPerMinute, tokensPerMinute);
        }
    }
}
