package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code telemetry.otlp}: the GenAI semantic-convention metrics reach a collector over OTLP/HTTP (a real
 * receiver on loopback, decoding the protobuf), with their names, units, buckets and attributes; and a
 * collector that fails costs the clients nothing and the log one line.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OtlpExportTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SECRET = "otlp-secret-0123456789";
    /** What the gateway logs to stderr over the whole class (from before it starts, so nothing is missed). */
    static final ByteArrayOutputStream CAPTURED = new ByteArrayOutputStream();
    static final PrintStream ORIGINAL_ERR = System.err;

    static {
        System.setErr(new PrintStream(new WarningFloodTest.Tee(ORIGINAL_ERR, CAPTURED), true, StandardCharsets.UTF_8));
    }

    @AfterAll
    static void restoreStderr() {
        System.setErr(ORIGINAL_ERR);
    }

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("OTLP", OtlpReceiver::new, OtlpReceiver::port)
            .env("COLLECTOR_KEY", SECRET)
            .yaml("""
                    telemetry:
                      otlp:
                        endpoint: "http://127.0.0.1:${OTLP}"
                        interval: 100ms
                        headers: { x-collector-key: "${COLLECTOR_KEY}" }
                        resource: { deployment.environment.name: test }
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        rate-limits: { per-ip: { requests-per-minute: 100000, tokens-per-minute: 100000000 } }
                        routes:
                          - { path: /api/chat, gateway: chat }
                          - { path: /v1/, by-model: true }
                    models:
                      aliases: { fast: demo }
                    pools:
                      vllm:
                        models: [ demo ]
                        backends: [ { simulator: { model: demo, ttft: 20ms, itl: 5ms } } ]
                    providers:
                      openai: { simulator: { ttft: 5ms, itl: 2ms } }
                    """)
            .build();

    static OtlpReceiver collector() {
        return sluice.backend("OTLP");
    }

    static final String STREAMED = "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}],"
            + "\"stream\":true,\"max_tokens\":8,\"stream_options\":{\"include_usage\":true}}";

    /** A streamed chat through the pool; @return its usage as the client saw it. */
    static JsonNode streamedChat() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.post("/v1/chat/completions", STREAMED).exchange();
            assertEquals(200, r.status(), r.body().text());
            List<String> events = r.body().events();
            JsonNode usage = JSON.readTree(events.get(events.size() - 2)).get("usage"); // before [DONE]
            assertNotNull(usage, events.toString());
            return usage;
        }
    }

    static void providerChat() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.post("/api/chat", "{\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"stream\":true,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}]}").exchange();
            assertEquals(200, r.status(), r.body().text());
        }
    }

    static Map<String, String> attrs(HistogramDataPoint p) {
        return OtlpReceiver.attributes(p.getAttributesList());
    }

    static HistogramDataPoint point(String metric, String key, String value) {
        return collector().points(metric).stream().filter(p -> value.equals(attrs(p).get(key))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + metric + " point with " + key + "=" + value + ": "
                        + collector().points(metric)));
    }

    @Test
    @Order(1)
    void genAiMetricsReachTheCollector() throws Exception {
        java.util.Set<String> usages = new java.util.HashSet<>();
        for (int i = 0; i < 3; i++) {
            usages.add(streamedChat().toString());
        }
        assertEquals(1, usages.size(), "the same request, the same usage: " + usages);
        JsonNode usage = JSON.readTree(usages.iterator().next());
        long prompt = usage.get("prompt_tokens").asLong();
        long completion = usage.get("completion_tokens").asLong();
        providerChat();
        try {
            Await.until("the collector has all four requests", Duration.ofSeconds(20),
                    () -> collector().count("gen_ai.server.request.duration") == 4 && tokens("openai", "input").getCount() == 1
                            && tokens("openai", "output").getCount() == 1
                            && tokens("vllm", "input").getCount() == tokens("vllm", "output").getCount());
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; " + collector().posts.get() + " posts; latest duration points "
                    + collector().points("gen_ai.server.request.duration") + "; token points "
                    + collector().points("gen_ai.client.token.usage"), e);
        }

        OtlpReceiver.Received last = collector().snapshot().get(collector().snapshot().size() - 1);
        assertEquals(SECRET, last.headers().get("x-collector-key"), "the configured headers are sent");
        Map<String, String> resource = OtlpReceiver.attributes(last.request().getResourceMetrics(0).getResource().getAttributesList());
        assertEquals("sluice", resource.get("service.name"), resource.toString());
        assertEquals("test", resource.get("deployment.environment.name"), resource.toString());

        Map<String, String> units = Map.of("gen_ai.server.request.duration", "s", "gen_ai.server.time_to_first_token", "s",
                "gen_ai.server.time_per_output_token", "s", "gen_ai.client.token.usage", "{token}");
        for (Map.Entry<String, String> e : units.entrySet()) {
            Metric m = collector().latest(e.getKey());
            assertNotNull(m, e.getKey() + " exported");
            assertEquals(e.getValue(), m.getUnit(), e.getKey());
            assertTrue(m.hasHistogram(), e.getKey() + " is a histogram");
            assertEquals(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, m.getHistogram().getAggregationTemporality());
        }

        int simPort = sluice.server().upstreams().pool("vllm").backends().get(0).port();
        HistogramDataPoint pool = point("gen_ai.server.request.duration", "gen_ai.provider.name", "vllm");
        assertEquals(Map.of("gen_ai.operation.name", "chat", "gen_ai.provider.name", "vllm", "gen_ai.request.model", "fast",
                "gen_ai.response.model", "demo", "server.address", "127.0.0.1", "server.port", Integer.toString(simPort),
                "sluice.pool", "vllm"), attrs(pool));
        assertEquals(3, pool.getCount());
        assertTrue(pool.getSum() >= 3 * 0.02, "three streams of at least their 20ms TTFT: " + pool.getSum());
        assertEquals(List.of(0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92),
                pool.getExplicitBoundsList(), "the buckets the conventions recommend");
        HistogramDataPoint openai = point("gen_ai.server.request.duration", "gen_ai.provider.name", "openai");
        assertEquals(1, openai.getCount());
        assertEquals("gpt-4o-mini", attrs(openai).get("gen_ai.request.model"));

        HistogramDataPoint ttft = point("gen_ai.server.time_to_first_token", "gen_ai.provider.name", "vllm");
        assertEquals(3, ttft.getCount());
        assertTrue(ttft.getSum() > 0 && ttft.getSum() < pool.getSum(), ttft.getSum() + " vs " + pool.getSum());
        assertEquals(0.001, ttft.getExplicitBounds(0));
        HistogramDataPoint tpot = point("gen_ai.server.time_per_output_token", "gen_ai.provider.name", "vllm");
        assertEquals(3, tpot.getCount());
        assertTrue(tpot.getSum() > 0, "time per output token measured");

        // A pool's usage is read from the stream by the token meter, best effort (a usage object split across
        // two reads is missed): each one read is the backend's own count.
        HistogramDataPoint input = tokens("vllm", "input");
        HistogramDataPoint output = tokens("vllm", "output");
        assertTrue(input.getCount() >= 1 && input.getCount() <= 3, "input points: " + input.getCount());
        assertEquals(input.getCount() * prompt, (long) input.getSum(), "the prompt tokens the backend reported");
        assertEquals(input.getCount() * completion, (long) output.getSum(), "the completion tokens the backend reported");
        assertEquals(1.0, input.getExplicitBounds(0));
        assertTrue(tokens("openai", "input").getSum() > 0 && tokens("openai", "output").getSum() > 0, "the provider's usage");
    }

    /** The token usage point of a provider and token type; an empty point (count 0) when there is none yet. */
    static HistogramDataPoint tokens(String provider, String type) {
        return collector().points("gen_ai.client.token.usage").stream()
                .filter(p -> provider.equals(attrs(p).get("gen_ai.provider.name")) && type.equals(attrs(p).get("gen_ai.token.type")))
                .findFirst().orElse(HistogramDataPoint.getDefaultInstance());
    }

    @Test
    @Order(2)
    void aFailingCollectorCostsClientsNothingAndTheLogOneLine() throws Exception {
        collector().failWith(503);
        try {
            int failedBefore = collector().failed.get();
            for (int i = 0; i < 5; i++) {
                streamedChat(); // 200 and a whole stream, whatever the collector does
            }
            Await.until("several exports failed and were logged", Duration.ofSeconds(20),
                    () -> collector().failed.get() >= failedBefore + 4 && !warnings().isEmpty());
            // One line a minute over the whole class (an export the first test's load pushed out counts too).
            List<String> lines = warnings();
            assertEquals(1, lines.size(), "throttled: " + lines);
            assertTrue(lines.get(0).contains("/v1/metrics"), lines.get(0));
            assertTrue(!CAPTURED.toString(StandardCharsets.UTF_8).contains(SECRET), "the header's secret is never logged");
        } finally {
            collector().failWith(0);
        }
    }

    private static List<String> warnings() {
        synchronized (CAPTURED) {
            return CAPTURED.toString(StandardCharsets.UTF_8).lines()
                    .filter(l -> l.contains("WARN") && l.contains("telemetry: OTLP export")).toList();
        }
    }
}
