package io.sluice.bench.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.http.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the routing benchmark for a few seconds (one workload, one policy) and checks what it writes. */
class RoutingBenchSmokeTest {
    @TempDir
    Path out;

    @Test
    void writesTheFiguresOfEachWorkloadAndPolicy() throws Exception {
        RoutingBench.run(RoutingBench.parse(new String[] {"--workloads", "prefix-heavy", "--policies", "least-connections",
                "--duration", "2s", "--warmup", "0.5", "--users", "8", "--out", out.toString()}));

        JsonNode root = Json.MAPPER.readTree(out.resolve("routing.json").toFile());
        JsonNode f = root.path("prefix-heavy").path("least-connections");
        for (String key : List.of("mean_ttft_ms", "p99_ttft_ms", "throughput_rps", "max_over_mean_inflight")) {
            assertTrue(f.path(key).isNumber(), key + " in " + f);
        }
        assertTrue(f.has("prefix_hit_rate"), "prefix_hit_rate (null until the simulators publish it) in " + f);
        assertTrue(f.path("requests").asLong() > 0, "requests completed: " + f);
        assertEquals(0, f.path("errors").asLong(), f.toString());
        assertTrue(f.path("mean_ttft_ms").asDouble() > 0 && f.path("throughput_rps").asDouble() > 0, f.toString());
        assertTrue(f.path("max_over_mean_inflight").asDouble() >= 1.0, f.toString());
        assertEquals(8, root.path("_metadata").path("users").asInt());
        assertTrue(Files.size(out.resolve("routing-ttft.png")) > 0);
        assertTrue(Files.readString(out.resolve("routing.md")).contains("| prefix-heavy | least-connections |"));
    }

    @Test
    void readsPrefixCountersFromPrometheusText() {
        String text = """
                # HELP vllm:prefix_cache_queries_total Prefix cache queries, in tokens.
                # TYPE vllm:prefix_cache_queries_total counter
                vllm:prefix_cache_queries_total{model_name="demo",engine="0"} 1500.0
                vllm:prefix_cache_hits_total{model_name="demo",engine="0"} 1200.0
                vllm:num_requests_running{model_name="demo"} 3.0
                """;
        assertEquals(1500.0, RoutingBench.metric(text, "vllm:prefix_cache_queries"));
        assertEquals(1200.0, RoutingBench.metric(text, "vllm:prefix_cache_hits"));
        assertEquals(-1.0, RoutingBench.metric(text, "vllm:kv_cache_usage_perc"));
    }
}
