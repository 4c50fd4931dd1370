package io.sluice.core.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.http.Json;
import org.junit.jupiter.api.Test;

/** OpenAI chat requests as each provider's request: what maps where, and what is refused (400). */
class RequestTranslationTest {
    private static final String PNG = "iVBORw0KGgo=";

    private static JsonNode json(String s) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static void assertJson(String expected, JsonNode actual) {
        assertEquals(json(expected), actual, () -> "got " + actual.toPrettyString());
    }

    /** A conversation with everything: system prompt, text+image parts, a tool call and its result. */
    private static final JsonNode CONVERSATION = json("""
            {"model": "gpt-4o", "stream": true,
             "messages": [
               {"role": "system", "content": "You are terse."},
               {"role": "developer", "content": [{"type": "text", "text": "Answer in English."}]},
               {"role": "user", "content": [
                  {"type": "text", "text": "What is this, and the weather in Paris?"},
                  {"type": "image_url", "image_url": {"url": "data:image/png;base64,%s", "detail": "low"}}]},
               {"role": "assistant", "content": null, "tool_calls": [
                  {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}},
                  {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": ""}}]},
               {"role": "tool", "tool_call_id": "call_1", "content": "{\\"celsius\\": 21}"},
               {"role": "tool", "tool_call_id": "call_2", "content": "10:00"},
               {"role": "user", "content": "Thanks"}],
             "max_tokens": 100, "temperature": 0.2, "top_p": 0.9, "stop": "END", "user": "u-42",
             "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
                       {"type": "function", "function": {"name": "get_time"}}],
             "tool_choice": "required",
             "stream_options": {"include_usage": false}}
            """.formatted(PNG));

    @Test
    void openAiPassesThroughAskingForUsage() {
        UpstreamCall call = Translators.request(WireFormat.OPENAI, CONVERSATION, "gpt-4o-2024-08-06");
        assertEquals("/chat/completions", call.path());
        assertTrue(call.stream());
        assertEquals("gpt-4o-2024-08-06", call.body().path("model").asText());
        assertTrue(call.body().path("stream_options").path("include_usage").asBoolean());
        assertEquals(CONVERSATION.get("messages"), call.body().get("messages"));
        assertEquals("gpt-4o", CONVERSATION.path("model").asText(), "the request is not modified");
        assertFalse(CONVERSATION.path("stream_options").path("include_usage").asBoolean());

        UpstreamCall plain = Translators.request(WireFormat.OPENAI,
                json("{\"model\":\"x\",\"messages\":[],\"stream_options\":{\"other\":1},\"stream\":true}"), "y");
        assertJson("{\"other\":1,\"include_usage\":true}", plain.body().get("stream_options"));
        UpstreamCall whole = Translators.request(WireFormat.OPENAI, json("{\"model\":\"x\",\"messages\":[]}"), "y");
        assertFalse(whole.stream());
        assertFalse(whole.body().has("stream_options"));
    }

    @Test
    void anthropic() {
        UpstreamCall call = Translators.request(WireFormat.ANTHROPIC, CONVERSATION, "claude-sonnet-4-5");
        assertEquals("/v1/messages", call.path());
        assertTrue(call.stream());
        assertJson("""
                {"model": "claude-sonnet-4-5",
                 "temperature": 0.2, "top_p": 0.9, "stop_sequences": ["END"], "metadata": {"user_id": "u-42"},
                 "max_tokens": 100,
                 "system": "You are terse.\\n\\nAnswer in English.",
                 "messages": [
                   {"role": "user", "content": [
                      {"type": "text", "text": "What is this, and the weather in Paris?"},
                      {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "%s"}}]},
                   {"role": "assistant", "content": [
                      {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                      {"type": "tool_use", "id": "call_2", "name": "get_time", "input": {}}]},
                   {"role": "user", "content": [
                      {"type": "tool_result", "tool_use_id": "call_1", "content": "{\\"celsius\\": 21}"},
                      {"type": "tool_result", "tool_use_id": "call_2", "content": "10:00"},
                      {"type": "text", "text": "Thanks"}]}],
                 "tools": [
                   {"name": "get_weather", "description": "Weather",
                    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
                   {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}],
                 "tool_choice": {"type": "any"},
                 "stream": true}
                """.formatted(PNG), call.body());
    }

    @Test
    void anthropicDefaultsAndChoices() {
        JsonNode body = Translators.request(WireFormat.ANTHROPIC, json("""
                {"model": "x", "messages": [{"role": "user", "content": [
                   {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]}],
                 "stop": ["a", "b"], "max_completion_tokens": 7, "seed": 1, "n": 1,
                 "tools": [{"type": "function", "function": {"name": "f"}}],
                 "tool_choice": {"type": "function", "function": {"name": "f"}}, "parallel_tool_calls": false}
                """), "claude").body();
        assertEquals(7, body.path("max_tokens").asInt());
        assertJson("[\"a\",\"b\"]", body.get("stop_sequences"));
        assertJson("{\"type\":\"tool\",\"name\":\"f\",\"disable_parallel_tool_use\":true}", body.get("tool_choice"));
        assertJson("[{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":\"https://example.com/cat.jpg\"}}]",
                body.path("messages").path(0).path("content"));
        assertFalse(body.has("stream"));
        assertFalse(body.has("seed"));

        JsonNode plain = Translators.request(WireFormat.ANTHROPIC,
                json("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"user\",\"content\":\"again\"}],"
                        + "\"tool_choice\":\"none\"}"), "claude").body();
        assertEquals(4096, plain.path("max_tokens").asInt());
        assertJson("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"},{\"type\":\"text\",\"text\":\"again\"}]}]",
                plain.get("messages"));
        assertJson("{\"type\":\"none\"}", plain.get("tool_choice"));
        assertJson("{\"type\":\"auto\"}", Translators.request(WireFormat.ANTHROPIC,
                json("{\"messages\":[],\"tool_choice\":\"auto\"}"), "c").body().get("tool_choice"));
    }

    @Test
    void gemini() {
        UpstreamCall call = Translators.request(WireFormat.GEMINI, CONVERSATION, "gemini-2.0-flash");
        assertEquals("/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", call.path());
        assertTrue(call.stream());
        assertJson("""
                {"contents": [
                   {"role": "user", "parts": [
                      {"text": "What is this, and the weather in Paris?"},
                      {"inlineData": {"mimeType": "image/png", "data": "%s"}}]},
                   {"role": "model", "parts": [
                      {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                      {"functionCall": {"name": "get_time", "args": {}}}]},
                   {"role": "user", "parts": [
                      {"functionResponse": {"name": "get_weather", "response": {"celsius": 21}}},
                      {"functionResponse": {"name": "get_time", "response": {"content": "10:00"}}},
                      {"text": "Thanks"}]}],
                 "systemInstruction": {"parts": [{"text": "You are terse."}, {"text": "Answer in English."}]},
                 "tools": [{"functionDeclarations": [
                    {"name": "get_weather", "description": "Weather",
                     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
                    {"name": "get_time"}]}],
                 "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
                 "generationConfig": {"temperature": 0.2, "topP": 0.9, "stopSequences": ["END"], "maxOutputTokens": 100}}
                """.formatted(PNG), call.body());
    }

    @Test
    void geminiPathsAndConfig() {
        UpstreamCall call = Translators.request(WireFormat.GEMINI, json("""
                {"messages": [{"role": "user", "content": "hi"}], "n": 1, "seed": 5,
                 "response_format": {"type": "json_object"},
                 "tools": [{"type": "function", "function": {"name": "f"}}],
                 "tool_choice": {"type": "function", "function": {"name": "f"}}}
                """), "models/tuned model");
        assertEquals("/v1beta/models/tuned%20model:generateContent", call.path());
        assertFalse(call.stream());
        assertJson("{\"candidateCount\":1,\"seed\":5,\"responseMimeType\":\"application/json\"}",
                call.body().get("generationConfig"));
        assertJson("{\"functionCallingConfig\":{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"f\"]}}",
                call.body().get("toolConfig"));
        assertJson("{\"functionCallingConfig\":{\"mode\":\"NONE\"}}", Translators.request(WireFormat.GEMINI,
                json("{\"messages\":[],\"tool_choice\":\"none\"}"), "g").body().get("toolConfig"));
        assertEquals("/v1beta/models/a%2Fb%3Ac:generateContent",
                Translators.request(WireFormat.GEMINI, json("{\"messages\":[]}"), "a/b:c").path());
    }

    @Test
    void ollamaRefusesToForceATool() {
        TranslationException e = assertThrows(TranslationException.class,
                () -> Translators.request(WireFormat.OLLAMA, CONVERSATION, "l"));
        assertEquals("tool_choice", e.param());
    }

    @Test
    void ollamaBody() {
        com.fasterxml.jackson.databind.node.ObjectNode chat = (com.fasterxml.jackson.databind.node.ObjectNode)
                CONVERSATION.deepCopy();
        chat.remove("tool_choice");
        chat.put("stream", false);
        chat.put("seed", 3);
        UpstreamCall call = Translators.request(WireFormat.OLLAMA, chat, "llava");
        assertEquals("/api/chat", call.path());
        assertFalse(call.stream());
        assertJson("""
                {"model": "llava",
                 "messages": [
                   {"role": "system", "content": "You are terse."},
                   {"role": "system", "content": "Answer in English."},
                   {"role": "user", "content": "What is this, and the weather in Paris?", "images": ["%s"]},
                   {"role": "assistant", "content": "", "tool_calls": [
                      {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                      {"function": {"name": "get_time", "arguments": {}}}]},
                   {"role": "tool", "content": "{\\"celsius\\": 21}", "tool_name": "get_weather"},
                   {"role": "tool", "content": "10:00", "tool_name": "get_time"},
                   {"role": "user", "content": "Thanks"}],
                 "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
                           {"type": "function", "function": {"name": "get_time"}}],
                 "options": {"temperature": 0.2, "top_p": 0.9, "stop": ["END"], "seed": 3, "num_predict": 100},
                 "stream": false}
                """.formatted(PNG), call.body());
        JsonNode none = Translators.request(WireFormat.OLLAMA, json("""
                {"messages": [], "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none",
                 "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}}}
                """), "l").body();
        assertFalse(none.has("tools"), "tool_choice none: no tools offered");
        assertJson("{\"type\":\"object\"}", none.get("format"));
        assertEquals(false, none.path("stream").asBoolean(true), "stream always explicit");
    }

    private static void assertRefused(WireFormat f, String chat, String param) {
        TranslationException e = assertThrows(TranslationException.class,
                () -> Translators.request(f, json(chat), "m"), chat);
        assertEquals(param, e.param(), e.getMessage());
    }

    @Test
    void refusesWhatCannotBeExpressed() {
        String user = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        for (WireFormat f : new WireFormat[] {WireFormat.ANTHROPIC, WireFormat.GEMINI, WireFormat.OLLAMA}) {
            assertRefused(f, "{" + user + ",\"n\":2}", "n");
            assertRefused(f, "{" + user + ",\"logprobs\":true}", "logprobs");
            assertRefused(f, "{" + user + ",\"logit_bias\":{\"50256\":-100}}", "logit_bias");
            assertRefused(f, "{" + user + ",\"audio\":{\"voice\":\"alloy\"}}", "audio");
            assertRefused(f, "{" + user + ",\"frobnicate\":1}", "frobnicate");
            assertRefused(f, "{" + user + ",\"response_format\":{\"type\":\"yaml\"}}", "response_format");
            assertRefused(f, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\","
                    + "\"input_audio\":{\"data\":\"AAA\",\"format\":\"wav\"}}]}]}", "messages[0].content[0]");
            assertRefused(f, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                    + "{\"type\":\"file\",\"file\":{\"file_id\":\"f\"}}]}]}", "messages[0].content[1]");
            assertRefused(f, "{\"messages\":[{\"role\":\"function\",\"name\":\"f\",\"content\":\"x\"}]}", "messages[0].role");
            assertRefused(f, "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
                    + "\"function\":{\"name\":\"f\",\"arguments\":\"{oops\"}}]}]}", "messages[0].tool_calls[0].function.arguments");
            assertRefused(f, "{" + user + ",\"tools\":[{\"type\":\"web_search\"}]}", "tools[0]");
            assertRefused(f, "{" + user + ",\"tool_choice\":\"sometimes\"}", "tool_choice");
            assertRefused(f, "{" + user + ",\"stop\":[1]}", "stop");
        }
        assertRefused(WireFormat.ANTHROPIC, "{" + user + ",\"response_format\":{\"type\":\"json_object\"}}", "response_format");
        assertRefused(WireFormat.ANTHROPIC, "{" + user + ",\"presence_penalty\":0.5}", "presence_penalty");
        String remoteImage = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                + "\"image_url\":{\"url\":\"https://example.com/a.png\"}}]}]}";
        assertRefused(WireFormat.GEMINI, remoteImage, "messages[0].content");
        assertRefused(WireFormat.OLLAMA, remoteImage, "messages[0].content");
        assertRefused(WireFormat.ANTHROPIC, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                + "\"image_url\":{\"url\":\"data:image/png,rawbytes\"}}]}]}", "messages[0].content[0]");
        assertRefused(WireFormat.GEMINI, "{\"messages\":[{\"role\":\"tool\",\"tool_call_id\":\"nowhere\",\"content\":\"x\"}]}",
                "messages[0].tool_call_id");
        assertRefused(WireFormat.OLLAMA, "{" + user + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"f\"}}}",
                "tool_choice");
        assertRefused(WireFormat.GEMINI, "{" + user + ",\"parallel_tool_calls\":false}", "parallel_tool_calls");
        assertThrows(TranslationException.class, () -> Translators.request(WireFormat.ANTHROPIC, json("[]"), "m"));
    }

    @Test
    void acceptsOpenAiDefaultsEverywhere() {
        String chat = """
                {"model": "x", "messages": [{"role": "user", "content": "hi"}], "n": 1, "logprobs": false,
                 "presence_penalty": 0, "frequency_penalty": 0, "logit_bias": {}, "response_format": {"type": "text"},
                 "stream_options": {"include_usage": true}, "store": false, "modalities": ["text"],
                 "service_tier": "auto", "metadata": {"k": "v"}, "parallel_tool_calls": true, "top_logprobs": null}
                """;
        for (WireFormat f : WireFormat.values()) {
            Translators.request(f, json(chat), "m");
        }
    }
}
