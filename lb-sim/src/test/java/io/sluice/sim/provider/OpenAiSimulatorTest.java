package io.sluice.sim.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.sim.provider.ProviderSimulator.Format;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class OpenAiSimulatorTest {
    static ProviderSimulator sim;
    static final String AUTH = "Bearer sim-key";
    static final String TOOLS = ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"lookup_weather\","
            + "\"parameters\":{\"type\":\"object\"}}}]";

    @BeforeAll
    static void start() throws Exception {
        sim = ProviderSimulator.start(ProviderSimOptions.defaults(Format.OPENAI));
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    static String chat(String model, boolean stream, String extra) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"messages\":[{\"role\":\"system\",\"content\":"
                + "\"be brief\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"say hello please\"}]}]"
                + extra + "}";
    }

    static HttpResponse<String> post(String body) throws Exception {
        return Wire.post(sim.baseUrl() + "/chat/completions", body, "Authorization", AUTH);
    }

    /** The data payloads of an OpenAI stream, as JSON, with the literal {@code [DONE]} as null. */
    static List<JsonNode> chunks(String body) {
        List<JsonNode> out = new ArrayList<>();
        for (String[] e : Wire.sse(body, "\n\n")) {
            assertEquals(null, e[0], "OpenAI events are unnamed");
            out.add(e[1].equals("[DONE]") ? null : Wire.json(e[1]));
        }
        return out;
    }

    @Test
    void baseUrlIncludesV1() {
        assertEquals("http://127.0.0.1:" + sim.port() + "/v1", sim.baseUrl());
    }

    @Test
    void missingAndWrongKeysGet401InOpenAisShape() throws Exception {
        for (String[] headers : new String[][] {{}, {"Authorization", "Bearer wrong-key-123456"},
                {"Authorization", "sim-key"}}) {
            HttpResponse<String> r = Wire.post(sim.baseUrl() + "/chat/completions", chat("gpt-4o-mini", false, ""),
                    headers);
            assertEquals(401, r.statusCode(), r.body());
            JsonNode error = Wire.json(r.body()).get("error");
            assertEquals(List.of("message", "type", "param", "code"), names(error));
            assertEquals("invalid_request_error", error.get("type").asText());
            assertTrue(error.get("param").isNull());
            assertEquals("invalid_api_key", error.get("code").asText());
            assertFalse(error.get("message").asText().isEmpty());
        }
        assertEquals(401, Wire.get(sim.baseUrl() + "/models").statusCode(), "every path checks the key first");
    }

    @Test
    void nonStreamingAnswerIsAChatCompletionWithUsage() throws Exception {
        HttpResponse<String> r = post(chat("gpt-4o-mini", false, ""));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        JsonNode body = Wire.json(r.body());
        assertTrue(body.get("id").asText().startsWith("chatcmpl-"));
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals("gpt-4o-mini", body.get("model").asText());
        JsonNode choice = body.get("choices").get(0);
        assertEquals("assistant", choice.get("message").get("role").asText());
        assertEquals("Hello from the OpenAI simulator.", choice.get("message").get("content").asText());
        assertEquals("stop", choice.get("finish_reason").asText());
        JsonNode usage = body.get("usage");
        assertEquals(5, usage.get("prompt_tokens").asInt(), "words of every message");
        assertEquals(5, usage.get("completion_tokens").asInt(), "one per piece");
        assertEquals(10, usage.get("total_tokens").asInt());
    }

    @Test
    void streamIsRoleChunkPiecesFinishChunkAndDone() throws Exception {
        long completed = sim.completed();
        HttpResponse<String> r = post(chat("gpt-4o-mini", true, ""));
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> chunks = chunks(r.body());
        assertEquals(1 + 5 + 1 + 1, chunks.size(), r.body());
        JsonNode first = chunks.get(0).get("choices").get(0);
        assertEquals("assistant", first.get("delta").get("role").asText());
        assertEquals("", first.get("delta").get("content").asText());
        StringBuilder text = new StringBuilder();
        String id = chunks.get(0).get("id").asText();
        for (JsonNode c : chunks.subList(0, 7)) {
            assertEquals("chat.completion.chunk", c.get("object").asText());
            assertEquals(id, c.get("id").asText(), "every chunk has the same id");
            assertFalse(c.has("usage"), "no usage field without stream_options.include_usage");
            text.append(c.get("choices").get(0).get("delta").path("content").asText(""));
        }
        for (JsonNode c : chunks.subList(0, 6)) {
            assertTrue(c.get("choices").get(0).get("finish_reason").isNull());
        }
        assertEquals("Hello from the OpenAI simulator.", text.toString());
        JsonNode last = chunks.get(6).get("choices").get(0);
        assertEquals(0, last.get("delta").size(), "the finish chunk has an empty delta");
        assertEquals("stop", last.get("finish_reason").asText());
        assertEquals(null, chunks.get(7), "data: [DONE] ends the stream");
        assertTrue(r.body().endsWith("data: [DONE]\n\n"));
        assertTrue(sim.await(s -> s.completed() == completed + 1, Wire.WAIT));
    }

    @Test
    void includeUsageAddsAUsageChunkWithNoChoicesAndNullUsageElsewhere() throws Exception {
        List<JsonNode> chunks = chunks(post(chat("gpt-4o-mini", true,
                ",\"stream_options\":{\"include_usage\":true}")).body());
        assertEquals(1 + 5 + 1 + 1 + 1, chunks.size());
        for (JsonNode c : chunks.subList(0, 7)) {
            assertTrue(c.has("usage") && c.get("usage").isNull(), c.toString());
        }
        JsonNode usageChunk = chunks.get(7);
        assertEquals(0, usageChunk.get("choices").size());
        assertEquals(5, usageChunk.get("usage").get("prompt_tokens").asInt());
        assertEquals(5, usageChunk.get("usage").get("completion_tokens").asInt());
        assertEquals(10, usageChunk.get("usage").get("total_tokens").asInt());
        assertEquals(null, chunks.get(8));
    }

    @Test
    void streamOptionsWithoutStreamIsRejected() throws Exception {
        HttpResponse<String> r = post(chat("gpt-4o-mini", false, ",\"stream_options\":{\"include_usage\":true}"));
        assertEquals(400, r.statusCode());
        assertEquals("stream_options", Wire.json(r.body()).get("error").get("param").asText());
    }

    @Test
    void modelsAreListed() throws Exception {
        JsonNode body = Wire.json(Wire.get(sim.baseUrl() + "/models", "Authorization", AUTH).body());
        assertEquals("list", body.get("object").asText());
        assertEquals("gpt-4o-mini", body.get("data").get(0).get("id").asText());
        assertEquals("model", body.get("data").get(0).get("object").asText());
    }

    @Test
    void unknownPathAndMalformedJsonGetOpenAiErrors() throws Exception {
        HttpResponse<String> r = Wire.post(sim.baseUrl() + "/nope", "{}", "Authorization", AUTH);
        assertEquals(404, r.statusCode());
        assertEquals("Invalid URL (POST /v1/nope)", Wire.json(r.body()).get("error").get("message").asText());
        r = post("{\"model\": ");
        assertEquals(400, r.statusCode());
        assertEquals("invalid_request_error", Wire.json(r.body()).get("error").get("type").asText());
        r = post("{\"model\":\"gpt-4o-mini\"}");
        assertEquals(400, r.statusCode());
        assertEquals("missing_required_parameter", Wire.json(r.body()).get("error").get("code").asText());
    }

    @Test
    void rateLimitedAndServerErrorModels() throws Exception {
        HttpResponse<String> r = post(chat("rate-limited", true, ""));
        assertEquals(429, r.statusCode());
        assertEquals("7", r.headers().firstValue("retry-after").orElse(null));
        assertEquals("rate_limit_exceeded", Wire.json(r.body()).get("error").get("code").asText());
        r = post(chat("server-error", false, ""));
        assertEquals(500, r.statusCode());
        assertEquals("server_error", Wire.json(r.body()).get("error").get("type").asText());
    }

    @Test
    void toolCallStreamsArgumentDeltasAndFinishesWithToolCalls() throws Exception {
        List<JsonNode> chunks = chunks(post(chat("tool-call", true, TOOLS)).body());
        assertEquals(1 + 4 + 1 + 1, chunks.size());
        JsonNode call = chunks.get(0).get("choices").get(0).get("delta").get("tool_calls").get(0);
        assertEquals(0, call.get("index").asInt());
        assertTrue(call.get("id").asText().startsWith("call_"));
        assertEquals("function", call.get("type").asText());
        assertEquals("lookup_weather", call.get("function").get("name").asText());
        assertEquals("", call.get("function").get("arguments").asText());
        StringBuilder args = new StringBuilder();
        for (JsonNode c : chunks.subList(1, 5)) {
            JsonNode tc = c.get("choices").get(0).get("delta").get("tool_calls").get(0);
            assertEquals(0, tc.get("index").asInt());
            args.append(tc.get("function").get("arguments").asText());
        }
        assertEquals("{\"city\":\"Paris\",\"unit\":\"celsius\"}", args.toString());
        assertEquals("tool_calls", chunks.get(5).get("choices").get(0).get("finish_reason").asText());

        JsonNode message = Wire.json(post(chat("tool-call", false, TOOLS)).body()).get("choices").get(0);
        assertEquals("tool_calls", message.get("finish_reason").asText());
        JsonNode whole = message.get("message").get("tool_calls").get(0).get("function");
        assertEquals("lookup_weather", whole.get("name").asText());
        assertEquals(Wire.json("{\"city\":\"Paris\",\"unit\":\"celsius\"}"), Wire.json(whole.get("arguments").asText()));
        assertTrue(message.get("message").get("content").isNull());
    }

    @Test
    void errorMidStreamSendsAnInBandErrorAndNoDone() throws Exception {
        long completed = sim.completed();
        HttpResponse<String> r = post(chat("error-mid-stream", true, ""));
        assertEquals(200, r.statusCode());
        List<JsonNode> chunks = chunks(r.body());
        assertEquals(1 + 2 + 1, chunks.size(), r.body());
        JsonNode error = chunks.get(3).get("error");
        assertNotNull(error, r.body());
        assertEquals("server_error", error.get("type").asText());
        assertFalse(r.body().contains("[DONE]"));
        assertEquals(completed, sim.completed(), "an in-band error is not a normal completion");
    }

    @Test
    void requestsAreRecordedWithLowerCaseHeaders() throws Exception {
        post(chat("gpt-4o-mini", false, ""));
        RecordedRequest last = sim.lastRequest();
        assertEquals("POST", last.method());
        assertEquals("/v1/chat/completions", last.uri());
        assertEquals(List.of(AUTH), last.headers().get("authorization"));
        assertEquals(chat("gpt-4o-mini", false, ""), last.body());
        assertEquals(last, sim.requestsSeen().get(sim.requestsSeen().size() - 1));
    }

    static List<String> names(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
