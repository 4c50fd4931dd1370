package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.sim.provider.ProviderSimulator;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code POST /api/chat} and {@code POST /v1/messages} end to end against in-process simulators of each
 * provider's wire format: streams normalised both ways, errors in one shape with the provider's status,
 * fallbacks across a model group, cancellation, usage.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProviderGatewayTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String[] PROVIDERS = {"openai", "anthropic", "gemini", "ollama"};

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .yaml("""
                    access-log: { output: "${DIR}/access.log" }
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        routes:
                          - { path: /api/chat, gateway: chat }
                          - { path: /v1/messages, gateway: messages }
                          - { path: /v1/, pool: vllm }
                          - { path: /api/gemini/, provider: gemini }
                          - { path: /api/ollama/, provider: ollama }
                          - { path: /api/, admin: true }
                    pools:
                      vllm:
                        models: [demo]
                        backends: [ { simulator: { ttft: 5ms, itl: 1ms } } ]
                    providers:
                      openai: { simulator: { ttft: 5ms, itl: 2ms } }
                      anthropic: { simulator: { ttft: 5ms, itl: 2ms } }
                      gemini: { simulator: { ttft: 5ms, itl: 2ms } }
                      ollama: { simulator: { ttft: 5ms, itl: 2ms } }
                      wrongkey: { format: anthropic, api-key: not-the-key, simulator: { api-key: the-key } }
                      dead: { format: openai, base-url: "http://127.0.0.1:9", key-required: false }
                      vllm: { pool: vllm }
                    model-groups:
                      resilient:
                        - { provider: dead, model: x }
                        - { provider: openai, model: rate-limited }
                        - { provider: anthropic, model: claude-sonnet-4-5 }
                    """)
            .build();

    static String reply(String provider) {
        return switch (provider) {
            case "openai" -> "Hello from the OpenAI simulator.";
            case "anthropic" -> "Hello from the Anthropic simulator.";
            case "gemini" -> "Hello from the Gemini simulator.";
            case "ollama" -> "Hello from the Ollama simulator.";
            default -> throw new IllegalArgumentException(provider);
        };
    }

    static ProviderSimulator sim(String provider) {
        List<String> names = List.of("openai", "anthropic", "gemini", "ollama", "wrongkey");
        return sluice.server().providerSimulators().get(names.indexOf(provider));
    }

    static String chat(String provider, String model, boolean stream, String extra) {
        return "{\"provider\":\"" + provider + "\",\"model\":\"" + model + "\",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"hi there\"}]"
                + (extra == null ? "" : "," + extra) + "}";
    }

    static RawHttp.Response post(String path, String body, String... headers) throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            return c.post(path, body, headers).exchange();
        }
    }

    /** The {@code data:} payloads of an SSE body, with the {@code event:} name when there is one ("" otherwise). */
    record Event(String name, String data) {
    }

    static List<Event> events(RawHttp.Response r) {
        List<Event> out = new ArrayList<>();
        for (String block : r.body().text().split("\n\n")) {
            String name = "";
            StringBuilder data = new StringBuilder();
            for (String line : block.split("\n")) {
                if (line.startsWith("event: ")) {
                    name = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data.append(line.substring(6));
                }
            }
            if (data.length() > 0) {
                out.add(new Event(name, data.toString()));
            }
        }
        return out;
    }

    /** Text, finish reason, tool call and usage reassembled from OpenAI chunks. */
    record Assembled(String text, String finish, String toolName, String toolArgs, JsonNode usage, boolean done, JsonNode error) {
    }

    static Assembled assemble(RawHttp.Response r) throws Exception {
        StringBuilder text = new StringBuilder();
        StringBuilder args = new StringBuilder();
        String finish = null;
        String tool = null;
        JsonNode usage = null;
        JsonNode error = null;
        boolean done = false;
        for (Event e : events(r)) {
            assertFalse(done, "nothing after [DONE]");
            if (e.data().equals("[DONE]")) {
                done = true;
                continue;
            }
            assertNull(error, "nothing after an error event");
            JsonNode chunk = JSON.readTree(e.data());
            if (chunk.has("error")) {
                error = chunk.get("error");
                continue;
            }
            assertEquals("chat.completion.chunk", chunk.path("object").asText(), e.data());
            if (chunk.hasNonNull("usage")) {
                usage = chunk.get("usage");
            }
            for (JsonNode choice : chunk.path("choices")) {
                JsonNode delta = choice.path("delta");
                if (delta.hasNonNull("content")) {
                    text.append(delta.get("content").asText());
                }
                for (JsonNode call : delta.path("tool_calls")) {
                    if (call.path("function").hasNonNull("name")) {
                        tool = call.path("function").path("name").asText();
                    }
                    args.append(call.path("function").path("arguments").asText(""));
                }
                if (choice.hasNonNull("finish_reason")) {
                    finish = choice.get("finish_reason").asText();
                }
            }
        }
        return new Assembled(text.toString(), finish, tool, args.toString(), usage, done, error);
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai", "anthropic", "gemini", "ollama"})
    void aStreamFromEachProviderBecomesOpenAiChunks(String provider) throws Exception {
        RawHttp.Response r = post("/api/chat", chat(provider, "m1", true, null));
        assertEquals(200, r.status(), r.body().text());
        assertTrue(r.header("content-type").startsWith("text/event-stream"));
        Assembled a = assemble(r);
        assertEquals(reply(provider), a.text());
        assertEquals("stop", a.finish());
        assertTrue(a.done(), "ends with [DONE]");
        assertNull(a.usage(), "the client did not ask for usage");
        assertTrue(events(r).size() >= 5, "one event per piece: " + events(r).size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai", "anthropic", "gemini", "ollama"})
    void usageWhenTheClientAsksForIt(String provider) throws Exception {
        RawHttp.Response r = post("/api/chat", chat(provider, "m1", true, "\"stream_options\":{\"include_usage\":true}"));
        Assembled a = assemble(r);
        assertNotNull(a.usage(), r.body().text());
        assertEquals(5, a.usage().path("completion_tokens").asInt(), a.usage().toString());
        assertTrue(a.usage().path("prompt_tokens").asInt() > 0);
    }

    @Test
    void sluiceAsksOpenAiForUsageAndStripsIt() throws Exception {
        RawHttp.Response r = post("/api/chat", chat("openai", "m1", true, null));
        assertNull(assemble(r).usage());
        JsonNode sent = JSON.readTree(sim("openai").lastRequest().body());
        assertTrue(sent.path("stream_options").path("include_usage").asBoolean(), sent.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai", "anthropic", "gemini", "ollama"})
    void aWholeAnswerFromEachProvider(String provider) throws Exception {
        RawHttp.Response r = post("/api/chat", chat(provider, "m1", false, "\"temperature\":0.2,\"max_tokens\":64"));
        assertEquals(200, r.status(), r.body().text());
        JsonNode c = JSON.readTree(r.body().text());
        assertEquals("chat.completion", c.path("object").asText());
        assertEquals(reply(provider), c.path("choices").path(0).path("message").path("content").asText());
        assertEquals("stop", c.path("choices").path(0).path("finish_reason").asText());
        assertEquals(5, c.path("usage").path("completion_tokens").asInt());
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai", "anthropic", "gemini", "ollama"})
    void toolCallsAndTheirArgumentDeltas(String provider) throws Exception {
        String tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather\","
                + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}]";
        Assembled a = assemble(post("/api/chat", chat(provider, "tool-call", true, tools)));
        assertEquals("get_weather", a.toolName());
        assertEquals(JSON.readTree("{\"city\":\"Paris\",\"unit\":\"celsius\"}"), JSON.readTree(a.toolArgs()));
        assertEquals("tool_calls", a.finish());
        JsonNode whole = JSON.readTree(post("/api/chat", chat(provider, "tool-call", false, tools)).body().text());
        JsonNode call = whole.path("choices").path(0).path("message").path("tool_calls").path(0);
        assertEquals("get_weather", call.path("function").path("name").asText(), whole.toString());
        assertEquals("tool_calls", whole.path("choices").path(0).path("finish_reason").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai", "anthropic", "gemini", "ollama"})
    void multibyteTextSplitInsideCharactersArrivesWhole(String provider) throws Exception {
        assertEquals("Grüße, 世界! 👋🏽 ok", assemble(post("/api/chat", chat(provider, "multibyte", true, null))).text());
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai", "anthropic", "gemini", "ollama"})
    void aProviderThatFailsMidStreamEndsWithAnErrorEventAndNoDone(String provider) throws Exception {
        for (String model : List.of("fail-mid-stream", "error-mid-stream")) {
            RawHttp.Response r = post("/api/chat", chat(provider, model, true, null));
            Assembled a = assemble(r);
            assertFalse(a.done(), model + ": " + r.body().text());
            assertNotNull(a.error(), model + ": " + r.body().text());
            assertEquals(provider, a.error().path("provider").asText());
            assertFalse(a.text().isEmpty(), "what came before the failure is kept");
        }
    }

    @Test
    void providerErrorsKeepTheirStatusInOneShape() throws Exception {
        RawHttp.Response limited = post("/api/chat", chat("openai", "rate-limited", false, null));
        assertEquals(429, limited.status());
        assertEquals("7", limited.header("retry-after"));
        JsonNode e = JSON.readTree(limited.body().text()).path("error");
        assertEquals("openai", e.path("provider").asText());
        assertFalse(e.path("message").asText().isEmpty());
        assertTrue(e.has("code"));

        RawHttp.Response overloaded = post("/api/chat", chat("anthropic", "server-error", true, null));
        assertEquals(529, overloaded.status());
        assertEquals("anthropic", JSON.readTree(overloaded.body().text()).path("error").path("provider").asText());

        RawHttp.Response gemini = post("/api/chat", chat("gemini", "server-error", false, null));
        assertEquals(500, gemini.status());

        RawHttp.Response denied = post("/api/chat", chat("wrongkey", "m", false, null));
        assertEquals(401, denied.status(), denied.body().text());
        JsonNode d = JSON.readTree(denied.body().text()).path("error");
        assertEquals("wrongkey", d.path("provider").asText());
        assertFalse(denied.body().text().contains("not-the-key"), "the key is not echoed");
    }

    @Test
    void badRequestsAre400() throws Exception {
        RawHttp.Response unknown = post("/api/chat", chat("nope", "m", false, null));
        assertEquals(400, unknown.status());
        assertEquals("unknown_provider", unknown.header("x-sluice-error"));
        RawHttp.Response notJson = post("/api/chat", "{nope");
        assertEquals(400, notJson.status());
        RawHttp.Response untranslatable = post("/api/chat", chat("anthropic", "m", false, "\"n\":2"));
        assertEquals(400, untranslatable.status(), untranslatable.body().text());
        assertTrue(untranslatable.body().text().contains("\"param\":\"n\""), untranslatable.body().text());
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response get = c.get("/api/chat").exchange();
            assertEquals(405, get.status());
            assertEquals("POST", get.header("allow"));
        }
    }

    @Test
    void browsersOfOtherOriginsCannotSpendTheKeys() throws Exception {
        long before = sim("openai").requests();
        RawHttp.Response cross = post("/api/chat", chat("openai", "m", false, null), "Origin: https://evil.example");
        assertEquals(403, cross.status());
        assertEquals("origin_not_allowed", cross.header("x-sluice-error"));
        // DNS rebinding: evil.example now resolves to 127.0.0.1, so Origin and Host agree.
        try (RawHttp c = new RawHttp(sluice.port())) {
            java.io.OutputStream out = c.socket.getOutputStream();
            byte[] body = chat("openai", "m", false, null).getBytes(StandardCharsets.UTF_8);
            out.write(("POST /api/chat HTTP/1.1\r\nHost: evil.example:" + sluice.port() + "\r\nOrigin: http://evil.example:"
                    + sluice.port() + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            assertEquals(403, c.exchange().status());
        }
        // A "simple" cross-origin POST (no preflight) cannot be JSON.
        try (RawHttp c = new RawHttp(sluice.port())) {
            java.io.OutputStream out = c.socket.getOutputStream();
            byte[] body = chat("openai", "m", false, null).getBytes(StandardCharsets.UTF_8);
            out.write(("POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            assertEquals(415, c.exchange().status());
        }
        assertEquals(before, sim("openai").requests(), "the provider was never called");
        RawHttp.Response same = post("/api/chat", chat("openai", "m", false, null), "Origin: http://localhost");
        assertEquals(200, same.status(), "same-origin on localhost: " + same.body().text());
    }

    @Test
    void aModelGroupFallsBackBeforeTheFirstByte() throws Exception {
        long before = sim("anthropic").requests();
        RawHttp.Response r = post("/api/chat", "{\"model\":\"resilient\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(200, r.status(), r.body().text());
        assertEquals("anthropic", r.header("x-sluice-provider"), "dead refused the connection, openai answered 429");
        assertEquals(reply("anthropic"), assemble(r).text());
        assertEquals(before + 1, sim("anthropic").requests());
    }

    @Test
    void concurrentStreamsOverHttp2() throws Exception {
        try (H2Client c = new H2Client(sluice.port(), 65535)) {
            H2Client.Stream anthropic = c.post("/api/chat", chat("anthropic", "m1", true, null));
            H2Client.Stream gemini = c.post("/api/chat", chat("gemini", "m1", false, null));
            H2Client.Stream messages = c.post("/v1/messages", messages("ollama/m1", true));
            assertTrue(anthropic.awaitEnd(10) && gemini.awaitEnd(10) && messages.awaitEnd(10));
            assertEquals(200, anthropic.status);
            assertTrue(anthropic.text().contains("\"content\":\" Anthropic\"") && anthropic.text().endsWith("data: [DONE]\n\n"),
                    anthropic.text());
            assertEquals(200, gemini.status, gemini.text());
            assertEquals(reply("gemini"), JSON.readTree(gemini.text()).path("choices").path(0).path("message").path("content").asText());
            assertTrue(messages.text().startsWith("event: message_start") && messages.text().contains("event: message_stop"),
                    messages.text());
        }
    }

    @Test
    void theVllmPoolIsAProviderToo() throws Exception {
        RawHttp.Response r = post("/api/chat", chat("vllm", "demo", true, "\"max_tokens\":4"));
        Assembled a = assemble(r);
        assertEquals("Lorem ipsum dolor sit", a.text());
        assertEquals("length", a.finish());
        assertTrue(a.done());
    }

    @Test
    void aClientThatLeavesCancelsTheProviderRequest() throws Exception {
        ProviderSimulator anthropic = sim("anthropic");
        long cancelled = anthropic.cancelled();
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.post("/api/chat", chat("anthropic", "slow", true, null));
            InputStream in = c.socket.getInputStream();
            byte[] buf = new byte[4096];
            String seen = "";
            while (!seen.contains("data: ")) {
                int n = in.read(buf);
                assertTrue(n > 0);
                seen += new String(buf, 0, n, StandardCharsets.UTF_8);
            }
        }
        assertTrue(anthropic.await(s -> s.cancelled() > cancelled, Duration.ofSeconds(10)), "the provider saw the cancel");
    }

    @Test
    void aReloadKeepsTheSimulatedProvidersAndAppliesNewGroups() throws Exception {
        String yaml = java.nio.file.Files.readString(sluice.file("sluice.yaml"));
        sluice.reload(yaml.replace("  resilient:", "  quick:\n    - { provider: gemini, model: g }\n  resilient:"));
        try {
            RawHttp.Response r = post("/api/chat", "{\"model\":\"quick\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertEquals(200, r.status(), r.body().text());
            assertEquals("gemini", r.header("x-sluice-provider"));
            assertEquals(200, post("/api/chat", chat("anthropic", "m1", false, null)).status(), "the simulator kept its port");
        } finally {
            sluice.reload(yaml);
        }
    }

    @Test
    void passThroughStreamsTheProvidersOwnFormat() throws Exception {
        RawHttp.Response g = post("/api/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]}");
        assertEquals(200, g.status(), g.body().text());
        assertTrue(g.body().text().contains("\"candidates\""), g.body().text());
        assertEquals(sim("gemini").options().apiKey(), sim("gemini").lastRequest().headers().get("x-goog-api-key").get(0));
        RawHttp.Response o = post("/api/ollama/api/chat", "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(200, o.status(), o.body().text());
        String[] lines = o.body().text().strip().split("\n");
        assertTrue(lines.length > 3, o.body().text());
        assertTrue(JSON.readTree(lines[lines.length - 1]).path("done").asBoolean(), "Ollama's NDJSON, as is");
    }

    // ---- Anthropic's Messages API on the client side

    static String messages(String model, boolean stream) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":64,\"stream\":" + stream
                + ",\"system\":\"Be brief.\",\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}]}";
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai", "anthropic", "gemini", "ollama"})
    void messagesStreamFromAnyProvider(String provider) throws Exception {
        RawHttp.Response r = post("/v1/messages", messages(provider + "/m1", true), "anthropic-version: 2023-06-01");
        assertEquals(200, r.status(), r.body().text());
        List<Event> events = events(r);
        assertEquals("message_start", events.get(0).name());
        assertEquals("message_stop", events.get(events.size() - 1).name());
        StringBuilder text = new StringBuilder();
        String stop = null;
        for (Event e : events) {
            JsonNode d = JSON.readTree(e.data());
            assertEquals(e.name(), d.path("type").asText());
            if (e.name().equals("content_block_delta")) {
                text.append(d.path("delta").path("text").asText());
            }
            if (e.name().equals("message_delta")) {
                stop = d.path("delta").path("stop_reason").asText();
                assertEquals(5, d.path("usage").path("output_tokens").asInt());
            }
        }
        assertEquals(reply(provider), text.toString());
        assertEquals("end_turn", stop);
    }

    @Test
    void messagesWholeFromTheVllmPool() throws Exception {
        RawHttp.Response r = post("/v1/messages", messages("demo", false));
        assertEquals(200, r.status(), r.body().text());
        JsonNode m = JSON.readTree(r.body().text());
        assertEquals("message", m.path("type").asText());
        assertEquals("text", m.path("content").path(0).path("type").asText());
        assertFalse(m.path("content").path(0).path("text").asText().isEmpty());
        assertEquals("vllm", r.header("x-sluice-provider"));
    }

    @Test
    void messagesErrorsInAnthropicsShape() throws Exception {
        RawHttp.Response r = post("/v1/messages", messages("openai/rate-limited", false));
        assertEquals(429, r.status());
        JsonNode e = JSON.readTree(r.body().text());
        assertEquals("error", e.path("type").asText());
        assertEquals("rate_limit_error", e.path("error").path("type").asText());
        RawHttp.Response unknown = post("/v1/messages", messages("no-such-model", false));
        assertEquals(404, unknown.status());
        assertEquals("not_found_error", JSON.readTree(unknown.body().text()).path("error").path("type").asText());
    }

    @Test
    @Order(Integer.MAX_VALUE) // closes the gateway to flush its log
    void usageGoesToTheAccessLog() throws Exception {
        post("/api/chat", chat("gemini", "m1", true, null));
        sluice.close();
        List<String> lines = java.nio.file.Files.readAllLines(sluice.file("access.log"));
        JsonNode last = null;
        for (String l : lines) {
            JsonNode j = JSON.readTree(l);
            if ("gemini".equals(j.path("provider").asText())) {
                last = j;
            }
        }
        assertNotNull(last, lines.toString());
        assertEquals(5, last.path("completion_tokens").asInt());
        assertTrue(last.path("prompt_tokens").asInt() > 0);
        assertEquals("/api/chat", last.path("path").asText());
    }
}
