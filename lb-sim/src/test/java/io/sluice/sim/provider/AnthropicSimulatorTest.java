package io.sluice.sim.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
class AnthropicSimulatorTest {
    static ProviderSimulator sim;
    static final String[] HEADERS = {"x-api-key", "sim-key", "anthropic-version", "2023-06-01"};
    static final String TOOLS = ",\"tools\":[{\"name\":\"lookup_weather\",\"input_schema\":{\"type\":\"object\"}}]";

    @BeforeAll
    static void start() throws Exception {
        sim = ProviderSimulator.start(ProviderSimOptions.defaults(Format.ANTHROPIC));
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    static String messages(String model, boolean stream, String extra) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":256,\"stream\":" + stream + ",\"system\":\"be brief\","
                + "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"say hello please\"}]}]"
                + extra + "}";
    }

    static HttpResponse<String> post(String body) throws Exception {
        return Wire.post(sim.baseUrl() + "/v1/messages", body, HEADERS);
    }

    /** Event names of a stream, checking each data's type is its event name. */
    static List<String> names(List<String[]> events) {
        List<String> out = new ArrayList<>();
        for (String[] e : events) {
            assertEquals(e[0], Wire.json(e[1]).get("type").asText(), "event name and data type agree");
            out.add(e[0]);
        }
        return out;
    }

    static void assertError(HttpResponse<String> r, int status, String type) {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode body = Wire.json(r.body());
        assertEquals("error", body.get("type").asText());
        assertEquals(type, body.get("error").get("type").asText());
        assertFalse(body.get("error").get("message").asText().isEmpty());
        assertTrue(body.get("request_id").asText().startsWith("req_"));
    }

    @Test
    void baseUrlIsTheRoot() {
        assertEquals("http://127.0.0.1:" + sim.port(), sim.baseUrl());
    }

    @Test
    void keyIsCheckedThenTheVersionHeader() throws Exception {
        assertError(Wire.post(sim.baseUrl() + "/v1/messages", messages("m", false, ""), "anthropic-version",
                "2023-06-01"), 401, "authentication_error");
        assertError(Wire.post(sim.baseUrl() + "/v1/messages", messages("m", false, ""), "x-api-key", "wrong",
                "anthropic-version", "2023-06-01"), 401, "authentication_error");
        assertError(Wire.post(sim.baseUrl() + "/v1/messages", messages("m", false, ""), "Authorization",
                "Bearer sim-key", "anthropic-version", "2023-06-01"), 401, "authentication_error");
        HttpResponse<String> noVersion = Wire.post(sim.baseUrl() + "/v1/messages", messages("m", false, ""),
                "x-api-key", "sim-key");
        assertError(noVersion, 400, "invalid_request_error");
        assertTrue(Wire.json(noVersion.body()).get("error").get("message").asText().contains("anthropic-version"));
    }

    @Test
    void nonStreamingAnswerIsAMessage() throws Exception {
        HttpResponse<String> r = post(messages("claude-sonnet-4-5-20250929", false, ""));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = Wire.json(r.body());
        assertTrue(body.get("id").asText().startsWith("msg_"));
        assertEquals("message", body.get("type").asText());
        assertEquals("assistant", body.get("role").asText());
        assertEquals("claude-sonnet-4-5-20250929", body.get("model").asText());
        assertEquals(1, body.get("content").size());
        assertEquals("text", body.get("content").get(0).get("type").asText());
        assertEquals("Hello from the Anthropic simulator.", body.get("content").get(0).get("text").asText());
        assertEquals("end_turn", body.get("stop_reason").asText());
        assertTrue(body.get("stop_sequence").isNull());
        assertEquals(5, body.get("usage").get("input_tokens").asInt(), "system and message words");
        assertEquals(5, body.get("usage").get("output_tokens").asInt());
        assertTrue(r.headers().firstValue("request-id").isPresent());
    }

    @Test
    void streamIsTheDocumentedEventFlow() throws Exception {
        long completed = sim.completed();
        HttpResponse<String> r = post(messages("claude-sonnet-4-5-20250929", true, ""));
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String[]> events = Wire.sse(r.body(), "\n\n");
        assertEquals(List.of("message_start", "content_block_start", "ping", "content_block_delta",
                "content_block_delta", "content_block_delta", "content_block_delta", "content_block_delta",
                "content_block_stop", "message_delta", "message_stop"), names(events));
        JsonNode start = Wire.json(events.get(0)[1]).get("message");
        assertEquals(0, start.get("content").size());
        assertTrue(start.get("stop_reason").isNull());
        assertEquals(5, start.get("usage").get("input_tokens").asInt());
        JsonNode block = Wire.json(events.get(1)[1]);
        assertEquals(0, block.get("index").asInt());
        assertEquals("text", block.get("content_block").get("type").asText());
        StringBuilder text = new StringBuilder();
        for (String[] e : events.subList(3, 8)) {
            JsonNode delta = Wire.json(e[1]);
            assertEquals(0, delta.get("index").asInt());
            assertEquals("text_delta", delta.get("delta").get("type").asText());
            text.append(delta.get("delta").get("text").asText());
        }
        assertEquals("Hello from the Anthropic simulator.", text.toString());
        JsonNode messageDelta = Wire.json(events.get(9)[1]);
        assertEquals("end_turn", messageDelta.get("delta").get("stop_reason").asText());
        assertEquals(5, messageDelta.get("usage").get("output_tokens").asInt());
        assertTrue(sim.await(s -> s.completed() == completed + 1, Wire.WAIT));
    }

    @Test
    void toolCallStreamsInputJsonDeltas() throws Exception {
        List<String[]> events = Wire.sse(post(messages("tool-call", true, TOOLS)).body(), "\n\n");
        assertEquals(List.of("message_start", "content_block_start", "ping", "content_block_delta",
                "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop",
                "message_delta", "message_stop"), names(events));
        JsonNode block = Wire.json(events.get(1)[1]).get("content_block");
        assertEquals("tool_use", block.get("type").asText());
        assertEquals("lookup_weather", block.get("name").asText());
        assertTrue(block.get("id").asText().startsWith("toolu_"));
        assertEquals(0, block.get("input").size());
        StringBuilder json = new StringBuilder();
        for (String[] e : events.subList(3, 7)) {
            JsonNode delta = Wire.json(e[1]).get("delta");
            assertEquals("input_json_delta", delta.get("type").asText());
            json.append(delta.get("partial_json").asText());
        }
        assertEquals("{\"city\":\"Paris\",\"unit\":\"celsius\"}", json.toString());
        assertEquals("tool_use", Wire.json(events.get(8)[1]).get("delta").get("stop_reason").asText());

        JsonNode whole = Wire.json(post(messages("tool-call", false, TOOLS)).body());
        assertEquals("tool_use", whole.get("stop_reason").asText());
        assertEquals("lookup_weather", whole.get("content").get(0).get("name").asText());
        assertEquals(Wire.json("{\"city\":\"Paris\",\"unit\":\"celsius\"}"), whole.get("content").get(0).get("input"));
    }

    @Test
    void errorMidStreamIsAnOverloadedErrorEvent() throws Exception {
        List<String[]> events = Wire.sse(post(messages("error-mid-stream", true, "")).body(), "\n\n");
        assertEquals(List.of("message_start", "content_block_start", "ping", "content_block_delta",
                "content_block_delta", "error"), names(events));
        assertEquals("overloaded_error", Wire.json(events.get(5)[1]).get("error").get("type").asText());
    }

    @Test
    void rateLimitedAndServerErrorModels() throws Exception {
        HttpResponse<String> r = post(messages("rate-limited", true, ""));
        assertError(r, 429, "rate_limit_error");
        assertEquals("7", r.headers().firstValue("retry-after").orElse(null));
        assertError(post(messages("server-error", false, "")), 529, "overloaded_error");
    }

    @Test
    void unknownPathMalformedJsonAndMissingFields() throws Exception {
        assertError(Wire.post(sim.baseUrl() + "/v1/complete", "{}", HEADERS), 404, "not_found_error");
        assertError(post("{\"model\":"), 400, "invalid_request_error");
        HttpResponse<String> r = post("{\"model\":\"m\",\"messages\":[]}");
        assertError(r, 400, "invalid_request_error");
        assertEquals("max_tokens: Field required", Wire.json(r.body()).get("error").get("message").asText());
    }

    @Test
    void modelsAreListed() throws Exception {
        JsonNode body = Wire.json(Wire.get(sim.baseUrl() + "/v1/models", HEADERS).body());
        JsonNode first = body.get("data").get(0);
        assertEquals("model", first.get("type").asText());
        assertEquals("claude-sonnet-4-5-20250929", first.get("id").asText());
        assertFalse(body.get("has_more").asBoolean());
        assertEquals("claude-sonnet-4-5-20250929", body.get("first_id").asText());
    }
}
