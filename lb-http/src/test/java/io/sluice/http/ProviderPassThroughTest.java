package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /api/<provider>/<rest>} forwarded to the provider's base URL with the server-side key injected
 * the provider's way, and the client's credentials never forwarded: seen from the provider's side.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProviderPassThroughTest {
    static final String OPENAI_KEY = "sk-server-openai-0123456789";
    static final String ANTHROPIC_KEY = "sk-ant-server-0123456789";
    static final String GEMINI_KEY = "AIza-server-0123456789";

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("REC", RecordingBackend::new, RecordingBackend::port)
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .yaml("""
                    access-log: { output: "${DIR}/access.log" }
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        routes:
                          - { path: /api/openai/, provider: openai }
                          - { path: /api/anthropic/, provider: anthropic }
                          - { path: /api/gemini/, provider: gemini }
                          - { path: /api/groq/, provider: groq }
                          - { path: /api/local/, provider: local }
                          - { path: /v1/messages, gateway: messages }
                          - { path: /api/, admin: true }
                    providers:
                      openai: { base-url: "http://127.0.0.1:${REC}/v1", api-key: "${OPENAI_API_KEY}" }
                      anthropic: { base-url: "http://127.0.0.1:${REC}", api-key: "%s" }
                      gemini: { base-url: "http://127.0.0.1:${REC}", api-key: "%s" }
                      groq: { base-url: "http://127.0.0.1:${REC}/openai/v1", api-key: "${GROQ_API_KEY:-}" }
                      local: { base-url: "http://127.0.0.1:${REC}" }
                      odd: { format: openai, base-url: "http://127.0.0.1:${REC}/v1", key-required: false }
                    """.formatted(ANTHROPIC_KEY, GEMINI_KEY))
            .build();

    private RecordingBackend backend() {
        return sluice.backend("REC");
    }

    @BeforeEach
    void clear() {
        backend().requests.clear();
    }

    private RecordingBackend.Request only() {
        List<RecordingBackend.Request> got = RewriteAndHeaderRulesTest.proxied(backend());
        assertEquals(1, got.size(), got.toString());
        return got.get(0);
    }

    @Test
    void openAiGetsItsBearerKeyAndNotTheClients() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.post("/api/openai/chat/completions?trace=1", RawHttp.chatBody("gpt-4o-mini", false, 4),
                    "Authorization: Bearer client-own-key", "x-api-key: client-x", "x-goog-api-key: client-g",
                    "Cookie: session=browser").exchange();
        }
        assertEquals(200, r.status());
        RecordingBackend.Request got = only();
        assertEquals("/v1/chat/completions?trace=1", got.target(), "the base URL's path replaces the route prefix");
        assertEquals("Bearer " + OPENAI_KEY, got.header("authorization"));
        assertNull(got.header("x-api-key"));
        assertNull(got.header("x-goog-api-key"));
        assertNull(got.header("cookie"));
        assertEquals("127.0.0.1:" + backend().port(), got.header("host"), "the provider's own Host");
        assertEquals(1, got.headers().get("authorization").size());
    }

    @Test
    void anthropicGetsXApiKeyAndADefaultVersion() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.post("/api/anthropic/v1/messages", "{}", "Authorization: Bearer client", "x-api-key: client-x").exchange();
        }
        RecordingBackend.Request got = only();
        assertEquals("/v1/messages", got.target());
        assertEquals(ANTHROPIC_KEY, got.header("x-api-key"));
        assertEquals(1, got.headers().get("x-api-key").size());
        assertNull(got.header("authorization"));
        assertEquals("2023-06-01", got.header("anthropic-version"));
        backend().requests.clear();
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.post("/api/anthropic/v1/messages", "{}", "anthropic-version: 2099-01-01").exchange();
        }
        assertEquals("2099-01-01", only().header("anthropic-version"), "the client's version is kept");
    }

    @Test
    void geminiGetsXGoogApiKeyAndAKeyInTheQueryIsDropped() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.post("/api/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key=client-key", "{}").exchange();
        }
        RecordingBackend.Request got = only();
        assertEquals("/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", got.target());
        assertEquals(GEMINI_KEY, got.header("x-goog-api-key"));
    }

    @Test
    void aLocalProviderWithoutAKeyGetsNoAuthorization() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.get("/api/local/api/tags", "Authorization: Bearer client").exchange();
        }
        RecordingBackend.Request got = only();
        assertEquals("/api/tags", got.target());
        assertNull(got.header("authorization"));
    }

    @Test
    void aProviderWithoutItsKeyIsNeverCalled() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.post("/api/groq/chat/completions", RawHttp.chatBody("llama", false, 4)).exchange();
        }
        assertEquals(503, r.status());
        assertEquals("provider_not_configured", r.header("x-sluice-error"));
        assertTrue(r.body().text().contains("groq"), r.body().text());
        assertTrue(RewriteAndHeaderRulesTest.proxied(backend()).isEmpty());
    }

    @Test
    void anAnswerThatCannotBeTranslatedIsA502NotAHang() throws Exception {
        String completion = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"m\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"f\",\"arguments\":\"{not json\"}}]},\"finish_reason\":\"tool_calls\"}],"
                + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";
        backend().respond = req -> ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + completion.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "\r\n\r\n" + completion)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.post("/v1/messages", "{\"model\":\"odd/m\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                    .exchange();
        } finally {
            backend().respond = RecordingBackend::echo;
        }
        assertEquals(502, r.status(), r.body().text());
        assertTrue(r.body().text().contains("\"type\":\"error\""), r.body().text());
        try (RawHttp c = new RawHttp(sluice.port())) {
            assertEquals(200, c.get("/api/local/api/tags").exchange().status(), "the gateway still serves");
        }
    }

    @Test
    @Order(Integer.MAX_VALUE) // closes the gateway to flush its log
    void keysAppearInNoAdminAnswerAndNotInTheAccessLog() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.post("/api/openai/chat/completions", RawHttp.chatBody("gpt-4o-mini", false, 4)).exchange();
        }
        for (String path : List.of("/api/health", "/api/status", "/api/pools", "/api/config", "/api/backends", "/api/gpu/status")) {
            try (RawHttp c = new RawHttp(sluice.port())) {
                String body = c.get(path).exchange().body().text();
                for (String key : List.of(OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY)) {
                    assertFalse(body.contains(key), path + " shows a key: " + body);
                }
            }
        }
        sluice.close(); // flushes the access log
        String log = Files.readString(sluice.file("access.log"));
        assertTrue(log.contains("\"provider\":\"openai\""), log);
        for (String key : List.of(OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY)) {
            assertFalse(log.contains(key), log);
        }
    }
}
