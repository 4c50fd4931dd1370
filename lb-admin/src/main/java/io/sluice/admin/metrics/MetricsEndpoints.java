package io.sluice.admin.metrics;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.admin.AdminContext;
import io.sluice.admin.AdminResponse;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code GET /metrics} (also {@code /api/v1/metrics}) in Prometheus text format, and
 * {@code GET /api/v1/stats}: the same latencies as p50/p90/p99/max in JSON.
 *
 * <p>{@code /metrics} is an admin route like the others (same access control): a listener exposes
 * it with a route {@code { path: /metrics, admin: true }}.
 */
public final class MetricsEndpoints {
    private final AdminContext gateway;
    private final GatewayMetrics metrics;
    private final List<Extra> extras = new ArrayList<>();

    /** More families from other features (vLLM scrapes, processes), appended to each exposition. */
    @FunctionalInterface
    public interface Extra {
        void write(Exposition out);
    }

    /** The writer handed to {@link Extra}s. */
    public static final class Exposition {
        private final PrometheusText text;

        Exposition(PrometheusText text) {
            this.text = text;
        }

        public Exposition family(String name, String type, String help) {
            text.family(name, type, help);
            return this;
        }

        public Exposition sample(String name, double value, String... labels) {
            text.sample(name, value, labels);
            return this;
        }
    }

    public MetricsEndpoints(AdminContext gateway, GatewayMetrics metrics) {
        this.gateway = gateway;
        this.metrics = metrics;
    }

    public MetricsEndpoints extra(Extra extra) {
        extras.add(extra);
        return this;
    }

    public AdminRoutes register(AdminRoutes routes) {
        return routes
                .add(HttpMethod.GET, "/metrics", r -> exposition())
                .add(HttpMethod.GET, "/api/v1/metrics", r -> exposition())
                .add(HttpMethod.GET, "/api/v1/stats", r -> AdminResponse.ok(stats()));
    }

    AdminResponse exposition() {
        PrometheusText t = new PrometheusText();
        t.family("sluice_requests_total", "counter", "Finished requests by listener, route prefix, status and backend (empty: answered by Sluice).");
        metrics.requests.forEach((k, v) -> t.sample("sluice_requests_total", v.sum(), "listener", k.listener(),
                "route", k.route(), "status", Integer.toString(k.status()), "backend", k.backend()));
        t.family("sluice_provider_requests_total", "counter", "Requests to LLM providers by provider, API key id (empty: none) and status.");
        metrics.providerRequests.forEach((k, v) -> t.sample("sluice_provider_requests_total", v.sum(), "provider", k.provider(),
                "key", k.key(), "status", k.type()));
        t.family("sluice_provider_tokens_total", "counter", "Tokens as providers reported them (a stream the client left: the chunks it was sent), by provider, API key id and type.");
        metrics.providerTokens.forEach((k, v) -> t.sample("sluice_provider_tokens_total", v.sum(), "provider", k.provider(),
                "key", k.key(), "type", k.type()));
        t.family("sluice_request_bytes_total", "counter", "Request body bytes received from clients.");
        metrics.bytesIn.forEach((l, v) -> t.sample("sluice_request_bytes_total", v.sum(), "listener", l));
        t.family("sluice_response_bytes_total", "counter", "Response body bytes sent to clients.");
        metrics.bytesOut.forEach((l, v) -> t.sample("sluice_response_bytes_total", v.sum(), "listener", l));
        t.family("sluice_open_connections", "gauge", "Client connections currently open.");
        metrics.openConnections.forEach((l, v) -> t.sample("sluice_open_connections", v.sum(), "listener", l));
        t.family("sluice_aborts_total", "counter", "Aborts propagated: client=client left, upstream connection closed; upstream=backend failed mid-response, client connection cut.");
        t.sample("sluice_aborts_total", metrics.clientAborts.sum(), "direction", "client");
        t.sample("sluice_aborts_total", metrics.upstreamAborts.sum(), "direction", "upstream");
        t.summary("sluice_request_duration_seconds", "Whole exchange, request head to response end.", metrics.duration.snapshot());
        t.summary("sluice_upstream_connect_seconds", "Opening a new upstream connection (pooled ones need none).", metrics.connect.snapshot());
        t.summary("sluice_upstream_response_head_seconds", "Request sent upstream to response head (queueing plus prefill for vLLM).", metrics.responseHead.snapshot());
        t.summary("sluice_time_to_first_token_seconds", "Request arrival to the first response body bytes forwarded (first SSE event of a stream).", metrics.firstToken.snapshot());
        t.summary("sluice_inter_chunk_gap_seconds", "Gap between consecutive forwarded response body chunks (inter-token latency seen by clients).", metrics.interChunk.snapshot());
        t.summary("sluice_stream_max_chunk_gap_seconds", "Per response, the longest gap between two forwarded body chunks (inter-token stalls).", metrics.chunkGap.snapshot());

        List<BackendPool> pools = new ArrayList<>(gateway.pools());
        t.family("sluice_backend_up", "gauge", "1 when the backend passes health checks.");
        each(pools, (p, b) -> t.sample("sluice_backend_up", b.isHealthy() ? 1 : 0, "pool", p.name(), "backend", b.id()));
        t.family("sluice_backend_draining", "gauge", "1 when an operator drained the backend (no new requests).");
        each(pools, (p, b) -> t.sample("sluice_backend_draining", b.isDraining() ? 1 : 0, "pool", p.name(), "backend", b.id()));
        t.family("sluice_backend_in_flight", "gauge", "Requests in flight on the backend.");
        each(pools, (p, b) -> t.sample("sluice_backend_in_flight", b.inFlight(), "pool", p.name(), "backend", b.id()));
        t.family("sluice_backend_requests_total", "counter", "Requests sent to the backend.");
        each(pools, (p, b) -> t.sample("sluice_backend_requests_total", b.requests(), "pool", p.name(), "backend", b.id()));
        t.family("sluice_backend_failures_total", "counter", "Requests the backend failed (connect error, reset, timeout).");
        each(pools, (p, b) -> t.sample("sluice_backend_failures_total", b.failures(), "pool", p.name(), "backend", b.id()));
        t.family("sluice_backend_ejections_total", "counter", "Times the backend was taken out of rotation as unhealthy.");
        each(pools, (p, b) -> t.sample("sluice_backend_ejections_total", b.ejections(), "pool", p.name(), "backend", b.id()));
        t.family("sluice_pool_available_backends", "gauge", "Backends of the pool that take new requests.");
        pools.forEach(p -> t.sample("sluice_pool_available_backends", p.availableCount(), "pool", p.name()));
        t.family("sluice_pool_queued_requests", "gauge", "Requests waiting for a free backend; per priority class when the queue has classes.");
        pools.forEach(p -> {
            Map<String, Integer> byClass = p.queuedByClass();
            if (byClass.isEmpty()) {
                t.sample("sluice_pool_queued_requests", p.queued(), "pool", p.name());
            } else {
                byClass.forEach((c, n) -> t.sample("sluice_pool_queued_requests", n, "pool", p.name(), "class", c));
            }
        });
        Exposition ex = new Exposition(t);
        extras.forEach(e -> e.write(ex));
        t.family("sluice_uptime_seconds", "gauge", "Seconds since the gateway started.");
        t.sample("sluice_uptime_seconds", (System.currentTimeMillis() - gateway.startedAtMillis()) / 1000.0);
        return AdminResponse.text(HttpResponseStatus.OK, PrometheusText.CONTENT_TYPE, t.toString());
    }

    private static void each(List<BackendPool> pools, java.util.function.BiConsumer<BackendPool, Backend> f) {
        for (BackendPool p : pools) {
            for (Backend b : p.backends()) {
                f.accept(p, b);
            }
        }
    }

    Map<String, Object> stats() {
        Map<String, Object> body = new LinkedHashMap<>();
        long total = 0;
        for (LongAdder a : metrics.requests.values()) {
            total += a.sum();
        }
        body.put("requests_total", total);
        body.put("open_connections", metrics.openConnections.values().stream().mapToLong(LongAdder::sum).sum());
        body.put("aborts", Map.of("client", metrics.clientAborts.sum(), "upstream", metrics.upstreamAborts.sum()));
        Map<String, Object> lat = new LinkedHashMap<>();
        lat.put("request", ms(metrics.duration.snapshot()));
        lat.put("upstream_connect", ms(metrics.connect.snapshot()));
        lat.put("upstream_response_head", ms(metrics.responseHead.snapshot()));
        lat.put("time_to_first_token", ms(metrics.firstToken.snapshot()));
        lat.put("inter_chunk_gap", ms(metrics.interChunk.snapshot()));
        lat.put("stream_max_chunk_gap", ms(metrics.chunkGap.snapshot()));
        body.put("latency_ms", lat);
        return body;
    }

    private static Map<String, Object> ms(Latency.Snapshot s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", s.count());
        m.put("p50", s.p50() / 1000.0);
        m.put("p90", s.p90() / 1000.0);
        m.put("p99", s.p99() / 1000.0);
        m.put("max", s.max() / 1000.0);
        return m;
    }
}
