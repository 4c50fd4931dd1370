package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.http.sdk.NodeSdk;
import io.sluice.http.sdk.NodeSdk.Result;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The official {@code openai} npm client, unmodified, against Sluice over simulated vLLM backends: it
 * gets exactly what it gets from vLLM itself (text, finish reason, usage; streamed or not), and
 * Sluice's own errors reach it as the SDK error class an application catches (NotFoundError,
 * RateLimitError, InternalServerError) with their status. Lives here, not in {@code sdk}, for
 * {@link SluiceExtension}, which is package-private.
 */
class OpenAiSdkTest {
    static final int NATURAL_TOKENS = 8; // the simulator's reply without max_tokens: 7 words, then EOS
    static final int DEAD_PORT = FreePorts.refusing();

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .simulators(sim(), sim())
            .yaml("""
                    listeners:
                      - name: main
                        host: 127.0.0.1
                        port: 0
                        routes: [ { path: /v1/, by-model: true } ]
                      - name: limited
                        host: 127.0.0.1
                        port: 0
                        rate-limits: { per-ip: { requests-per-minute: 1 } }
                        routes: [ { path: /v1/, pool: demo } ]
                      - name: dead
                        host: 127.0.0.1
                        port: 0
                        routes: [ { path: /v1/, pool: dead } ]
                    pools:
                      demo:
                        models: [ demo ]
                        backends: [ { url: "http://127.0.0.1:${SIM0}" }, { url: "http://127.0.0.1:${SIM1}" } ]
                      dead:
                        health: { interval: 100ms, timeout: 50ms, fall: 1 }
                        backends: [ { url: "http://127.0.0.1:%d" } ]
                    admin: { scrape-interval: 0 }
                    """.formatted(DEAD_PORT))
            .build();

    static SimulatorOptions sim() {
        return SimulatorOptions.builder().model("demo").maxTokens(NATURAL_TOKENS)
                .ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(2)).build();
    }

    static int freePort() {
        return FreePorts.next();
    }

    @BeforeAll
    static void sdkInstalled() {
        NodeSdk.assumeAvailable();
    }

    private static Result chat(int port, String... env) {
        Map<String, String> vars = new HashMap<>(Map.of("BASE_URL", "http://127.0.0.1:" + port + "/v1", "MODEL", "demo"));
        for (int i = 0; i < env.length; i += 2) {
            vars.put(env[i], env[i + 1]);
        }
        return NodeSdk.run(NodeSdk.OPENAI_CHAT, vars, Duration.ofSeconds(60));
    }

    private static Result viaSluice(String... env) {
        return chat(sluice.port("main"), env);
    }

    /** The same request straight to a simulator: what the SDK makes of vLLM without Sluice. */
    private static Result direct(String... env) {
        return chat(sluice.sim(0).port(), env);
    }

    @Test
    void aResponseCutAtMaxTokens() {
        Result r = viaSluice("STREAM", "false", "MAX_TOKENS", "5");
        assertTrue(r.ok(), r.toString());
        assertEquals("Lorem ipsum dolor sit amet", r.text());
        assertEquals("length", r.finishReason());
        assertEquals("demo", r.json().path("model").asText());
        assertEquals(2, r.usage().path("prompt_tokens").asInt(), r.toString()); // "hi there"
        assertEquals(5, r.usage().path("completion_tokens").asInt());
        assertEquals(7, r.usage().path("total_tokens").asInt());
        assertEquals(0, r.toolCalls().size());
        assertEquals(0, r.chunks());
        assertSameAsVllm(r, direct("STREAM", "false", "MAX_TOKENS", "5"));
    }

    @Test
    void aResponseThatStops() {
        Result r = viaSluice("STREAM", "false");
        assertTrue(r.ok(), r.toString());
        assertEquals("stop", r.finishReason());
        assertTrue(r.text().startsWith("Lorem ipsum dolor sit amet"), r.text());
        assertEquals(NATURAL_TOKENS, r.usage().path("completion_tokens").asInt(), "the EOS counts, it has no text");
        assertSameAsVllm(r, direct("STREAM", "false"));
    }

    @Test
    void aStreamIteratedChunkByChunk() {
        Result r = viaSluice("STREAM", "true", "MAX_TOKENS", "5");
        assertTrue(r.ok(), r.toString());
        assertEquals("Lorem ipsum dolor sit amet", r.text());
        assertEquals("length", r.finishReason());
        assertEquals(1 + 5, r.chunks(), "the role chunk, then one per token");
        assertTrue(r.usage().isNull(), "no usage without stream_options: " + r);
        assertSameAsVllm(r, direct("STREAM", "true", "MAX_TOKENS", "5"));
    }

    @Test
    void aStreamWithUsage() {
        Result r = viaSluice("STREAM", "true", "INCLUDE_USAGE", "true");
        assertTrue(r.ok(), r.toString());
        assertEquals("stop", r.finishReason());
        assertEquals(1 + NATURAL_TOKENS + 1, r.chunks(), "role, tokens (the last one empty, with the finish reason), usage");
        assertEquals(2, r.usage().path("prompt_tokens").asInt(), r.toString());
        assertEquals(NATURAL_TOKENS, r.usage().path("completion_tokens").asInt());
        assertEquals(2 + NATURAL_TOKENS, r.usage().path("total_tokens").asInt());
        assertSameAsVllm(r, direct("STREAM", "true", "INCLUDE_USAGE", "true"));
    }

    @Test
    void toolsAndAConversationPassThrough() {
        String messages = """
                [{"role":"system","content":"be brief"},{"role":"user","content":"one two three"},
                 {"role":"assistant","content":"four"},{"role":"user","content":"five six"}]""";
        String tools = """
                [{"type":"function","function":{"name":"get_weather","description":"The weather in a city",
                  "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]""";
        Result r = viaSluice("STREAM", "true", "INCLUDE_USAGE", "true", "MESSAGES", messages, "TOOLS", tools);
        assertTrue(r.ok(), r.toString());
        assertEquals(2 + 3 + 1 + 2, r.usage().path("prompt_tokens").asInt(), "the simulator counted every message's words");
        assertEquals(0, r.toolCalls().size(), "the simulator never calls tools");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void anUnknownModelIsANotFoundError(boolean stream) {
        Result r = viaSluice("STREAM", String.valueOf(stream), "MODEL", "gpt-5");
        assertFalse(r.ok(), r.toString());
        assertEquals("NotFoundError", r.errorName(), r.toString());
        assertEquals(404, r.status());
        assertEquals("model_not_found", r.json().path("code").asText(), r.toString());
        assertEquals("invalid_request_error", r.json().path("type").asText());
        assertTrue(r.message().contains("gpt-5"), r.message());
    }

    @Test
    void overTheRateLimitIsARateLimitError() {
        int port = sluice.port("limited");
        Result first = chat(port, "STREAM", "true", "MAX_TOKENS", "2");
        assertTrue(first.ok(), first.toString());
        Result second = chat(port, "STREAM", "true", "MAX_TOKENS", "2");
        assertFalse(second.ok(), second.toString());
        assertEquals("RateLimitError", second.errorName(), second.toString());
        assertEquals(429, second.status());
        assertEquals("rate_limit_error", second.json().path("type").asText(), second.toString());
        assertEquals("rate_limit_exceeded", second.json().path("code").asText());
    }

    @Test
    void noHealthyBackendIsAnInternalServerError() throws Exception {
        Await.until("the health check marks the dead backend down", Duration.ofSeconds(10),
                () -> sluice.server().upstreams().pool("dead").healthyCount() == 0);
        Result r = chat(sluice.port("dead"), "STREAM", "false");
        assertFalse(r.ok(), r.toString());
        assertEquals("InternalServerError", r.errorName(), r.toString());
        assertEquals(503, r.status());
        assertEquals("gateway_error", r.json().path("type").asText(), r.toString());
    }

    /** Everything but the ids: Sluice is transparent to the client. */
    private static void assertSameAsVllm(Result viaSluice, Result direct) {
        assertTrue(direct.ok(), direct.toString());
        assertEquals(direct.text(), viaSluice.text());
        assertEquals(direct.finishReason(), viaSluice.finishReason());
        assertEquals(direct.usage(), viaSluice.usage());
        assertEquals(direct.chunks(), viaSluice.chunks());
        assertEquals(direct.toolCalls(), viaSluice.toolCalls());
    }
}
