package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.sim.SimulatorOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
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
            admin:
              scrape-interval: 300ms
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
        List<String> histograms = List.of("sluice_time_to_first_token_seconds", "sluice_request_duration_seconds",
                "sluice_stream_max_chunk_gap_seconds", "sluice_upstream_response_head_seconds");
        PromText before = PromText.parse(scrapeText()); // the other tests may have streamed already
        double gapsBefore = before.samples.getOrDefault("sluice_inter_chunk_gap_seconds_count{pool=\"vllm\"}", 0.0);
        double ttftSumBefore = before.samples.getOrDefault("sluice_time_to_first_token_seconds_sum{pool=\"vllm\"}", 0.0);
        double backendBefore = before.value("sluice_backend_requests_total{backend=\"sim0\",pool=\"vllm\"}");
        for (int i = 0; i < STREAMS; i++) {
            try (RawHttp c = new RawHttp(sluice.port())) {
                RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, TOKENS)).exchange();
                assertEquals(200, r.status());
                assertTrue(r.body().complete());
            }
        }
        double expected = count(before, "sluice_request_duration_seconds") + STREAMS;
        Await.until("the streams are recorded", Duration.ofSeconds(10),
                () -> count(PromText.parse(scrapeTextUnchecked()), "sluice_request_duration_seconds") == expected);

        String text = scrapeText();
        Promtool.Result check = Promtool.checkMetrics(text);
        assertEquals(0, check.exit(), check.output() + "\n---\n" + text);
        assertEquals("", check.output().trim(), "promtool lint complaints:\n" + check.output());

        PromText p = PromText.parse(text);
        assertEquals("histogram", p.types.get("sluice_time_to_first_token_seconds"));
        for (String h : histograms) {
            assertEquals(count(before, h) + STREAMS, count(p, h), h + ": one per stream");
            assertBuckets(p, h, "vllm");
        }
        double gaps = p.value("sluice_inter_chunk_gap_seconds_count{pool=\"vllm\"}") - gapsBefore;
        assertTrue(gaps >= STREAMS * (TOKENS - 1), "one gap per token after the first of each stream: " + gaps);
        assertBuckets(p, "sluice_inter_chunk_gap_seconds", "vllm");
        double connects = p.value("sluice_upstream_connect_seconds_count{pool=\"vllm\"}");
        assertTrue(connects >= 1 && connects <= count(p, "sluice_request_duration_seconds"), "new upstream connections only: " + connects);
        // The simulator's 30 ms before the first token: nothing below 25 ms, all within 250 ms.
        assertEquals(0, p.value("sluice_time_to_first_token_seconds_bucket{pool=\"vllm\",le=\"0.025\"}"));
        assertEquals(count(p, "sluice_time_to_first_token_seconds"),
                p.value("sluice_time_to_first_token_seconds_bucket{pool=\"vllm\",le=\"0.25\"}"));
        double ttftSum = p.value("sluice_time_to_first_token_seconds_sum{pool=\"vllm\"}") - ttftSumBefore;
        assertTrue(ttftSum >= STREAMS * 0.025 && ttftSum < STREAMS * 0.25, "sum in seconds: " + ttftSum);
        assertEquals(backendBefore + STREAMS, p.value("sluice_backend_requests_total{backend=\"sim0\",pool=\"vllm\"}"));
    }

    private static double count(PromText p, String histogram) {
        return p.samples.getOrDefault(histogram + "_count{pool=\"vllm\"}", 0.0);
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

    @Test
    void theGrafanaDashboardQueriesOnlyMetricsAScrapeHas() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            assertEquals(200, c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, TOKENS)).exchange().status());
        }
        Await.until("the vLLM scrape and the stream show", Duration.ofSeconds(15), () -> {
            String t = scrapeTextUnchecked();
            return t.contains("sluice_vllm_kv_cache_usage_ratio{") && t.contains("sluice_stream_max_chunk_gap_seconds_count{");
        });
        Set<String> scraped = PromText.parse(scrapeText()).samples.keySet().stream()
                .map(k -> k.indexOf('{') < 0 ? k : k.substring(0, k.indexOf('{'))).collect(Collectors.toSet());

        JsonNode dash = new ObjectMapper().readTree(Path.of("../deploy/grafana/sluice.json").toFile());
        JsonNode vars = dash.path("templating").path("list");
        assertEquals("datasource", vars.get(0).path("type").asText(), "a data source variable first");
        assertEquals("prometheus", vars.get(0).path("query").asText());
        List<String> exprs = new ArrayList<>();
        for (JsonNode v : vars) {
            if (v.path("type").asText().equals("query")) {
                exprs.add(v.path("definition").asText());
            }
        }
        int panels = 0;
        for (JsonNode panel : dash.path("panels")) {
            if (panel.path("type").asText().equals("row")) {
                continue;
            }
            panels++;
            assertEquals("${datasource}", panel.path("datasource").path("uid").asText(), panel.path("title").asText());
            for (JsonNode t : panel.path("targets")) {
                assertEquals("${datasource}", t.path("datasource").path("uid").asText(), panel.path("title").asText());
                exprs.add(t.path("expr").asText());
            }
        }
        assertTrue(panels >= 10, "panels: " + panels);
        assertEquals(Set.of("a_bucket", "b_total"), metricNames(
                "histogram_quantile(0.5, sum by (le, pool) (rate(a_bucket{x=~\"$x\", s=\"5..\"}[$__rate_interval]))) / b_total"));
        assertEquals(Set.of("up"), metricNames("label_values(up{job=~\"$job\"}, pool)"));
        Set<String> used = new TreeSet<>();
        for (String e : exprs) {
            if (e.contains("histogram_quantile")) {
                assertTrue(e.contains("_bucket{") && e.contains("by (le"), "quantiles from buckets summed by le: " + e);
            }
            used.addAll(metricNames(e));
        }
        for (String m : List.of("sluice_requests_total", "sluice_time_to_first_token_seconds_bucket",
                "sluice_inter_chunk_gap_seconds_bucket", "sluice_backend_in_flight", "sluice_backend_up",
                "sluice_vllm_kv_cache_usage_ratio", "sluice_pool_queued_requests")) {
            assertTrue(used.contains(m), "the dashboard shows " + m + ": " + used);
        }
        Set<String> missing = new TreeSet<>(used);
        missing.removeAll(scraped);
        assertEquals(Set.of(), missing, "metrics the dashboard queries that no scrape has");
    }

    private static final Pattern PROMQL_IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Set<String> PROMQL_WORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "and", "or", "unless", "bool", "offset", "label_values");

    /** The metric names of a PromQL expression: identifiers that are not functions, keywords, labels or variables. */
    static Set<String> metricNames(String expr) {
        String e = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"") // strings
                .replaceAll("\\{[^}]*}", " ")        // label matchers
                .replaceAll("\\[[^\\]]*\\]", " ")     // ranges
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ") // grouping labels
                .replaceAll(",\\s*[a-zA-Z_]+\\s*\\)", ")")  // label_values(metric, label)
                .replaceAll("\\$\\w+", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = PROMQL_IDENT.matcher(e);
        while (m.find()) {
            String id = m.group();
            boolean function = e.substring(m.end()).stripLeading().startsWith("(");
            boolean number = m.start() > 0 && Character.isDigit(e.charAt(m.start() - 1));
            if (!function && !number && !PROMQL_WORDS.contains(id)) {
                names.add(id);
            }
        }
        return names;
    }

    private static String scrapeTextUnchecked() {
        try {
            return scrapeText();
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
