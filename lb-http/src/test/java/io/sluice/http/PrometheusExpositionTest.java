package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /metrics} as Prometheus itself reads it: after streamed requests over real sockets the scrape
 * passes {@code promtool check metrics} without a lint complaint, and its histograms have buckets and
 * counts that match the requests made.
 */
class PrometheusExpositionTest {
    private static final int STREAMS = 3;
    private static final int TOKENS = 6;

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - name: pub
                port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: vllm }, { path: /metrics, admin: true } ]
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}", name: sim0 } ]
            """, SimulatorOptions.builder().model("demo").ttft(Duration.ofMillis(30)).itl(Duration.ofMillis(3))
            .maxTokens(TOKENS).build());

    static String scrapeText(String... headers) throws Exception {
        RawHttp.Response r = AdminBackendsTest.call(sluice.port(), "GET", "/metrics", null, headers);
        assertEquals(200, r.status());
        return r.body().text();
    }

    @Test
    void promtoolAcceptsTheScrapeAndTheHistogramsCountTheStreams() throws Exception {
        Promtool.find();
        for (int i = 0; i < STREAMS; i++) {
            try (RawHttp c = new RawHttp(sluice.port())) {
                RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, TOKENS)).exchange();
                assertEquals(200, r.status());
                assertTrue(r.body().complete());
            }
        }
        Await.until("the streams are recorded", Duration.ofSeconds(10), () -> recorded() == STREAMS);

        String text = scrapeText();
        Promtool.Result check = Promtool.checkMetrics(text);
        assertEquals(0, check.exit(), check.output() + "\n---\n" + text);
        assertEquals("", check.output().trim(), "promtool lint complaints:\n" + check.output());

        PromText p = PromText.parse(text);
        assertEquals("histogram", p.types.get("sluice_time_to_first_token_seconds"));
        for (String h : List.of("sluice_time_to_first_token_seconds", "sluice_request_duration_seconds",
                "sluice_stream_max_chunk_gap_seconds", "sluice_upstream_response_head_seconds")) {
            assertEquals(STREAMS, p.value(h + "_count{pool=\"vllm\"}"), h);
            assertBuckets(p, h, "vllm");
        }
        double gaps = p.value("sluice_inter_chunk_gap_seconds_count{pool=\"vllm\"}");
        assertTrue(gaps >= STREAMS * (TOKENS - 1), "one gap per token after the first of each stream: " + gaps);
        assertBuckets(p, "sluice_inter_chunk_gap_seconds", "vllm");
        double connects = p.value("sluice_upstream_connect_seconds_count{pool=\"vllm\"}");
        assertTrue(connects >= 1 && connects <= STREAMS, "new upstream connections only: " + connects);
        // The simulator's 30 ms before the first token: nothing below 25 ms, all within 250 ms.
        assertEquals(0, p.value("sluice_time_to_first_token_seconds_bucket{pool=\"vllm\",le=\"0.025\"}"));
        assertEquals(STREAMS, p.value("sluice_time_to_first_token_seconds_bucket{pool=\"vllm\",le=\"0.25\"}"));
        double ttftSum = p.value("sluice_time_to_first_token_seconds_sum{pool=\"vllm\"}");
        assertTrue(ttftSum >= STREAMS * 0.025 && ttftSum < STREAMS * 0.25, "sum in seconds: " + ttftSum);
        assertEquals(STREAMS, p.value("sluice_backend_requests_total{backend=\"sim0\",pool=\"vllm\"}"));
    }

    @Test
    void openMetricsWhenAskedFor() throws Exception {
        RawHttp.Response r = AdminBackendsTest.call(sluice.port(), "GET", "/metrics", null,
                "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
        assertEquals(200, r.status());
        assertTrue(r.header("content-type").startsWith("application/openmetrics-text; version=1.0.0"), r.header("content-type"));
        String text = r.body().text();
        assertTrue(text.endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
        assertTrue(text.contains("# UNIT sluice_uptime_seconds seconds"), text);
        assertTrue(text.contains("# TYPE sluice_backend_requests counter\n"), "OpenMetrics names a counter family without _total");
        assertTrue(text.contains("\nsluice_backend_requests_total{"), text);

        RawHttp.Response plain = AdminBackendsTest.call(sluice.port(), "GET", "/metrics", null);
        assertTrue(plain.header("content-type").startsWith("text/plain; version=0.0.4"), plain.header("content-type"));
        assertEquals("Accept", plain.header("vary"));
    }

    private static double recorded() {
        try {
            return PromText.parse(scrapeText()).samples.getOrDefault("sluice_request_duration_seconds_count{pool=\"vllm\"}", 0.0);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Cumulative buckets, ending in +Inf equal to the count, for one pool's series. */
    private static void assertBuckets(PromText p, String histogram, String pool) {
        String prefix = histogram + "_bucket{pool=\"" + pool + "\",le=\"";
        List<Map.Entry<String, Double>> buckets = new ArrayList<>();
        p.samples.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).forEach(buckets::add);
        assertTrue(buckets.size() >= 10, histogram + " has classic buckets: " + buckets);
        double previous = 0;
        for (Map.Entry<String, Double> b : buckets) {
            assertTrue(b.getValue() >= previous, "cumulative: " + buckets);
            previous = b.getValue();
        }
        assertTrue(buckets.get(buckets.size() - 1).getKey().endsWith("le=\"+Inf\"}"), buckets.toString());
        assertEquals(p.value(histogram + "_count{pool=\"" + pool + "\"}"), previous, histogram + ": +Inf equals the count");
    }
}
