package io.sluice.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The prefix cache, KV capacity and batching over real sockets. Latencies are checked through what the
 * simulator scheduled ({@link VllmSimulator#scheduled()}) and the order in which requests finish, not
 * through wall-clock thresholds.
 */
@Timeout(60)
class PrefixCacheTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();

    static String words(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> prefix + i).collect(Collectors.joining(" "));
    }

    static String chat(String system, String user, boolean stream) {
        ObjectNode body = JSON.createObjectNode().put("stream", stream);
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", system);
        messages.addObject().put("role", "user").put("content", user);
        return body.toString();
    }

    static String completion(String prompt) {
        return JSON.createObjectNode().put("prompt", prompt).toString();
    }

    String post(VllmSimulator sim, String path, String json) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    String metrics(VllmSimulator sim) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    static VllmSimulator.ScheduledRequest last(VllmSimulator sim) {
        List<VllmSimulator.ScheduledRequest> log = sim.scheduled();
        return log.get(log.size() - 1);
    }

    @Test
    void aSharedSystemPromptHitsTheCacheAndSkipsItsPrefill() throws Exception {
        Duration perToken = Duration.ofNanos(200_000);
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ofMillis(1))
                .itl(Duration.ofMillis(1)).maxTokens(2).prefillPerToken(perToken).build())) {
            String system = words("s", 2000);
            post(sim, "/v1/chat/completions", chat(system, "first", false));
            VllmSimulator.ScheduledRequest miss = last(sim);
            post(sim, "/v1/chat/completions", chat(system, "second", false));
            VllmSimulator.ScheduledRequest hit = last(sim);

            // Rendered: "system", 2000 words, "user", the question = 2003 tokens; 2002 shared, so 125 whole blocks.
            assertEquals(2003, miss.promptTokens());
            assertEquals(0, miss.cachedTokens());
            assertEquals(2000, hit.cachedTokens());
            assertEquals(Duration.ofMillis(1).plus(perToken.multipliedBy(2003)), miss.prefill());
            assertEquals(Duration.ofMillis(1).plus(perToken.multipliedBy(3)), hit.prefill());
            assertTrue(hit.prefill().multipliedBy(100).compareTo(miss.prefill()) < 0, hit + " vs " + miss);
            assertEquals(2 * 2003, sim.prefixCacheQueries());
            assertEquals(2000, sim.prefixCacheHits());
            String text = metrics(sim);
            assertTrue(text.contains("vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"demo\"} 4006.0\n"), text);
            assertTrue(text.contains("vllm:prefix_cache_hits_total{engine=\"0\",model_name=\"demo\"} 2000.0\n"), text);
        }
    }

    @Test
    void aHitSentAfterAMissAnswersFirst() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ofMillis(1))
                .itl(Duration.ofMillis(1)).maxTokens(2).prefillPerToken(Duration.ofNanos(200_000)).build())) {
            String warm = words("w", 2000);
            post(sim, "/v1/chat/completions", chat(warm, "warm up", false));
            try (Raw miss = Raw.post(sim.port(), "/v1/chat/completions", chat(words("cold", 2000), "q", true))) {
                assertTrue(sim.await(s -> s.running() == 1, WAIT));
                try (Raw hit = Raw.post(sim.port(), "/v1/chat/completions", chat(warm, "q", true))) {
                    assertTrue(hit.readUntil("data: [DONE]"));
                    assertEquals(0, Raw.count(miss.text(), "data: "), "the miss is still in prefill");
                    assertTrue(miss.readUntil("data: [DONE]"));
                }
            }
            List<VllmSimulator.ScheduledRequest> log = sim.scheduled();
            assertEquals(3, log.size());
            assertEquals(2000, log.get(1).cachedTokens(), "the hit finished before the miss");
            assertEquals(0, log.get(2).cachedTokens());
        }
    }

    @Test
    void promptsShareExactlyTheWholeBlocksBeforeTheyDiffer() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ZERO)
                .itl(Duration.ZERO).maxTokens(1).build())) {
            List<String> base = new ArrayList<>(List.of(words("t", 64).split(" ")));
            post(sim, "/v1/completions", completion(String.join(" ", base)));
            assertEquals(0, last(sim).cachedTokens());

            List<String> inBlock3 = new ArrayList<>(base);
            inBlock3.set(40, "changed"); // tokens 32..47 are the third block
            post(sim, "/v1/completions", completion(String.join(" ", inBlock3)));
            assertEquals(2 * Prompt.BLOCK_SIZE, last(sim).cachedTokens());

            List<String> lastOfBlock2 = new ArrayList<>(base);
            lastOfBlock2.set(31, "changed");
            post(sim, "/v1/completions", completion(String.join(" ", lastOfBlock2)));
            assertEquals(Prompt.BLOCK_SIZE, last(sim).cachedTokens());

            // A prompt of exactly two cached blocks: vLLM still computes its last token, so one block hits.
            post(sim, "/v1/completions", completion(String.join(" ", base.subList(0, 32))));
            assertEquals(Prompt.BLOCK_SIZE, last(sim).cachedTokens());

            // The same tokens later in a prompt are no hit: a block's hash chains its whole prefix.
            post(sim, "/v1/completions", completion("x " + String.join(" ", base)));
            assertEquals(0, last(sim).cachedTokens());
        }
    }

    @Test
    void kvPressureEvictsTheLeastRecentlyUsedBlocksTailFirst() throws Exception {
        // 64 words are 4 whole blocks; with 1 output token a request reserves 5 of the 10 blocks.
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ZERO)
                .itl(Duration.ZERO).maxTokens(1).kvBlocks(10).build())) {
            String a = words("a", 64);
            String b = words("b", 64);
            post(sim, "/v1/completions", completion(a));
            post(sim, "/v1/completions", completion(b));
            assertEquals(8, sim.kvBlocksCachedIdle());
            post(sim, "/v1/completions", completion(a)); // A is now the most recently used
            assertEquals(3 * Prompt.BLOCK_SIZE, last(sim).cachedTokens());
            assertEquals(0, sim.kvEvictions());

            post(sim, "/v1/completions", completion(words("c", 64))); // needs 5 blocks: 3 of B's must go
            assertEquals(3, sim.kvEvictions());

            // Probes small enough to need no eviction: a prefix and one token more.
            post(sim, "/v1/completions", completion(prefix(a, 49)));
            assertEquals(3 * Prompt.BLOCK_SIZE, last(sim).cachedTokens(), "A was used more recently than B");
            post(sim, "/v1/completions", completion(prefix(b, 17)));
            assertEquals(Prompt.BLOCK_SIZE, last(sim).cachedTokens(), "B's first block was freed last, so it survived");
            assertEquals(3, sim.kvEvictions());
            post(sim, "/v1/completions", completion(prefix(b, 33)));
            assertEquals(Prompt.BLOCK_SIZE, last(sim).cachedTokens(), "B's second block was evicted");
        }
    }

    static String prefix(String words, int n) {
        return String.join(" ", List.of(words.split(" ")).subList(0, n));
    }

    @Test
    void aRequestWhoseBlocksDoNotFitWaits() throws Exception {
        // A 64-word prompt with 60 output tokens reserves 8 of 10 blocks; two do not fit together.
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ofSeconds(30))
                .maxTokens(60).kvBlocks(10).prefixCaching(false).build());
             Raw first = Raw.post(sim.port(), "/v1/completions", completion(words("a", 64)))) {
            assertTrue(sim.await(s -> s.running() == 1, WAIT));
            assertEquals(0.4, sim.kvUsage(), 1e-9, "prefilling: its 4 prompt blocks are filled, 8 reserved");
            assertEquals(8, sim.kvBlocksReserved());
            try (Raw second = Raw.post(sim.port(), "/v1/completions", completion(words("b", 64)))) {
                assertTrue(sim.await(s -> s.waiting() == 1, WAIT), "a free slot, but no free blocks");
                assertEquals(1, sim.running());
                String text = metrics(sim);
                assertTrue(text.contains("vllm:num_requests_waiting{engine=\"0\",model_name=\"demo\"} 1.0\n"), text);
                assertTrue(text.contains("vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"demo\"} 0.4\n"), text);
                first.close();
                assertTrue(sim.await(s -> s.waiting() == 0 && s.running() == 1 && s.aborted() == 1, WAIT),
                        "the waiter is admitted once the blocks are free");
            }
            assertTrue(sim.await(s -> s.running() == 0, WAIT));
            assertEquals(0, sim.kvUsage());
            assertEquals(0, sim.prefixCacheQueries(), "no lookups without prefix caching");
        }
    }

    @Test
    void theBatchSlowsEveryStep() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ofMillis(500))
                .itl(Duration.ofMillis(10)).maxTokens(5).prefillPerToken(Duration.ZERO).batchSlowdown(0.5).build())) {
            post(sim, "/v1/chat/completions", chat("alone", "q", false));
            assertEquals(Duration.ofMillis(10), last(sim).maxItl());
            List<Raw> batch = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    batch.add(Raw.post(sim.port(), "/v1/chat/completions", chat("batched", "q" + i, true)));
                }
                for (Raw r : batch) {
                    assertTrue(r.readUntil("data: [DONE]"));
                }
            } finally {
                for (Raw r : batch) {
                    r.close();
                }
            }
            assertTrue(sim.await(s -> s.scheduled().size() == 4, WAIT));
            for (VllmSimulator.ScheduledRequest r : sim.scheduled().subList(1, 4)) {
                // Three running: 10ms * (1 + 0.5 * 2). All were admitted well within the 500ms prefill.
                assertEquals(Duration.ofMillis(20), r.maxItl(), r.toString());
            }
        }
    }

    @Test
    void prefillGrowsWithTheBatch() throws Exception {
        Duration perToken = Duration.ofMillis(1);
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ofSeconds(30))
                .prefillPerToken(perToken).batchSlowdown(1.0).prefixCaching(false).build())) {
            String prompt = completion(words("p", 100));
            try (Raw alone = Raw.post(sim.port(), "/v1/completions", prompt)) {
                assertTrue(sim.await(s -> s.running() == 1, WAIT));
                try (Raw second = Raw.post(sim.port(), "/v1/completions", prompt)) {
                    assertTrue(sim.await(s -> s.running() == 2, WAIT));
                }
                assertTrue(sim.await(s -> s.aborted() == 1, WAIT));
            }
            assertTrue(sim.await(s -> s.aborted() == 2, WAIT));
            List<VllmSimulator.ScheduledRequest> log = sim.scheduled();
            VllmSimulator.ScheduledRequest second = log.get(0);
            VllmSimulator.ScheduledRequest first = log.get(1);
            assertEquals(Duration.ofSeconds(30).plus(perToken.multipliedBy(100)), first.prefill());
            assertEquals(0, second.cachedTokens());
            assertEquals(2, second.runningAtAdmission());
            assertEquals(Duration.ofSeconds(30).plus(perToken.multipliedBy(200)), second.prefill(),
                    "two running: prefill at half speed");
        }
    }

    @Test
    void withoutPrefixCachingARepeatedPromptIsComputedAgain() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ZERO)
                .itl(Duration.ZERO).maxTokens(1).prefixCaching(false).build())) {
            String prompt = completion(words("p", 100));
            post(sim, "/v1/completions", prompt);
            post(sim, "/v1/completions", prompt);
            assertEquals(0, last(sim).cachedTokens());
            assertEquals(Duration.ofNanos(200_000).multipliedBy(100), last(sim).prefill());
            assertEquals(0, sim.prefixCacheQueries());
            assertEquals(0, sim.prefixCacheHits());
            assertEquals(0, sim.kvBlocksCachedIdle());
        }
    }

    @Test
    void metricsHaveVllmNamesAndTypes() throws Exception {
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ofMillis(5))
                .itl(Duration.ZERO).maxTokens(1).build())) {
            post(sim, "/v1/chat/completions", chat("s", "q", false));
            String text = metrics(sim);
            for (String typed : List.of("vllm:num_requests_running gauge", "vllm:num_requests_waiting gauge",
                    "vllm:kv_cache_usage_perc gauge", "vllm:prefix_cache_queries_total counter",
                    "vllm:prefix_cache_hits_total counter", "vllm:time_to_first_token_seconds histogram")) {
                assertTrue(text.contains("\n# TYPE " + typed + "\n") || text.startsWith("# TYPE " + typed + "\n")
                        || text.contains("# TYPE " + typed + "\n"), typed + " in\n" + text);
            }
            List<String> buckets = text.lines().filter(l -> l.startsWith("vllm:time_to_first_token_seconds_bucket{"))
                    .collect(Collectors.toList());
            assertEquals(Wire.TTFT_BUCKETS.length + 1, buckets.size());
            assertEquals("vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"0.001\",model_name=\"demo\"} 0.0",
                    buckets.get(0));
            assertEquals("vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"+Inf\",model_name=\"demo\"} 1.0",
                    buckets.get(buckets.size() - 1));
            assertTrue(text.contains("vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"2560.0\","
                    + "model_name=\"demo\"} 1.0\n"), text);
            double previous = 0;
            for (String b : buckets) {
                double v = Double.parseDouble(b.substring(b.lastIndexOf(' ') + 1));
                assertTrue(v >= previous, "buckets are cumulative: " + buckets);
                previous = v;
            }
            assertTrue(text.contains("vllm:time_to_first_token_seconds_count{engine=\"0\",model_name=\"demo\"} 1.0\n"));
            String sum = text.lines().filter(l -> l.startsWith("vllm:time_to_first_token_seconds_sum{")).findFirst()
                    .orElseThrow();
            assertTrue(Double.parseDouble(sum.substring(sum.lastIndexOf(' ') + 1)) >= 0.005, sum);
        }
    }
}
