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
class GeminiSimulatorTest {
    static ProviderSimulator sim;
    static final String[] KEY = {"x-goog-api-key", "sim-key"};
    static final String TOOLS = ",\"tools\":[{\"functionDeclarations\":[{\"name\":\"lookup_weather\","
            + "\"parameters\":{\"type\":\"object\"}}]}]";

    @BeforeAll
    static void start() throws Exception {
        sim = ProviderSimulator.start(ProviderSimOptions.defaults(Format.GEMINI));
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    static String request(String extra) {
        return "{\"systemInstruction\":{\"parts\":[{\"text\":\"be brief\"}]},"
                + "\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"say hello please\"}]}]" + extra + "}";
    }

    static String url(String model, String method) {
        return sim.baseUrl() + "/v1beta/models/" + model + ":" + method;
    }

    /** SSE data payloads; Google terminates each event with CRLF CRLF. */
    static List<JsonNode> events(String body) {
        assertTrue(body.endsWith("\r\n\r\n"), body);
        List<JsonNode> out = new ArrayList<>();
        for (String[] e : Wire.sse(body, "\r\n\r\n")) {
            out.add(Wire.json(e[1]));
        }
        return out;
    }

    static String text(JsonNode chunk) {
        return chunk.get("candidates").get(0).get("content").get("parts").get(0).get("text").asText();
    }

    static void assertError(HttpResponse<String> r, int code, String status) {
        assertEquals(code, r.statusCode(), r.body());
        JsonNode error = Wire.json(r.body()).get("error");
        assertEquals(code, error.get("code").asInt());
        assertEquals(status, error.get("status").asText());
        assertFalse(error.get("message").asText().isEmpty());
    }

    @Test
    void keyComesInTheHeaderOrTheQuery() throws Exception {
        assertError(Wire.post(url("gemini-2.0-flash", "generateContent"), request("")), 401, "UNAUTHENTICATED");
        assertError(Wire.post(url("gemini-2.0-flash", "generateContent"), request(""), "x-goog-api-key", "nope"),
                401, "UNAUTHENTICATED");
        assertEquals(200, Wire.post(url("gemini-2.0-flash", "generateContent"), request(""), KEY).statusCode());
        assertEquals(200, Wire.post(url("gemini-2.0-flash", "generateContent") + "?key=sim-key", request(""))
                .statusCode());
    }

    @Test
    void generateContentAnswersOneResponse() throws Exception {
        HttpResponse<String> r = Wire.post(url("gemini-2.0-flash", "generateContent"), request(""), KEY);
        assertEquals(200, r.statusCode());
        JsonNode body = Wire.json(r.body());
        JsonNode candidate = body.get("candidates").get(0);
        assertEquals("model", candidate.get("content").get("role").asText());
        assertEquals("Hello from the Gemini simulator.", text(body));
        assertEquals("STOP", candidate.get("finishReason").asText());
        JsonNode usage = body.get("usageMetadata");
        assertEquals(5, usage.get("promptTokenCount").asInt(), "system instruction and content words");
        assertEquals(5, usage.get("candidatesTokenCount").asInt());
        assertEquals(10, usage.get("totalTokenCount").asInt());
        assertEquals("gemini-2.0-flash", body.get("modelVersion").asText());
    }

    @Test
    void sseStreamSendsOneChunkPerPieceWithStopOnTheLast() throws Exception {
        long completed = sim.completed();
        HttpResponse<String> r = Wire.post(url("gemini-2.0-flash", "streamGenerateContent") + "?alt=sse",
                request(""), KEY);
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> chunks = events(r.body());
        assertEquals(5, chunks.size(), r.body());
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < chunks.size(); i++) {
            JsonNode c = chunks.get(i);
            text.append(text(c));
            assertEquals(i == 4, c.get("candidates").get(0).has("finishReason"), c.toString());
            assertEquals(5, c.get("usageMetadata").get("promptTokenCount").asInt());
            assertEquals(i + 1, c.get("usageMetadata").get("candidatesTokenCount").asInt());
            assertEquals(chunks.get(0).get("responseId"), c.get("responseId"));
        }
        assertEquals("STOP", chunks.get(4).get("candidates").get(0).get("finishReason").asText());
        assertEquals("Hello from the Gemini simulator.", text.toString());
        assertTrue(sim.await(s -> s.completed() == completed + 1, Wire.WAIT));
    }

    @Test
    void withoutAltSseTheStreamIsAJsonArray() throws Exception {
        HttpResponse<String> r = Wire.post(url("gemini-2.0-flash", "streamGenerateContent"), request(""), KEY);
        assertEquals(200, r.statusCode());
        JsonNode array = Wire.json(r.body());
        assertTrue(array.isArray());
        assertEquals(5, array.size());
        assertEquals("STOP", array.get(4).get("candidates").get(0).get("finishReason").asText());
    }

    @Test
    void toolCallSendsTheFunctionCallWhole() throws Exception {
        List<JsonNode> chunks = events(Wire.post(url("tool-call", "streamGenerateContent") + "?alt=sse",
                request(TOOLS), KEY).body());
        assertEquals(1, chunks.size());
        JsonNode candidate = chunks.get(0).get("candidates").get(0);
        JsonNode call = candidate.get("content").get("parts").get(0).get("functionCall");
        assertEquals("lookup_weather", call.get("name").asText());
        assertEquals(Wire.json("{\"city\":\"Paris\",\"unit\":\"celsius\"}"), call.get("args"));
        assertEquals("STOP", candidate.get("finishReason").asText());

        JsonNode whole = Wire.json(Wire.post(url("tool-call", "generateContent"), request(TOOLS), KEY).body());
        assertEquals("lookup_weather", whole.get("candidates").get(0).get("content").get("parts").get(0)
                .get("functionCall").get("name").asText());
    }

    @Test
    void errorMidStreamSendsAnErrorEvent() throws Exception {
        List<JsonNode> chunks = events(Wire.post(url("error-mid-stream", "streamGenerateContent") + "?alt=sse",
                request(""), KEY).body());
        assertEquals(3, chunks.size());
        assertEquals("INTERNAL", chunks.get(2).get("error").get("status").asText());
    }

    @Test
    void rateLimitedAndServerErrorModels() throws Exception {
        HttpResponse<String> r = Wire.post(url("rate-limited", "streamGenerateContent") + "?alt=sse", request(""), KEY);
        assertError(r, 429, "RESOURCE_EXHAUSTED");
        assertEquals("7", r.headers().firstValue("retry-after").orElse(null));
        assertEquals("7s", Wire.json(r.body()).get("error").get("details").get(0).get("retryDelay").asText());
        assertError(Wire.post(url("server-error", "generateContent"), request(""), KEY), 500, "INTERNAL");
    }

    @Test
    void unknownPathAndMalformedJson() throws Exception {
        assertError(Wire.post(sim.baseUrl() + "/v1beta/models/gemini-2.0-flash:explode", request(""), KEY), 404,
                "NOT_FOUND");
        assertError(Wire.post(url("gemini-2.0-flash", "generateContent"), "{\"contents\":", KEY), 400,
                "INVALID_ARGUMENT");
    }

    @Test
    void modelsAreListed() throws Exception {
        JsonNode body = Wire.json(Wire.get(sim.baseUrl() + "/v1beta/models", KEY).body());
        JsonNode first = body.get("models").get(0);
        assertEquals("models/gemini-2.0-flash", first.get("name").asText());
        assertTrue(first.get("supportedGenerationMethods").toString().contains("generateContent"));
    }
}
