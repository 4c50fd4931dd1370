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
}
