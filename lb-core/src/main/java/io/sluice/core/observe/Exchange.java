package io.sluice.core.observe;

import java.util.List;

/**
 * What happened to one request, filled in along the data path and handed to each
 * {@link ExchangeObserver} once when the exchange ends (access log, metrics).
 *
 * <p>Mutable and unsynchronised on purpose: one exchange lives on one event loop. Times are
 * {@link System#nanoTime()} values; 0 means "did not happen".
 */
public final class Exchange {

    public enum Outcome {
        /** The response was delivered to its end. */
        COMPLETED,
        /** The client went away before the response ended. */
        CLIENT_ABORTED,
        /** The upstream failed after the response had started; the client saw a cut-off answer. */
        UPSTREAM_ABORTED
    }

    public final long startMillis = System.currentTimeMillis();
    public final long startNanos = System.nanoTime();
    public String listener;
    public String protocol;
    public String clientIp;
    public String requestId;
    public String method;
    public String path;
    /** The matched route's prefix, or null when no route matched. */
    public String route;
    public String pool;
    /** The model served (after aliases), when the request named one. */
    public String model;
    /** The model as the request named it (before aliases), or null. */
    public String requestedModel;
    public String backend;
    /**
     * Why the backend was chosen, as in the response's {@code x-sluice-route} header
     * ({@code backend=b2; policy=prefix-affinity; prefix-blocks=12/16}); null when nothing was proxied.
     */
    public String routeReason;
    /** The LLM provider called (through {@code /api/chat}, {@code /v1/messages} or a pass-through route), or null. */
    public String provider;
    /** The id (never the secret) of the API key the client authenticated with, or null. */
    public String apiKeyId;
    /** Tokens as the provider reported them (or, for a stream cut short, the completion chunks seen); -1 unknown. */
    public long promptTokens = -1;
    public long completionTokens = -1;
    /** Set only when a new upstream connection was opened for this exchange (not for a pooled one). */
    public long connectStartNanos;
    public long connectedNanos;
    public long upstreamSentNanos;
    public long responseHeadNanos;
    public long endNanos;
    /** Response body bytes from the upstream: the first (for a stream, the first token) and the gaps between them. */
    public long firstContentNanos;
    public long lastContentNanos;
    public long maxContentGapNanos;
    public int contentChunks;
    public int status;
    public long bytesIn;
    public long bytesOut;
    /** Set when Sluice answered itself: the X-Sluice-Error code. */
    public String gatewayError;
    public Outcome outcome;
    /** Told about each gap between forwarded response chunks as it happens (set by whoever creates the exchange). */
    public List<ExchangeObserver> observers;

    /**
     * Several chunks handed on at once (a pass-through body's read): one arrival for the timings,
     * each chunk for the count.
     */
    public void contentForwarded(long nanos, int chunks) {
        contentForwarded(nanos);
        if (chunks > 1) {
            contentChunks += chunks - 1;
        }
    }

    /** Called by the proxy for each non-empty response chunk it forwards: arithmetic only, no allocation. */
    public void contentForwarded(long nanos) {
        if (contentChunks++ == 0) {
            firstContentNanos = nanos;
        } else {
            long gap = nanos - lastContentNanos;
            if (gap > maxContentGapNanos) {
                maxContentGapNanos = gap;
            }
            List<ExchangeObserver> os = observers;
            if (os != null) {
                for (int i = 0, n = os.size(); i < n; i++) {
                    os.get(i).onContentGap(this, gap);
                }
            }
        }
        lastContentNanos = nanos;
    }

    public long durationMicros() {
        return endNanos == 0 ? -1 : (endNanos - startNanos) / 1000;
    }

    /** Time to the first byte of the response head, from when the request arrived. */
    public long ttfbMicros() {
        return responseHeadNanos == 0 ? -1 : (responseHeadNanos - startNanos) / 1000;
    }
}
