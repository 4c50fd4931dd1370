package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code /metrics} is valid Prometheus text and its counters follow the traffic; {@code /api/v1/stats} has percentiles. */
class AdminMetricsTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - name: pub
                port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true }, { path: /metrics, admin: true } ]
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}", name: "sim \\"zero\\"" } ]
            """, SimulatorOptions.builder().model("demo").ttft(Duration.ofMillis(20)).itl(Duration.ofMillis(5))
            .maxTokens(8).build());

    private static PromText scrape() throws Exception {
        RawHttp.Response r = AdminBackendsTest.call(sluice.port(), "GET", "/metrics", null);
        assertEquals(200, r.status());
        assertTrue(r.header("content-type").startsWith("text/plain; version=0.0.4"), r.header("content-type"));
        return PromText.parse(r.body().text());
    }

    @Test
    void countersMoveAndTheTextParses() throws Exception {
        String ok = "sluice_requests_total{backend=\"sim \\\"zero\\\"\",listener=\"pub\",route=\"/v1/\",status=\"200\"}";
        PromText before = scrape();
        double okBefore = before.samples.getOrDefault(ok, 0.0);

        for (int i = 0; i < 2; i++) {
            try (RawHttp c = new RawHttp(sluice.port())) {
                RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 8)).exchange();
                assertEquals(200, r.status());
                assertTrue(r.body().complete());
            }
        }
        try (RawHttp c = new RawHttp(sluice.port())) {
            assertEquals(404, c.get("/nowhere").exchange().status());
        }
        // A client that leaves mid-stream: the abort is propagated upstream and counted.
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 8));
            assertEquals(200, c.readHead().status());
            c.readChunk();
        }
        Await.until("the aborted stream is released", Duration.ofSeconds(10), () -> sluice.totalInFlight() == 0);

        PromText after = scrape();
        assertEquals("counter", after.types.get("sluice_requests_total"));
        assertEquals("histogram", after.types.get("sluice_time_to_first_token_seconds"));
        assertEquals(okBefore + 3, after.value(ok), "two complete streams and the aborted one (its head said 200)");
        assertTrue(after.sum("sluice_requests_total", "status=\"404\"", "backend=\"\"") >= 1);
        assertTrue(after.value("sluice_aborts_total{direction=\"client\"}") >= 1);
        assertTrue(after.value("sluice_time_to_first_token_seconds_count{pool=\"vllm\"}") >= 2);
        assertEquals(0, after.value("sluice_time_to_first_token_seconds_bucket{pool=\"vllm\",le=\"0.01\"}"),
                "the simulator's 20 ms TTFT shows: nothing under 10 ms");
        assertTrue(after.value("sluice_stream_max_chunk_gap_seconds_count{pool=\"vllm\"}") >= 2);
        assertTrue(after.value("sluice_inter_chunk_gap_seconds_count{pool=\"vllm\"}")
                >= after.value("sluice_stream_max_chunk_gap_seconds_count{pool=\"vllm\"}"),
                "one per chunk after the first, so at least one per stream");
        double gapSum = after.value("sluice_inter_chunk_gap_seconds_sum{pool=\"vllm\"}");
        assertTrue(gapSum > 0, "gaps between the simulator's 5 ms tokens: " + gapSum);
        assertTrue(after.value("sluice_upstream_response_head_seconds_count{pool=\"vllm\"}") >= 2);
        assertTrue(after.value("sluice_response_bytes_total{listener=\"pub\"}") > before.samples.getOrDefault(
                "sluice_response_bytes_total{listener=\"pub\"}", 0.0));
        assertTrue(after.value("sluice_open_connections{listener=\"pub\"}") >= 1, "this scrape's own connection");
        assertEquals(1, after.value("sluice_backend_up{backend=\"sim \\\"zero\\\"\",pool=\"vllm\"}"));
        assertEquals(0, after.value("sluice_backend_in_flight{backend=\"sim \\\"zero\\\"\",pool=\"vllm\"}"));

        JsonNode stats = AdminBackendsTest.json(AdminBackendsTest.call(sluice.port(), "GET", "/api/v1/stats", null));
        JsonNode ttft = stats.get("latency_ms").get("time_to_first_token");
        assertTrue(ttft.get("count").asLong() >= 3);
        assertTrue(ttft.get("p50").asDouble() <= ttft.get("p90").asDouble());
        assertTrue(ttft.get("p99").asDouble() <= ttft.get("max").asDouble());
        assertTrue(stats.get("requests_total").asLong() >= 4);
    }
}
