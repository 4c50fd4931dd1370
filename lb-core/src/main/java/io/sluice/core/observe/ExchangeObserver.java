package io.sluice.core.observe;

/**
 * Told once about every finished exchange. Runs on the event loop: it must not block
 * (hand slow work such as file writes to another thread).
 */
@FunctionalInterface
public interface ExchangeObserver {
    void onExchangeEnd(Exchange exchange);

    /**
     * A gap between two forwarded response chunks of a running exchange (inter-token latency as the
     * client sees it). Called on the event loop for every chunk after the first: keep it to a few
     * instructions, without allocating.
     */
    default void onContentGap(Exchange exchange, long gapNanos) {
    }
}
