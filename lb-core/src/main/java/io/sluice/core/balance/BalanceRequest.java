package io.sluice.core.balance;

/**
 * What a {@link BalancePolicy} may know about the request it places. The gateway's request context
 * implements it; {@link #NONE} stands for a request without any of it (warm-up, tests).
 */
public interface BalanceRequest {
    BalanceRequest NONE = new BalanceRequest() {
    };

    /** The real model name the request asks for, once known (after an alias), or null. */
    default String model() {
        return null;
    }

    /** A key that should stick to one backend (a session header, the body's {@code user}), or null. */
    default String sessionKey() {
        return null;
    }

    /** A request header, or null. */
    default String header(CharSequence name) {
        return null;
    }

    /**
     * The chained hashes of the prompt's leading blocks (each covers its block and all before it), in
     * prompt order; null when unknown (not asked for, not JSON, no prompt).
     */
    default long[] prefixBlocks() {
        return null;
    }

    /**
     * Told by a policy that has something to say why it chose as it did ({@code prefix-blocks=12/16},
     * {@code bound=exceeded}, {@code score=1.5}); policies with nothing to say (least-connections) do not
     * call it, so their path allocates nothing. The latest call wins (the pool may choose again).
     */
    default void explain(String reason) {
    }
}
