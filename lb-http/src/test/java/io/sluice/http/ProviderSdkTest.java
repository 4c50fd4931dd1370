package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.http.sdk.NodeSdk;
import io.sluice.http.sdk.NodeSdk.Result;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The official {@code openai} and {@code @anthropic-ai/sdk} npm clients, unmodified, against Sluice's
 * provider routes: the OpenAI SDK through pass-through ({@code baseURL …/api/openai}), the Anthropic SDK
 * on {@code /v1/messages} served by every provider and through its own pass-through. The providers are
 * Sluice's in-process simulators of each wire format.
 */
class ProviderSdkTest {
    static final String TOOLS_OPENAI = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":"
            + "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}]";
    static final String TOOLS_ANTHROPIC = "[{\"name\":\"get_weather\",\"description\":\"Weather\",\"input_schema\":"
            + "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}]";

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .yaml("""
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        routes:
                          - { path: /v1/messages, gateway: messages }
                          - { path: /v1/, pool: vllm }
                          - { path: /api/openai/, provider: openai }
                          - { path: /api/anthropic/, provider: anthropic }
                    pools:
                      vllm:
                        models: [demo]
                        backends: [ { simulator: { ttft: 5ms, itl: 1ms } } ]
                    providers:
                      openai: { simulator: { ttft: 5ms, itl: 2ms } }
                      anthropic: { simulator: { ttft: 5ms, itl: 2ms } }
                      gemini: { simulator: { ttft: 5ms, itl: 2ms } }
                      ollama: { simulator: { ttft: 5ms, itl: 2ms } }
                      vllm: { pool: vllm }
                    """)
            .build();

    @BeforeAll
    static void sdkInstalled() {
        NodeSdk.assumeAvailable();
    }

    private static Result run(String script, String base, String... env) {
        Map<String, String> vars = new HashMap<>(Map.of("BASE_URL", "http://127.0.0.1:" + sluice.port() + base,
                "API_KEY", "client-key-not-forwarded"));
        for (int i = 0; i < env.length; i += 2) {
            vars.put(env[i], env[i + 1]);
        }
        return NodeSdk.run(script, vars, Duration.ofSeconds(60));
    }

    @ParameterizedTest
    @ValueSource(strings = {"false", "true"})
    void openAiSdkThroughPassThrough(String stream) {
        Result r = run(NodeSdk.OPENAI_CHAT, "/api/openai", "MODEL", "gpt-4o-mini", "STREAM", stream, "INCLUDE_USAGE", stream);
        assertTrue(r.ok(), r.toString());
        assertEquals("Hello from the OpenAI simulator.", r.text());
        assertEquals("stop", r.finishReason());
        assertEquals(5, r.usage().path("completion_tokens").asInt(), r.toString());
    }

    @Test
    void openAiSdkToolCallThroughPassThrough() {
        Result r = run(NodeSdk.OPENAI_CHAT, "/api/openai", "MODEL", "tool-call", "STREAM", "true", "TOOLS", TOOLS_OPENAI);
        assertTrue(r.ok(), r.toString());
        assertEquals("tool_calls", r.finishReason());
        assertEquals("get_weather", r.toolCalls().path(0).path("name").asText(), r.toString());
        assertEquals("{\"city\":\"Paris\",\"unit\":\"celsius\"}", r.toolCalls().path(0).path("arguments").asText()
                .replace(" ", ""));
    }

    @Test
    void openAiSdkSeesTheProvidersRateLimit() {
        Result r = run(NodeSdk.OPENAI_CHAT, "/api/openai", "MODEL", "rate-limited", "STREAM", "false");
        assertFalse(r.ok());
        assertEquals(429, r.status());
        assertEquals("RateLimitError", r.errorName());
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai/m1", "anthropic/m1", "gemini/m1", "ollama/m1", "demo"})
    void anthropicSdkReachesEveryProviderOnV1Messages(String model) {
        for (String stream : new String[] {"false", "true"}) {
            Result r = run(NodeSdk.ANTHROPIC_MESSAGES, "", "MODEL", model, "STREAM", stream, "SYSTEM", "Be brief.",
                    "MAX_TOKENS", "64");
            assertTrue(r.ok(), model + " stream=" + stream + ": " + r);
            assertFalse(r.text().isEmpty(), r.toString());
            assertTrue(r.stopReason().equals("end_turn") || r.stopReason().equals("max_tokens"), r.toString());
            assertTrue(r.usage().path("output_tokens").asInt() > 0, r.toString());
            if (!model.equals("demo")) {
                assertEquals("Hello from the " + switch (model.substring(0, model.indexOf('/'))) {
                    case "openai" -> "OpenAI";
                    case "anthropic" -> "Anthropic";
                    case "gemini" -> "Gemini";
                    default -> "Ollama";
                } + " simulator.", r.text());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai/tool-call", "gemini/tool-call", "ollama/tool-call"})
    void anthropicSdkToolUseFromOtherProviders(String model) {
        for (String stream : new String[] {"false", "true"}) {
            Result r = run(NodeSdk.ANTHROPIC_MESSAGES, "", "MODEL", model, "STREAM", stream, "TOOLS", TOOLS_ANTHROPIC);
            assertTrue(r.ok(), r.toString());
            assertEquals("tool_use", r.stopReason(), r.toString());
            assertEquals("get_weather", r.toolCalls().path(0).path("name").asText(), r.toString());
            assertEquals("Paris", r.toolCalls().path(0).path("input").path("city").asText(), r.toString());
        }
    }

    @Test
    void anthropicSdkErrorsAreItsOwnClasses() {
        Result limited = run(NodeSdk.ANTHROPIC_MESSAGES, "", "MODEL", "gemini/rate-limited", "STREAM", "false");
        assertFalse(limited.ok());
        assertEquals(429, limited.status(), limited.toString());
        assertEquals("RateLimitError", limited.errorName());
        Result missing = run(NodeSdk.ANTHROPIC_MESSAGES, "", "MODEL", "no-such-model", "STREAM", "false");
        assertEquals(404, missing.status(), missing.toString());
        assertEquals("NotFoundError", missing.errorName());
    }

    @Test
    void anthropicSdkThroughItsPassThrough() {
        for (String stream : new String[] {"false", "true"}) {
            Result r = run(NodeSdk.ANTHROPIC_MESSAGES, "/api/anthropic", "MODEL", "claude-sonnet-4-5", "STREAM", stream);
            assertTrue(r.ok(), r.toString());
            assertEquals("Hello from the Anthropic simulator.", r.text());
        }
    }
}
