package io.sluice.admin.metrics;

import io.sluice.core.observe.Exchange;
import io.sluice.core.observe.ExchangeObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The gateway's request metrics, fed once per finished exchange (an {@link ExchangeObserver}) and
 * by the accept path for open connections. Recording is lock-free: {@link LongAdder}s and
 * {@link Latency} recorders; the only allocation is a map key per request for the labelled counter.
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

    final Latency duration = new Latency();
    final Latency connect = new Latency();
    final Latency responseHead = new Latency();
    final Latency firstToken = new Latency();
    final Latency chunkGap = new Latency();
    final Latency interChunk = new Latency();

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
        if (ex.status != 101) { // a WebSocket's duration is its session's, not a request latency
            duration.recordMicros(ex.durationMicros());
        }
        if (ex.connectedNanos != 0) {
            connect.recordMicros((ex.connectedNanos - ex.connectStartNanos) / 1000);
        }
        if (ex.backend != null && ex.gatewayError == null && ex.upstreamSentNanos != 0 && ex.responseHeadNanos != 0) {
            responseHead.recordMicros((ex.responseHeadNanos - ex.upstreamSentNanos) / 1000);
        }
        if (ex.firstContentNanos != 0) {
            firstToken.recordMicros((ex.firstContentNanos - ex.startNanos) / 1000);
        }
        if (ex.contentChunks > 1) {
            chunkGap.recordMicros(ex.maxContentGapNanos / 1000);
        }
        if (ex.outcome == Exchange.Outcome.CLIENT_ABORTED && ex.backend != null) {
            clientAborts.increment(); // the upstream connection was closed, so the backend stopped generating
        } else if (ex.outcome == Exchange.Outcome.UPSTREAM_ABORTED) {
            upstreamAborts.increment(); // the client connection was cut so the client sees an incomplete answer
        }
    }

    @Override
    public void onContentGap(Exchange exchange, long gapNanos) {
        interChunk.recordMicros(gapNanos / 1000);
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
