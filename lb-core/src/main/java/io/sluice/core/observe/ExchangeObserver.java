package io.sluice.core.observe;

/**
 * Told once about every finished exchange. Runs on the event loop: it must not block
 * (hand slow work such as file writes to another thread).
 */
@FunctionalInterface
public interface ExchangeObserver {
    void onExchangeEnd(Exchange exchange);
}
