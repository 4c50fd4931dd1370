package io.sluice.core.ratelimit;

import java.util.concurrent.CompletionStage;

/**
 * Request and token budgets per client (an API key or an address), wherever the buckets live: in this
 * process ({@link RateLimiter}) or in a store shared by the replicas. Admission may have to ask the
 * store, so it answers with a stage; a local limiter's is already complete.
 */
public interface Limiter {
    long requestsPerMinute();

    long tokensPerMinute();

    /** Takes one request from the client's budget if both its budgets allow; the stage never fails. */
    CompletionStage<RateLimiter.Decision> acquire(String client);

    /**
     * Charges tokens as they are produced, without waiting.
     *
     * @return false once the client's token budget is known to be used up (a shared store may tell
     *         one charge late)
     */
    boolean spendTokens(String client, long tokens);
}
