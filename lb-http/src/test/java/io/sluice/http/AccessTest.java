package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.core.auth.ApiKeys;
import io.sluice.sim.SimulatorOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** API keys, request and token rate limits (biting mid-stream), and CORS. */
class AccessTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path KEYS = keysFile();

    static Path keysFile() {
        try {
            Path f = Files.createTempFile("sluice-keys", ".txt");
            f.toFile().deleteOnExit();
            Files.writeString(f, "# name key\nalice sk-alice-123\nbob sha256:" + ApiKeys.sha256("sk-bob-456") + "\n");
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - name: keys
                port: 0
                host: 127.0.0.1
                auth: { keys-file: "%1$s" }
                routes:
                  - { path: /v1/, pool: vllm }
                  - { path: /v1/models, pool: vllm, public: true }
              - name: requests
                port: 0
                host: 127.0.0.1
                auth: { keys-file: "%1$s" }
                rate-limits: { per-key: { requests-per-minute: 3 } }
                routes: [ { path: /v1/, pool: vllm } ]
              - name: tokens
                port: 0
                host: 127.0.0.1
                auth: { keys-file: "%1$s" }
                rate-limits: { per-key: { tokens-per-minute: 40 } }
                routes: [ { path: /v1/, pool: vllm } ]
              - name: perip
                port: 0
                host: 127.0.0.1
                rate-limits: { per-ip: { requests-per-minute: 2 } }
                routes: [ { path: /v1/, pool: vllm } ]
              - name: cors
                port: 0
                host: 127.0.0.1
                cors: { origins: [ "https://app.example" ], credentials: true }
                routes: [ { path: /v1/, pool: vllm } ]
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            """.formatted(KEYS.toString().replace("\\\\", "/")),
            SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(20)).maxTokens(500).build());

    static RawHttp.Response chat(String listener, String... headers) throws IOException {
        try (RawHttp c = new RawHttp(sluice.server().port(listener))) {
            return c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2), headers).exchange();
        }
    }

    @Test
    void keysAreRequiredAndCheckedAgainstTheirHashes() throws Exception {
        RawHttp.Response none = chat("keys");
        assertEquals(401, none.status());
        assertEquals("invalid_api_key", none.header("x-sluice-error"));
        JsonNode err = JSON.readTree(none.body().text()).get("error");
        assertEquals("authentication_error", err.get("type").asText());

        assertEquals(401, chat("keys", "Authorization: Bearer sk-wrong").status());
        assertEquals(200, chat("keys", "Authorization: Bearer sk-alice-123").status());
        assertEquals(200, chat("keys", "Authorization: Bearer sk-bob-456").status(), "a key stored as sha256: works");
        assertEquals(200, chat("keys", "x-api-key: sk-alice-123").status());
        try (RawHttp c = new RawHttp(sluice.server().port("keys"))) {
            assertEquals(200, c.get("/v1/models").exchange().status(), "a public route needs no key");
        }
    }

    @Test
    void requestsPerMinuteGive429WithRetryAfterAndRateLimitHeaders() throws Exception {
        for (int i = 0; i < 3; i++) {
            RawHttp.Response r = chat("requests", "Authorization: Bearer sk-bob-456");
            assertEquals(200, r.status());
            assertEquals("3", r.header("x-ratelimit-limit-requests"));
            assertEquals(String.valueOf(2 - i), r.header("x-ratelimit-remaining-requests"));
        }
        RawHttp.Response limited = chat("requests", "Authorization: Bearer sk-bob-456");
        assertEquals(429, limited.status());
        assertEquals("rate_limit_exceeded", limited.header("x-sluice-error"));
        assertTrue(Integer.parseInt(limited.header("retry-after")) >= 1);
        assertEquals("0", limited.header("x-ratelimit-remaining-requests"));
        assertEquals("rate_limit_error", JSON.readTree(limited.body().text()).get("error").get("type").asText());
        // another key has its own budget
        assertEquals(200, chat("requests", "Authorization: Bearer sk-alice-123").status());
    }

    @Test
    void aTokenLimitBitesInTheMiddleOfAStream() throws Exception {
        long abortedBefore = sluice.sim(0).aborted();
        try (RawHttp c = new RawHttp(sluice.server().port("tokens"))) {
            c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 400), "Authorization: Bearer sk-alice-123");
            RawHttp.Head head = c.readHead();
            assertEquals(200, head.status());
            RawHttp.Body body = c.readBody(head);
            assertFalse(body.complete(), "the stream must end abnormally");
            List<String> events = body.events();
            assertTrue(events.size() < 100, "the stream ran on to " + events.size() + " events");
            System.out.println("token limit 40/min: the stream was cut after " + events.size() + " events");
            String last = events.get(events.size() - 1);
            assertTrue(last.contains("rate_limit_error"), last);
        }
        assertTrue(sluice.sim(0).awaitAborted(abortedBefore + 1, Duration.ofSeconds(5)), "the generation was not aborted");
        RawHttp.Response next = chat("tokens", "Authorization: Bearer sk-alice-123");
        assertEquals(429, next.status(), "the key is out of tokens for now");
        assertNotNull(next.header("x-ratelimit-reset-tokens"));
    }

    @Test
    void perClientAddressLimits() throws Exception {
        assertEquals(200, chat("perip").status());
        assertEquals(200, chat("perip").status());
        assertEquals(429, chat("perip").status());
    }

    @Test
    void corsPreflightAndResponsesFollowTheAllowlist() throws Exception {
        int port = sluice.server().port("cors");
        try (RawHttp c = new RawHttp(port)) {
            RawHttp.Response pre = c.sendRaw("OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
                    + "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type\r\n\r\n").exchange();
            assertEquals(204, pre.status());
            assertEquals("https://app.example", pre.header("access-control-allow-origin"));
            assertTrue(pre.header("access-control-allow-methods").contains("POST"));
            assertTrue(pre.header("access-control-allow-headers").contains("authorization"));
            assertEquals("true", pre.header("access-control-allow-credentials"));
            assertEquals("600", pre.header("access-control-max-age"));

            RawHttp.Response evil = c.sendRaw("OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n"
                    + "Access-Control-Request-Method: POST\r\n\r\n").exchange();
            assertEquals(403, evil.status());
            assertNull(evil.header("access-control-allow-origin"));
        }
        RawHttp.Response ok = chat("cors", "Origin: https://app.example");
        assertEquals(200, ok.status());
        assertEquals("https://app.example", ok.header("access-control-allow-origin"));
        assertTrue(ok.header("access-control-expose-headers").contains("x-request-id"));
        RawHttp.Response other = chat("cors", "Origin: https://evil.example");
        assertEquals(200, other.status());
        assertNull(other.header("access-control-allow-origin"), "no CORS grant for an origin not on the list");
    }
}
