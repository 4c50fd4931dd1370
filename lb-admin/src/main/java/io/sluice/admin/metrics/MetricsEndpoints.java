package io.sluice.admin.metrics;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import io.sluice.admin.AdminContext;
import io.sluice.admin.AdminRequest;
import io.sluice.admin.AdminResponse;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;

/**
 * {@code GET /metrics} (also {@code /api/v1/metrics}) written by the Prometheus Java client, and
 * {@code GET /api/v1/stats}: the same latencies as p50/p90/p99/max in JSON (HdrHistogram).
 *
 * <p>Counters and gauges are callbacks that read the gateway's own state at scrape time (its
 * {@link LongAdder}s, backends and pools), so nothing is counted twice; latencies are the
 * {@link Timing} histograms. The registry is this gateway's own, not the client's global one, so
 * several gateways in one JVM (the tests) do not share series; JVM metrics come from one registry
 * per JVM. The format follows the scraper's
 * {@code Accept}: text 0.0.4 by default, OpenMetrics when asked for.
 *
 * <p>{@code /metrics} is an admin route like the others (same access control): a listener exposes
 * it with a route {@code { path: /metrics, admin: true }}.
 */
public final class MetricsEndpoints {
    private static final ExpositionFormats FORMATS = ExpositionFormats.init();
    /**
     * The JVM's and process's metrics, one set per JVM: the client remembers every registry it
     * registered them with, forever, so a registry per gateway would keep each stopped gateway alive.
     */
    private static final PrometheusRegistry JVM = new PrometheusRegistry();

    static {
        JvmMetrics.builder().register(JVM);
    }

    private final AdminContext gateway;
    private final GatewayMetrics metrics;
    private final PrometheusRegistry registry = new PrometheusRegistry();

    /** More families from other features (vLLM scrapes), registered with the exposition's registry. */
    @FunctionalInterface
    public interface Extra {
        void register(PrometheusRegistry registry);
    }

    public MetricsEndpoints(AdminContext gateway, GatewayMetrics metrics) {
        this.gateway = gateway;
        this.metrics = metrics;
        registerGateway();
        metrics.timings().forEach(t -> registry.register(t));
        registerBackends();
    }

    public MetricsEndpoints extra(Extra extra) {
        extra.register(registry);
        return this;
    }

    public AdminRoutes register(AdminRoutes routes) {
        return routes
                .add(HttpMethod.GET, "/metrics", this::exposition)
                .add(HttpMethod.GET, "/api/v1/metrics", this::exposition)
                .add(HttpMethod.GET, "/api/v1/stats", r -> AdminResponse.ok(stats()));
    }

    AdminResponse exposition(AdminRequest r) {
        ExpositionFormatWriter writer = FORMATS.findWriter(r.headers().get(HttpHeaderNames.ACCEPT));
        if (!writer.isAvailable()) { // protobuf needs the client's protobuf module, which Sluice leaves out
            writer = FORMATS.getPrometheusTextFormatWriter();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(32 * 1024);
        try {
            MetricSnapshots.Builder all = MetricSnapshots.builder();
            registry.scrape().forEach(all::metricSnapshot);
            JVM.scrape().forEach(all::metricSnapshot);
            writer.write(out, all.build());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
        }
        return AdminResponse.text(HttpResponseStatus.OK, writer.getContentType(), out.toString(StandardCharsets.UTF_8))
                .header("Vary", "Accept");
    }

    private void registerGateway() {
        counter("sluice_requests", "Finished requests by listener, route prefix, status and backend (empty: answered by Sluice).",
                cb -> metrics.requests.forEach((k, v) -> cb.call(v.sum(), k.listener(), k.route(), Integer.toString(k.status()),
                        k.backend())), "listener", "route", "status", "backend");
        counter("sluice_provider_requests", "Requests to LLM providers by provider, API key id (empty: none) and status.",
                cb -> metrics.providerRequests.forEach((k, v) -> cb.call(v.sum(), k.provider(), k.key(), k.type())),
                "provider", "key", "status");
        counter("sluice_provider_tokens",
                "Tokens as providers reported them (a stream the client left: the chunks it was sent), by provider, API key id and type.",
                cb -> metrics.providerTokens.forEach((k, v) -> cb.call(v.sum(), k.provider(), k.key(), k.type())),
                "provider", "key", "type");
        registry.register(CounterWithCallback.builder().name("sluice_request_bytes").unit(Unit.BYTES)
                .help("Request body bytes received from clients.").labelNames("listener")
                .callback(cb -> metrics.bytesIn.forEach((l, v) -> cb.call(v.sum(), l))).build());
        registry.register(CounterWithCallback.builder().name("sluice_response_bytes").unit(Unit.BYTES)
                .help("Response body bytes sent to clients.").labelNames("listener")
                .callback(cb -> metrics.bytesOut.forEach((l, v) -> cb.call(v.sum(), l))).build());
        gauge("sluice_open_connections", "Client connections currently open.",
                cb -> metrics.openConnections.forEach((l, v) -> cb.call(v.sum(), l)), "listener");
        counter("sluice_aborts", "Aborts propagated: client=client left, upstream connection closed; "
                + "upstream=backend failed mid-response, client connection cut.", cb -> {
                    cb.call(metrics.clientAborts.sum(), "client");
                    cb.call(metrics.upstreamAborts.sum(), "upstream");
                }, "direction");
        registry.register(GaugeWithCallback.builder().name("sluice_uptime_seconds").unit(Unit.SECONDS)
                .help("Seconds since the gateway started.")
                .callback(cb -> cb.call((System.currentTimeMillis() - gateway.startedAtMillis()) / 1000.0)).build());
    }

    private void registerBackends() {
        backendGauge("sluice_backend_up", "1 when the backend passes health checks.", b -> b.isHealthy() ? 1 : 0);
        backendGauge("sluice_backend_draining", "1 when an operator drained the backend (no new requests).",
                b -> b.isDraining() ? 1 : 0);
        backendGauge("sluice_backend_in_flight", "Requests in flight on the backend.", Backend::inFlight);
        backendCounter("sluice_backend_requests", "Requests sent to the backend.", Backend::requests);
        backendCounter("sluice_backend_failures", "Requests the backend failed (connect error, reset, timeout).",
                Backend::failures);
        backendCounter("sluice_backend_ejections", "Times the backend was taken out of rotation as unhealthy.",
                Backend::ejections);
        gauge("sluice_pool_available_backends", "Backends of the pool that take new requests.",
                cb -> gateway.pools().forEach(p -> cb.call(p.availableCount(), p.name())), "pool");
        gauge("sluice_pool_queued_requests",
                "Requests waiting for a free backend; per priority class when the queue has classes (else class is empty).", cb -> {
                    for (BackendPool p : gateway.pools()) {
                        Map<String, Integer> byClass = p.queuedByClass();
                        if (byClass.isEmpty()) {
                            cb.call(p.queued(), p.name(), "");
                        } else {
                            byClass.forEach((c, n) -> cb.call(n, p.name(), c));
                        }
                    }
                }, "pool", "class");
    }

    private void counter(String name, String help, Consumer<CounterWithCallback.Callback> callback, String... labels) {
        registry.register(CounterWithCallback.builder().name(name).help(help).labelNames(labels).callback(callback).build());
    }

    private void gauge(String name, String help, Consumer<GaugeWithCallback.Callback> callback, String... labels) {
        registry.register(GaugeWithCallback.builder().name(name).help(help).labelNames(labels).callback(callback).build());
    }

    private void backendGauge(String name, String help, ToDoubleFunction<Backend> value) {
        gauge(name, help, cb -> eachBackend((p, b) -> cb.call(value.applyAsDouble(b), p.name(), b.id())), "pool", "backend");
    }

    private void backendCounter(String name, String help, ToDoubleFunction<Backend> value) {
        counter(name, help, cb -> eachBackend((p, b) -> cb.call(value.applyAsDouble(b), p.name(), b.id())), "pool", "backend");
    }

    private void eachBackend(java.util.function.BiConsumer<BackendPool, Backend> f) {
        for (BackendPool p : gateway.pools()) {
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
        lat.put("stream_max_chunk_gap", ms(metrics.maxChunkGap.snapshot()));
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
