package io.sluice.sim;

import static io.sluice.sim.WireFormatTest.JSON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A simulator configured for one model names it in every response and refuses others as vLLM does
 * ({@code _check_model} in vllm/entrypoints/openai/engine/serving.py: 404, NotFoundError, param "model").
 */
@Timeout(60)
class ServedModelTest {
    static VllmSimulator sim;
    static HttpClient http;

    @BeforeAll
    static void start() {
        sim = VllmSimulator.start(SimulatorOptions.builder().model("qwen-coder")
                .ttft(Duration.ofMillis(2)).itl(Duration.ofMillis(1)).maxTokens(4).build());
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + path))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

    @Test
    void everyResponseNamesTheServedModel() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"qwen-coder\"," + MESSAGES + "}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("qwen-coder", JSON.readTree(r.body()).get("model").asText());

        r = post("/v1/completions", "{\"model\":\"qwen-coder\",\"prompt\":\"one two\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("qwen-coder", JSON.readTree(r.body()).get("model").asText());

        for (String path : List.of("/v1/chat/completions", "/v1/completions")) {
            String body = path.endsWith("chat/completions") ? MESSAGES : "\"prompt\":\"one two\"";
            r = post(path, "{\"model\":\"qwen-coder\",\"stream\":true,\"stream_options\":{\"include_usage\":true}," + body + "}");
            assertEquals(200, r.statusCode(), r.body());
            List<String> events = WireFormatTest.events(r.body());
            assertEquals("[DONE]", events.get(events.size() - 1));
            assertTrue(events.size() > 2, r.body());
            for (String e : events.subList(0, events.size() - 1)) {
                assertEquals("qwen-coder", JSON.readTree(e).get("model").asText(), e);
            }
        }

        // vLLM's model is optional: the served one answers.
        r = post("/v1/chat/completions", "{" + MESSAGES + "}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("qwen-coder", JSON.readTree(r.body()).get("model").asText());
    }

    @Test
    void listsTheServedModel() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/v1/models")).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode data = JSON.readTree(r.body()).get("data");
        assertEquals(1, data.size());
        assertEquals("qwen-coder", data.get(0).get("id").asText());
        assertEquals("qwen-coder", data.get(0).get("root").asText());
    }

    @Test
    void anotherModelIsVllmsNotFound() throws Exception {
        for (String path : List.of("/v1/chat/completions", "/v1/completions")) {
            String rest = path.endsWith("chat/completions") ? MESSAGES : "\"prompt\":\"x\"";
            HttpResponse<String> r = post(path, "{\"model\":\"llama-3-8b\",\"stream\":true," + rest + "}");
            assertEquals(404, r.statusCode());
            assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
            assertEquals("{\"error\":{\"message\":\"The model `llama-3-8b` does not exist.\",\"type\":\"NotFoundError\","
                    + "\"param\":\"model\",\"code\":404}}", r.body());
        }
        HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"a`\\\"b\"," + MESSAGES + "}");
        assertEquals(404, r.statusCode());
        assertEquals("The model `a`\"b` does not exist.", JSON.readTree(r.body()).get("error").get("message").asText());
    }
}
