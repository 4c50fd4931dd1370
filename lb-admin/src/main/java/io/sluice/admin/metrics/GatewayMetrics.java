package io.sluice.admin.metrics;

import io.sluice.admin.metrics.Timing.Buckets;
import io.sluice.core.observe.Exchange;
import io.sluice.core.observe.ExchangeObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The gateway's request metrics, fed once per finished exchange (an {@link ExchangeObserver}), per
 * forwarded chunk (the inter-chunk gap) and by the accept path for open connections. Recording is
 * lock-free: {@link LongAdder}s (exported through callbacks at scrape time) and {@link Timing}s; the
 * only allocation is a map key per exchange for the labelled request counters, none per chunk.
 */
public final class GatewayMetrics implements ExchangeObserver {

    /** The labels of {@code sluice_requests_total}; backend is empty when the gateway answered itself. */
    public record RequestKey(String listener, String route, int status, String backend) {
    }

    /** The labels of {@code sluice_provider_requests_total} and {@code sluice_provider_tokens_total}. */
    public record ProviderKey(String provider, String key, String type) {
    }

    final Map<RequestKey, LongAdder> requests = new ConcurrentHashMap<>();
    final Map<ProviderKey, LongAdder> providerRequests = new ConcurrentHashMap<>(); // type: the status
    final Map<ProviderKey, LongAdder> providerTokens = new ConcurrentHashMap<>();   // type: prompt or completion
    final Map<String, LongAdder> bytesIn = new ConcurrentHashMap<>();
    final Map<String, LongAdder> bytesOut = new ConcurrentHashMap<>();
    final Map<String, LongAdder> openConnections = new ConcurrentHashMap<>();
    final LongAdder clientAborts = new LongAdder();
    final LongAdder upstreamAborts = new LongAdder();

    final Timing duration = new Timing("sluice_request_duration_seconds",
            "Whole exchange, request head to response end, by pool (empty: answered by Sluice).", Buckets.REQUEST);
    final Timing connect = new Timing("sluice_upstream_connect_seconds",
            "Opening a new upstream connection (pooled ones need none), TLS handshake included.", Buckets.CONNECT);
    final Timing responseHead = new Timing("sluice_upstream_response_head_seconds",
            "Request sent upstream to response head (queueing plus prefill for vLLM).", Buckets.FIRST_TOKEN);
    final Timing firstToken = new Timing("sluice_time_to_first_token_seconds",
            "Request arrival to the first response body bytes forwarded (first SSE event of a stream).", Buckets.FIRST_TOKEN);
    final Timing interChunk = new Timing("sluice_inter_chunk_gap_seconds",
            "Gap between consecutive forwarded response body chunks (inter-token latency seen by clients).", Buckets.TOKEN_GAP);
    final Timing maxChunkGap = new Timing("sluice_stream_max_chunk_gap_seconds",
            "Per response, the longest gap between two forwarded body chunks (inter-token stalls).", Buckets.TOKEN_GAP);

    /** Every timing, in exposition order. */
    List<Timing> timings() {
        return List.of(duration, connect, responseHead, firstToken, interChunk, maxChunkGap);
    }

    @Override
    public void onExchangeEnd(Exchange ex) {
        String listener = ex.listener == null ? "" : ex.listener;
        requests.computeIfAbsent(new RequestKey(listener, ex.route == null ? "" : ex.route, ex.status,
                ex.backend == null ? "" : ex.backend), k -> new LongAdder()).increment();
        if (ex.provider != null) {
            String key = ex.apiKeyId == null ? "" : ex.apiKeyId;
            providerRequests.computeIfAbsent(new ProviderKey(ex.provider, key, Integer.toString(ex.status)), k -> new LongAdder())
                    .increment();
            if (ex.promptTokens > 0) {
                providerTokens.computeIfAbsent(new ProviderKey(ex.provider, key, "prompt"), k -> new LongAdder()).add(ex.promptTokens);
            }
            if (ex.completionTokens > 0) {
                providerTokens.computeIfAbsent(new ProviderKey(ex.provider, key, "completion"), k -> new LongAdder())
                        .add(ex.completionTokens);
            }
        }
        adder(bytesIn, listener).add(ex.bytesIn);
        adder(bytesOut, listener).add(ex.bytesOut);
        String pool = ex.pool;
        if (ex.status != 101 && ex.endNanos != 0) { // a WebSocket's duration is its session's, not a request latency
            duration.record(pool, ex.endNanos - ex.startNanos);
        }
        if (ex.connectedNanos != 0) {
            connect.record(pool, ex.connectedNanos - ex.connectStartNanos);
        }
        if (ex.backend != null && ex.gatewayError == null && ex.upstreamSentNanos != 0 && ex.responseHeadNanos != 0) {
            responseHead.record(pool, ex.responseHeadNanos - ex.upstreamSentNanos);
        }
        if (ex.firstContentNanos != 0) {
            firstToken.record(pool, ex.firstContentNanos - ex.startNanos);
        }
        if (ex.contentChunks > 1) {
            maxChunkGap.record(pool, ex.maxContentGapNanos);
        }
        if (ex.outcome == Exchange.Outcome.CLIENT_ABORTED && ex.backend != null) {
            clientAborts.increment(); // the upstream connection was closed, so the backend stopped generating
        } else if (ex.outcome == Exchange.Outcome.UPSTREAM_ABORTED) {
            upstreamAborts.increment(); // the client connection was cut so the client sees an incomplete answer
        }
    }

    @Override
    public void onContentGap(Exchange exchange, long gapNanos) {
        interChunk.record(exchange.pool, gapNanos);
    }

    /** The open-connections gauge of a listener: increment on accept, decrement on close. */
    public LongAdder openConnections(String listener) {
        return adder(openConnections, listener);
    }

    private static LongAdder adder(Map<String, LongAdder> m, String key) {
        LongAdder a = m.get(key);
        return a != null ? a : m.computeIfAbsent(key, k -> new LongAdder());
    }
}
