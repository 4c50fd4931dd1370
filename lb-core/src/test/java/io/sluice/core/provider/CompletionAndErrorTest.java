package io.sluice.core.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Whole answers as {@code chat.completion}s, and error bodies as one {@link ProviderError}, per provider. */
class CompletionAndErrorTest {

    private static JsonNode json(String s) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static void assertShape(ObjectNode c, String model) {
        assertEquals("chat.completion", c.path("object").asText());
        assertTrue(c.path("id").asText().startsWith("chatcmpl-"), c.toString());
        assertTrue(c.path("created").isNumber());
        assertEquals(model, c.path("model").asText());
        assertEquals("assistant", c.path("choices").path(0).path("message").path("role").asText());
        assertEquals(0, c.path("choices").path(0).path("index").asInt());
    }

    @Test
    void openAiPassesThrough() {
        JsonNode body = json("""
                {"id":"chatcmpl-123","object":"chat.completion","created":1677652288,"model":"gpt-4o-mini",
                 "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"logprobs":null,
                 "finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}
                """);
        ObjectNode c = Translators.completion(WireFormat.OPENAI, body, "m");
        assertEquals(body, c);
        assertEquals(new Usage(9, 12), Translators.usage(c));
    }

    @Test
    void anthropicMessage() {
        // Anthropic API reference, "Messages": the response example, with a tool_use block
        ObjectNode c = Translators.completion(WireFormat.ANTHROPIC, json("""
                {"id":"msg_01Aq9w938a90dw8q","type":"message","role":"assistant","model":"claude-sonnet-4-5",
                 "content":[{"type":"text","text":"I'll check the weather."},
                            {"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather",
                             "input":{"location":"San Francisco, CA","unit":"celsius"}}],
                 "stop_reason":"tool_use","stop_sequence":null,
                 "usage":{"input_tokens":2095,"output_tokens":503,"cache_read_input_tokens":5}}
                """), "claude");
        assertShape(c, "claude");
        JsonNode choice = c.path("choices").path(0);
        assertEquals("I'll check the weather.", choice.path("message").path("content").asText());
        JsonNode call = choice.path("message").path("tool_calls").path(0);
        assertEquals("toolu_01A09q90qw90lq917835lq9", call.path("id").asText());
        assertEquals("function", call.path("type").asText());
        assertEquals("get_weather", call.path("function").path("name").asText());
        assertEquals(json("{\"location\":\"San Francisco, CA\",\"unit\":\"celsius\"}"),
                json(call.path("function").path("arguments").asText()));
        assertEquals("tool_calls", choice.path("finish_reason").asText());
        assertEquals(new Usage(2100, 503), Translators.usage(c));
        assertEquals(2603, c.path("usage").path("total_tokens").asLong());

        ObjectNode onlyTool = Translators.completion(WireFormat.ANTHROPIC, json("""
                {"id":"msg_2","content":[{"type":"tool_use","id":"t","name":"f","input":{}}],"stop_reason":"tool_use",
                 "usage":{"input_tokens":1,"output_tokens":2}}
                """), "claude");
        assertTrue(onlyTool.path("choices").path(0).path("message").path("content").isNull(),
                "content is null when there are only tool calls");
        ObjectNode text = Translators.completion(WireFormat.ANTHROPIC, json("""
                {"id":"msg_3","content":[{"type":"text","text":"Hi"}],"stop_reason":"max_tokens"}
                """), "claude");
        assertEquals("length", text.path("choices").path(0).path("finish_reason").asText());
        assertFalse(text.path("choices").path(0).path("message").has("tool_calls"));
        assertNull(Translators.usage(text));
    }

    @Test
    void geminiResponse() {
        ObjectNode c = Translators.completion(WireFormat.GEMINI, json("""
                {"candidates": [{"content": {"parts": [{"text": "Thinking", "thought": true}, {"text": "The answer is 4."}],
                  "role": "model"}, "finishReason": "STOP", "index": 0}],
                 "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 6, "totalTokenCount": 14},
                 "modelVersion": "gemini-2.0-flash", "responseId": "abc"}
                """), "gemini-2.0-flash");
        assertShape(c, "gemini-2.0-flash");
        assertEquals("chatcmpl-abc", c.path("id").asText());
        assertEquals("The answer is 4.", c.path("choices").path(0).path("message").path("content").asText());
        assertEquals("stop", c.path("choices").path(0).path("finish_reason").asText());
        assertEquals(new Usage(8, 6), Translators.usage(c));

        ObjectNode tool = Translators.completion(WireFormat.GEMINI, json("""
                {"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": {"a": 1}}}], "role": "model"},
                  "finishReason": "STOP"}]}
                """), "g");
        JsonNode message = tool.path("choices").path(0).path("message");
        assertTrue(message.path("content").isNull());
        assertEquals("{\"a\":1}", message.path("tool_calls").path(0).path("function").path("arguments").asText());
        assertTrue(message.path("tool_calls").path(0).path("id").asText().startsWith("call_"));
        assertEquals("tool_calls", tool.path("choices").path(0).path("finish_reason").asText());
        ObjectNode recitation = Translators.completion(WireFormat.GEMINI,
                json("{\"candidates\":[{\"finishReason\":\"RECITATION\"}]}"), "g");
        assertEquals("content_filter", recitation.path("choices").path(0).path("finish_reason").asText());
        assertEquals("", recitation.path("choices").path(0).path("message").path("content").asText());
    }

    @Test
    void ollamaResponse() {
        // Ollama docs/api.md, "Chat request (with tools)", response
        ObjectNode c = Translators.completion(WireFormat.OLLAMA, json("""
                {"model": "llama3.2", "created_at": "2024-07-22T20:33:28.123648Z",
                 "message": {"role": "assistant", "content": "",
                   "tool_calls": [{"function": {"name": "get_current_weather",
                                                "arguments": {"format": "celsius", "location": "Paris, FR"}}}]},
                 "done_reason": "stop", "done": true, "total_duration": 885095291, "load_duration": 3753500,
                 "prompt_eval_count": 122, "prompt_eval_duration": 328493000, "eval_count": 33,
                 "eval_duration": 552222000}
                """), "llama3.2");
        assertShape(c, "llama3.2");
        JsonNode message = c.path("choices").path(0).path("message");
        assertTrue(message.path("content").isNull());
        assertEquals("get_current_weather", message.path("tool_calls").path(0).path("function").path("name").asText());
        assertEquals("{\"format\":\"celsius\",\"location\":\"Paris, FR\"}",
                message.path("tool_calls").path(0).path("function").path("arguments").asText());
        assertEquals("tool_calls", c.path("choices").path(0).path("finish_reason").asText());
        assertEquals(new Usage(122, 33), Translators.usage(c));

        ObjectNode text = Translators.completion(WireFormat.OLLAMA, json("""
                {"model": "llama3.2", "message": {"role": "assistant", "content": "Hello! How are you today?"},
                 "done": true, "done_reason": "length", "prompt_eval_count": 26, "eval_count": 298}
                """), "llama3.2");
        assertEquals("Hello! How are you today?", text.path("choices").path(0).path("message").path("content").asText());
        assertEquals("length", text.path("choices").path(0).path("finish_reason").asText());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void errorsKeepTheProvidersMessageAndCode() {
        assertEquals(new ProviderError(429, "Rate limit reached for gpt-4o in organization org-x on tokens per min.",
                        "rate_limit_exceeded", "20"),
                Translators.error(WireFormat.OPENAI, 429, bytes("""
                        {"error": {"message": "Rate limit reached for gpt-4o in organization org-x on tokens per min.",
                          "type": "tokens", "param": null, "code": "rate_limit_exceeded"}}"""), "20"));
        assertEquals(new ProviderError(401, "Incorrect API key provided.", "invalid_request_error", null),
                Translators.error(WireFormat.OPENAI, 401, bytes("""
                        {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                          "param": null, "code": null}}"""), null));
        assertEquals(new ProviderError(529, "Overloaded", "overloaded_error", null),
                Translators.error(WireFormat.ANTHROPIC, 529, bytes("""
                        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"""), null));
        assertEquals(new ProviderError(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", null),
                Translators.error(WireFormat.GEMINI, 400, bytes("""
                        {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                          "status": "INVALID_ARGUMENT"}}"""), null));
        assertEquals(new ProviderError(429, "Resource has been exhausted", "RESOURCE_EXHAUSTED", "7"),
                Translators.error(WireFormat.GEMINI, 429, bytes("""
                        [{"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}]
                        """), "7"));
        assertEquals(new ProviderError(404, "model \"llama9\" not found, try pulling it first", "not_found_error", null),
                Translators.error(WireFormat.OLLAMA, 404, bytes("{\"error\":\"model \\\"llama9\\\" not found, try pulling it first\"}"), null));
    }

    @Test
    void aBodyThatIsNotTheProvidersErrorGivesTheStatusOnly() {
        byte[] html = bytes("<html><body>502 Bad Gateway, request Authorization: Bearer sk-secret</body></html>");
        for (WireFormat f : WireFormat.values()) {
            ProviderError e = Translators.error(f, 502, html, null);
            assertEquals(new ProviderError(502, "the provider answered HTTP 502", "upstream_error", null), e);
            assertEquals(new ProviderError(503, "the provider answered HTTP 503", "upstream_error", "30"),
                    Translators.error(f, 503, new byte[0], "30"));
            assertEquals("rate_limit_exceeded", Translators.error(f, 429, bytes("{}"), null).code());
        }
    }
}
