package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Routing by the body's model over several pools behind one listener, aliases, a route's forced model,
 * and what the backends received.
 */
class ModelRoutingTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String YAML = """
            listeners:
              - host: 127.0.0.1
                port: 0
                routes:
                  - { path: /api/dce/proxy, pool: chat, prefix-rewrite: /v1/chat/completions, model: llama-3-8b }
                  - { path: /api/, admin: true }
                  - { path: /rec/, pool: rec, prefix-rewrite: / }
                  - { path: /v1/, by-model: true }
            models:
              aliases: { default: llama-3-8b, gpt-4o: default, r: rec-model }
            pools:
              chat:
                models: [ llama-3-8b ]
                backends: [ { simulator: { model: llama-3-8b } }, { simulator: { model: llama-3-8b } } ]
              code:
                models: [ qwen-coder ]
                backends: [ { simulator: { model: qwen-coder } } ]
              rec:
                models: [ rec-model ]
                backends: [ { url: "http://127.0.0.1:${REC}" } ]
            """;

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("REC", RecordingBackend::new, RecordingBackend::port)
            .yaml(YAML)
            .build();

    private RecordingBackend rec() {
        return sluice.backend("REC");
    }

    @BeforeEach
    void clear() {
        rec().requests.clear();
    }

    private static RawHttp.Response chat(String path, String body) throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            return c.post(path, body).exchange();
        }
    }

    private static JsonNode json(RawHttp.Response r) throws Exception {
        return JSON.readTree(r.body().text());
    }

    @Test
    void eachModelGoesToThePoolThatServesIt() throws Exception {
        RawHttp.Response llama = chat("/v1/chat/completions", RawHttp.chatBody("llama-3-8b", false, 3));
        assertEquals(200, llama.status(), llama.body().text());
        assertEquals("llama-3-8b", json(llama).get("model").asText());
        RawHttp.Response qwen = chat("/v1/chat/completions", RawHttp.chatBody("qwen-coder", false, 3));
        assertEquals(200, qwen.status(), qwen.body().text());
        assertEquals("qwen-coder", json(qwen).get("model").asText());
    }

    @Test
    void streamingByModel() throws Exception {
        RawHttp.Response r = chat("/v1/chat/completions", RawHttp.chatBody("qwen-coder", true, 4));
        assertEquals(200, r.status());
        List<String> events = r.body().events();
        assertEquals("[DONE]", events.get(events.size() - 1));
        assertTrue(events.get(0).contains("\"model\":\"qwen-coder\""), events.get(0));
    }

    @Test
    void anAliasIsFollowedAndTheBackendGetsTheRealName() throws Exception {
        RawHttp.Response r = chat("/v1/chat/completions", RawHttp.chatBody("gpt-4o", false, 3));
        assertEquals(200, r.status(), "vLLM would have answered 404 to gpt-4o: " + r.body().text());
        assertEquals("llama-3-8b", json(r).get("model").asText());
    }

    @Test
    void onlyTheModelStringChangesInTheForwardedBody() throws Exception {
        String body = "{ \"messages\":[{\"role\":\"user\",\"content\":\"say \\\"model\\\": x\"}],\n \"model\" : \"r\", \"metadata\":{\"model\":\"r\"}, \"max_tokens\":2}";
        RawHttp.Response r = chat("/v1/chat/completions", body);
        assertEquals(200, r.status(), r.body().text());
        List<RecordingBackend.Request> got = proxied(rec());
        assertEquals(1, got.size());
        String forwarded = new String(got.get(0).body(), StandardCharsets.UTF_8);
        assertEquals(body.replace("\"model\" : \"r\"", "\"model\" : \"rec-model\""), forwarded,
                "the nested \"model\" keys and every other byte are untouched");
        assertEquals(String.valueOf(forwarded.getBytes(StandardCharsets.UTF_8).length), got.get(0).header("content-length"));
    }

    @Test
    void anUnknownModelIsTheGatewaysOwn404NamingTheModels() throws Exception {
        RawHttp.Response r = chat("/v1/chat/completions", RawHttp.chatBody("gpt-5", false, 3));
        assertEquals(404, r.status());
        assertEquals("model_not_found", r.header("x-sluice-error"));
        JsonNode error = json(r).get("error");
        assertEquals("model_not_found", error.get("code").asText());
        assertEquals("model", error.get("param").asText());
        assertEquals("invalid_request_error", error.get("type").asText());
        String message = error.get("message").asText();
        assertTrue(message.contains("gpt-5") && message.contains("llama-3-8b") && message.contains("qwen-coder")
                && message.contains("default"), message);
    }

    @Test
    void aRouteMayForceTheModelAndRewriteThePath() throws Exception {
        RawHttp.Response r = chat("/api/dce/proxy", RawHttp.chatBody("whatever-the-app-says", true, 3));
        assertEquals(200, r.status(), r.body().text());
        assertTrue(r.body().events().get(0).contains("\"model\":\"llama-3-8b\""));
        RawHttp.Response none = chat("/api/dce/proxy", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}");
        assertEquals(200, none.status(), "a body without a model gets the forced one: " + none.body().text());
    }

    @Test
    void badBodiesOnAByModelRoute() throws Exception {
        RawHttp.Response dup = chat("/v1/chat/completions", "{\"model\":\"qwen-coder\",\"messages\":[],\"model\":\"llama-3-8b\"}");
        assertEquals(400, dup.status());
        RawHttp.Response none = chat("/v1/chat/completions", "{\"messages\":[]}");
        assertEquals(400, none.status());
        RawHttp.Response notJson = chat("/v1/chat/completions", "model=llama-3-8b");
        assertEquals(400, notJson.status());
        assertEquals("bad_request", notJson.header("x-sluice-error"));
    }

    @Test
    void byModelOverHttp2() throws Exception {
        try (H2Client c = new H2Client(sluice.port(), 65535)) {
            H2Client.Stream qwen = c.post("/v1/chat/completions", RawHttp.chatBody("qwen-coder", true, 3));
            H2Client.Stream alias = c.post("/v1/chat/completions", RawHttp.chatBody("gpt-4o", false, 3));
            assertTrue(qwen.awaitEnd(10) && alias.awaitEnd(10));
            assertEquals(200, qwen.status);
            assertTrue(qwen.text().contains("\"model\":\"qwen-coder\"") && qwen.text().endsWith("data: [DONE]\n\n"), qwen.text());
            assertEquals(200, alias.status, alias.text());
            assertEquals("llama-3-8b", JSON.readTree(alias.text()).get("model").asText());
        }
    }

    @Test
    void aReloadChangesAliases() throws Exception {
        sluice.reload(YAML.replace("gpt-4o: default", "gpt-4o: qwen-coder"));
        try {
            RawHttp.Response r = chat("/v1/chat/completions", RawHttp.chatBody("gpt-4o", false, 3));
            assertEquals("qwen-coder", json(r).get("model").asText());
        } finally {
            sluice.reload(YAML);
        }
    }

    /** What came through Sluice's proxy (it adds Via), not its health checks or its metrics scraper. */
    static List<RecordingBackend.Request> proxied(RecordingBackend b) {
        return b.recorded().stream().filter(r -> r.header("via") != null).toList();
    }
}
