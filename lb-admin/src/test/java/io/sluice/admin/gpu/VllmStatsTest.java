package io.sluice.admin.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class VllmStatsTest {
    static final String NEW = """
            # HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
            # TYPE vllm:kv_cache_usage_perc gauge
            vllm:kv_cache_usage_perc{engine="0",model_name="a"} 0.25
            vllm:num_requests_running{engine="0",model_name="a"} 3.0
            vllm:num_requests_waiting{engine="0",model_name="a"} 1.0
            vllm:generation_tokens_total{engine="0",model_name="a"} 1000.0
            vllm:prompt_tokens_total{engine="0",model_name="a"} 50.0
            """;

    @Test
    void parsesCurrentNamesAndRates() {
        VllmStats first = VllmStats.parse(NEW, List.of("a"), null, 10_000);
        assertEquals(0.25, first.kvCacheUsage());
        assertEquals(3.0, first.running());
        assertEquals(1.0, first.waiting());
        assertNull(first.generationTokensPerSecond(), "no rate before a second scrape");
        VllmStats second = VllmStats.parse(NEW.replace("1000.0", "1500.0"), List.of("a"), first, 12_000);
        assertEquals(250.0, second.generationTokensPerSecond());
        assertEquals(0.0, second.promptTokensPerSecond());
        VllmStats restarted = VllmStats.parse(NEW.replace("1000.0", "10.0"), List.of("a"), second, 14_000);
        assertNull(restarted.generationTokensPerSecond(), "a counter reset gives no rate");
    }

    @Test
    void toleratesTheOlderGpuCacheName() {
        VllmStats s = VllmStats.parse("vllm:gpu_cache_usage_perc{model_name=\"a\"} 0.5\n", List.of(), null, 1);
        assertEquals(0.5, s.kvCacheUsage());
        assertNull(s.running());
    }
}
