package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code config/examples/models.yaml} does what its comments say (on an ephemeral port instead of 8000). */
class ModelsExampleTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .configFile(Path.of("../config/examples/models.yaml"))
            .env("SLUICE_PORT", "0")
            .build();

    @Test
    void modelsAreListedWithTheirAlias() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.get("/v1/models").exchange();
        }
        assertEquals(200, r.status());
        List<String> ids = new ArrayList<>();
        JSON.readTree(r.body().text()).get("data").forEach(m -> ids.add(m.get("id").asText()));
        assertEquals(List.of("llama-3-8b", "qwen-coder", "default"), ids);
    }

    @Test
    void eachModelReachesItsPoolAndTheCodePoolsHeaderRuleApplies() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.post("/v1/chat/completions", RawHttp.chatBody("qwen-coder", false, 2)).exchange();
        }
        assertEquals(200, r.status());
        assertEquals("qwen-coder", JSON.readTree(r.body().text()).get("model").asText());
        assertEquals("no-store", r.header("cache-control"));
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.post("/v1/chat/completions", RawHttp.chatBody("default", false, 2)).exchange();
        }
        assertEquals("llama-3-8b", JSON.readTree(r.body().text()).get("model").asText());
    }

    @Test
    void theSeedsEndpointStreamsFromTheChatPoolWithTheForcedModel() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.post("/api/dce/proxy", RawHttp.chatBody("whatever", true, 3)).exchange();
        }
        assertEquals(200, r.status());
        List<String> events = r.body().events();
        assertEquals("[DONE]", events.get(events.size() - 1));
        JsonNode first = JSON.readTree(events.get(0));
        assertEquals("chat.completion.chunk", first.get("object").asText());
        assertEquals("llama-3-8b", first.get("model").asText());
    }

    @Test
    void anUnknownModelIsA404NamingTheModels() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.post("/v1/chat/completions", RawHttp.chatBody("gpt-4o", false, 2)).exchange();
        }
        assertEquals(404, r.status());
        assertEquals("model_not_found", r.header("x-sluice-error"));
        assertTrue(r.body().text().contains("llama-3-8b, qwen-coder"), r.body().text());
    }

    @Test
    void theSeedsEndpointTakesOnlyPost() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.get("/api/dce/proxy").exchange();
        }
        assertEquals(405, r.status());
        assertEquals("POST", r.header("allow"));
        assertEquals("method_not_allowed", r.header("x-sluice-error"));
    }
}
