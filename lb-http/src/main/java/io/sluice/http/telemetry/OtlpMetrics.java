package io.sluice.http.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporterBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.AggregationTemporalitySelector;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.TelemetryConfig;
import io.sluice.core.observe.Exchange;
import io.sluice.core.observe.ExchangeObserver;
import io.sluice.core.observe.LogThrottle;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GenAI semantic-convention metrics of every model request, pushed over OTLP/HTTP to a collector
 * ({@code telemetry.otlp}): {@code gen_ai.server.request.duration}, {@code gen_ai.server.time_to_first_token},
 * {@code gen_ai.server.time_per_output_token} (seconds) and {@code gen_ai.client.token.usage} ({@code {token}}),
 * with the buckets the conventions recommend.
 *
 * <p>Everything is recorded once, when the exchange ends, from what {@link Exchange} already holds: nothing
 * per chunk. The attribute sets are built once per (operation, provider, model, backend, error) and cached
 * (up to {@value #MAX_CACHED}; beyond that they are built per exchange). Export runs on the SDK's own
 * thread; a collector that is down costs a throttled warning per minute and never touches a client.
 */
public final class OtlpMetrics implements ExchangeObserver, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OtlpMetrics.class);
    /**
     * The SDK logs every failed or slow export through java.util.logging (a line per interval while the
     * collector is down); Sluice logs them itself, throttled. Held: JUL keeps its loggers weakly.
     */
    private static final List<java.util.logging.Logger> SDK_EXPORT_LOGS = List.of(
            java.util.logging.Logger.getLogger("io.opentelemetry.exporter"),
            java.util.logging.Logger.getLogger("io.opentelemetry.sdk.metrics.export.PeriodicMetricReader"));
    private static final int MAX_CACHED = 4096;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
    static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
    static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
    static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
    static final AttributeKey<String> TOKEN_TYPE = AttributeKey.stringKey("gen_ai.token.type");
    static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
    static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<String> POOL = AttributeKey.stringKey("sluice.pool");

    private final SdkMeterProvider provider;
    private final DoubleHistogram duration;
    private final DoubleHistogram timeToFirstToken;
    private final DoubleHistogram timePerOutputToken;
    private final LongHistogram tokenUsage;
    private final BiFunction<String, String, Backend> backends;
    private final Map<Key, Labels> labels = new ConcurrentHashMap<>();
    private final Duration closeWait;

    /**
     * @param backends finds a pool's backend by id, for {@code server.address} and {@code server.port}
     *                 (null when it is gone)
     */
    public OtlpMetrics(TelemetryConfig.Otlp config, String version, BiFunction<String, String, Backend> backends) {
        this.backends = backends;
        this.closeWait = config.timeout().compareTo(CLOSE_WAIT) < 0 ? config.timeout() : CLOSE_WAIT;
        SDK_EXPORT_LOGS.forEach(l -> l.setLevel(java.util.logging.Level.OFF));
        OtlpHttpMetricExporterBuilder exporter = OtlpHttpMetricExporter.builder()
                .setEndpoint(config.metricsUrl().toString())
                .setTimeout(config.timeout())
                .setAggregationTemporalitySelector(AggregationTemporalitySelector.alwaysCumulative());
        config.headers().forEach(exporter::addHeader);
        AttributesBuilder resource = Attributes.builder().put("service.name", "sluice").put("service.version", version);
        config.resource().forEach(resource::put);
        this.provider = SdkMeterProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(resource.build())))
                .registerMetricReader(PeriodicMetricReader.builder(new ThrottledFailures(exporter.build(), config))
                        .setInterval(config.interval()).build())
                .build();
        Meter meter = provider.meterBuilder("io.sluice").setInstrumentationVersion(version).build();
        List<Double> durationBuckets = List.of(0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92);
        this.duration = meter.histogramBuilder("gen_ai.server.request.duration").setUnit("s")
                .setDescription("Generative AI server request duration such as time-to-last byte or last output token.")
                .setExplicitBucketBoundariesAdvice(durationBuckets).build();
        this.timeToFirstToken = meter.histogramBuilder("gen_ai.server.time_to_first_token").setUnit("s")
                .setDescription("Time to generate first token for successful responses.")
                .setExplicitBucketBoundariesAdvice(List.of(0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
                        0.75, 1.0, 2.5, 5.0, 7.5, 10.0)).build();
        this.timePerOutputToken = meter.histogramBuilder("gen_ai.server.time_per_output_token").setUnit("s")
                .setDescription("Time per output token generated after the first token for successful responses.")
                .setExplicitBucketBoundariesAdvice(List.of(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
                        0.75, 1.0, 2.5)).build();
        this.tokenUsage = meter.histogramBuilder("gen_ai.client.token.usage").ofLongs().setUnit("{token}")
                .setDescription("Number of input and output tokens used.")
                .setExplicitBucketBoundariesAdvice(List.of(1L, 4L, 16L, 64L, 256L, 1024L, 4096L, 16384L, 65536L, 262144L,
                        1048576L, 4194304L, 16777216L, 67108864L)).build();
        log.info("telemetry: OTLP metrics to {} every {}", config.metricsUrl(),
                io.sluice.core.config.Durations.format(config.interval()));
    }

    @Override
    public void onExchangeEnd(Exchange ex) {
        String operation = operation(ex.path);
        if (operation == null) {
            if (ex.model == null && ex.provider == null) {
                return; // not a model request (files, admin, model lists, WebSocket): no GenAI metric
            }
            operation = "chat";
        }
        String error = errorType(ex);
        Labels l = labels(ex, operation, error);
        if (ex.endNanos != 0) {
            duration.record((ex.endNanos - ex.startNanos) / 1e9, l.withError);
        }
        if (error == null && ex.firstContentNanos != 0) {
            timeToFirstToken.record((ex.firstContentNanos - ex.startNanos) / 1e9, l.plain);
            // The decode phase over the tokens after the first: the provider's count when known, else the chunks seen.
            long after = (ex.completionTokens > 0 ? ex.completionTokens : ex.contentChunks) - 1;
            if (after > 0 && ex.lastContentNanos > ex.firstContentNanos) {
                timePerOutputToken.record((ex.lastContentNanos - ex.firstContentNanos) / 1e9 / after, l.plain);
            }
        }
        if (ex.promptTokens >= 0) {
            tokenUsage.record(ex.promptTokens, l.input);
        }
        if (ex.completionTokens >= 0) {
            tokenUsage.record(ex.completionTokens, l.output);
        }
    }

    /** {@code error.type}: Sluice's own error code, how the stream was cut, or the HTTP status of a failure. */
    static String errorType(Exchange ex) {
        if (ex.gatewayError != null) {
            return ex.gatewayError;
        }
        if (ex.outcome == Exchange.Outcome.UPSTREAM_ABORTED) {
            return "upstream_aborted";
        }
        if (ex.outcome == Exchange.Outcome.CLIENT_ABORTED) {
            return "client_aborted";
        }
        return ex.status >= 400 ? Integer.toString(ex.status) : null;
    }

    /** {@code gen_ai.operation.name} from the API called; null for a path that is none of them. */
    static String operation(String path) {
        if (path == null) {
            return null;
        }
        if (path.endsWith("/embeddings") || path.endsWith("/api/embed")) {
            return "embeddings";
        }
        if (path.endsWith(":generateContent") || path.endsWith(":streamGenerateContent")) {
            return "generate_content";
        }
        if (path.endsWith("/chat/completions") || path.endsWith("/messages") || path.endsWith("/api/chat")
                || path.endsWith("/responses")) {
            return "chat";
        }
        if (path.endsWith("/completions") || path.endsWith("/api/generate")) {
            return "text_completion";
        }
        return null;
    }

    /** {@code gen_ai.provider.name}: the well-known value for a provider Sluice calls; {@code vllm} for a pool of its own. */
    static String providerName(String provider) {
        if (provider == null) {
            return "vllm";
        }
        return switch (provider) {
            case "gemini" -> "gcp.gemini";
            default -> provider;
        };
    }

    private Labels labels(Exchange ex, String operation, String error) {
        Key k = new Key(operation, ex.provider, ex.requestedModel != null ? ex.requestedModel : ex.model, ex.model,
                ex.pool, ex.backend, error);
        Labels l = labels.get(k);
        if (l == null) {
            l = build(k);
            if (labels.size() < MAX_CACHED) {
                labels.putIfAbsent(k, l);
            }
        }
        return l;
    }

    private Labels build(Key k) {
        AttributesBuilder b = Attributes.builder().put(OPERATION, k.operation).put(PROVIDER, providerName(k.provider));
        if (k.requestModel != null) {
            b.put(REQUEST_MODEL, k.requestModel);
        }
        if (k.responseModel != null) {
            b.put(RESPONSE_MODEL, k.responseModel);
        }
        if (k.pool != null) {
            b.put(POOL, k.pool);
            Backend backend = k.backend == null ? null : backends.apply(k.pool, k.backend);
            if (backend != null) {
                b.put(SERVER_ADDRESS, backend.host()).put(SERVER_PORT, (long) backend.port());
            }
        }
        Attributes plain = b.build();
        return new Labels(plain, k.error == null ? plain : plain.toBuilder().put(ERROR_TYPE, k.error).build(),
                plain.toBuilder().put(TOKEN_TYPE, "input").build(), plain.toBuilder().put(TOKEN_TYPE, "output").build());
    }

    /**
     * Exports what was recorded since the last push, then stops (with the server); a collector that does
     * not answer holds the shutdown for at most {@link #CLOSE_WAIT} (or the push timeout, if shorter).
     */
    @Override
    public void close() {
        provider.shutdown().join(closeWait.toMillis(), TimeUnit.MILLISECONDS);
    }

    private record Key(String operation, String provider, String requestModel, String responseModel, String pool,
                       String backend, String error) {
    }

    private record Labels(Attributes plain, Attributes withError, Attributes input, Attributes output) {
    }

    /** The exporter, with its failures logged by Sluice, at most once a minute (the headers never). */
    private static final class ThrottledFailures implements MetricExporter {
        private final MetricExporter delegate;
        private final String url;
        private final LogThrottle throttle = new LogThrottle(Duration.ofMinutes(1), 1);

        ThrottledFailures(MetricExporter delegate, TelemetryConfig.Otlp config) {
            this.delegate = delegate;
            this.url = config.metricsUrl().toString();
        }

        @Override
        public CompletableResultCode export(Collection<MetricData> metrics) {
            CompletableResultCode result = delegate.export(metrics);
            result.whenComplete(() -> {
                if (!result.isSuccess()) {
                    long suppressed = throttle.admit("export");
                    if (suppressed >= 0) {
                        Throwable why = result.getFailureThrowable();
                        log.warn("telemetry: OTLP export to {} failed ({}); metrics of this interval are lost{}", url,
                                why == null ? "the collector refused them" : why.toString(), throttle.summary(suppressed));
                    }
                }
            });
            return result;
        }

        @Override
        public AggregationTemporality getAggregationTemporality(InstrumentType type) {
            return delegate.getAggregationTemporality(type);
        }

        @Override
        public io.opentelemetry.sdk.metrics.Aggregation getDefaultAggregation(InstrumentType type) {
            return delegate.getDefaultAggregation(type);
        }

        @Override
        public io.opentelemetry.sdk.common.export.MemoryMode getMemoryMode() {
            return delegate.getMemoryMode();
        }

        @Override
        public CompletableResultCode flush() {
            return delegate.flush();
        }

        @Override
        public CompletableResultCode shutdown() {
            return delegate.shutdown();
        }
    }
}
