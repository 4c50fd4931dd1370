package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.sim.SimulatorOptions;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /api/health}'s {@code providers} against stub providers over real sockets: a good key, a wrong
 * one (401, reachable, the provider's message without the key), Anthropic's and Gemini's headers, Ollama,
 * a closed port, one that never answers (timeout), one without a key (never called), and one on a pool of
 * the file (its pool's health). No key appears in any admin answer or in the log.
 */
class ProviderHealthTest {
    static final String GOOD_KEY = "sk-test-GOODKEY-0123456789abcdef";
    static final String WRONG_KEY = "sk-test-WRONGKEY-abcdef0123456789";
    static final String ANT_KEY = "sk-ant-test-ANTKEY-0123456789";
    static final String GEM_KEY = "AIzaTestGEMKEY0123456789";
    static final String UNUSED_KEY_FRAGMENT = "GOODKEY";
    static final List<String> KEYS = List.of(GOOD_KEY, WRONG_KEY, ANT_KEY, GEM_KEY, UNUSED_KEY_FRAGMENT, "WRONGKEY",
            "ANTKEY", "GEMKEY");

    /** The log, teed from before Sluice starts (slf4j-simple writes to whatever System.err is). */
    static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();
    static final PrintStream ORIGINAL_ERR = System.err;

    static {
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (LOG) {
                    LOG.write(b, off, len);
                }
                ORIGINAL_ERR.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8));
    }

    /** Accepts connections (the kernel does, from its backlog) and never answers. */
    static final class Silent implements AutoCloseable {
        final ServerSocket socket;

        Silent() throws Exception {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        }

        @Override
        public void close() throws Exception {
            socket.close();
        }
    }

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("OPENAI", () -> ProviderStub.start(ProviderStub.Kind.OPENAI, GOOD_KEY), ProviderStub::port)
            .backend("ANTHROPIC", () -> ProviderStub.start(ProviderStub.Kind.ANTHROPIC, ANT_KEY), ProviderStub::port)
            .backend("GEMINI", () -> ProviderStub.start(ProviderStub.Kind.GEMINI, GEM_KEY), ProviderStub::port)
            .backend("OLLAMA", () -> ProviderStub.start(ProviderStub.Kind.OLLAMA, ""), ProviderStub::port)
            .backend("UNCALLED", () -> ProviderStub.start(ProviderStub.Kind.OPENAI, GOOD_KEY), ProviderStub::port)
            .backend("SILENT", Silent::new, s -> s.socket.getLocalPort())
            .env("DEAD", String.valueOf(FreePorts.refusing()))
            .simulators(SimulatorOptions.builder().model("local-model").build())
            .yaml("""
                    server: { provider-check-interval: 200ms, provider-check-timeout: 400ms }
                    listeners:
                      - port: 0
                        host: 127.0.0.1
                        routes: [ { path: /api/, admin: true } ]
                    pools:
                      vllm:
                        health: { interval: 100ms, timeout: 90ms }
                        backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
                    admin: { scrape-interval: 0 }
                    providers:
                      openai: { base-url: "http://127.0.0.1:${OPENAI}/v1", api-key: "%s" }
                      groq: { base-url: "http://127.0.0.1:${OPENAI}/v1", api-key: "%s" }
                      anthropic: { base-url: "http://127.0.0.1:${ANTHROPIC}", api-key: "%s" }
                      gemini: { base-url: "http://127.0.0.1:${GEMINI}", api-key: "%s" }
                      ollama: { base-url: "http://127.0.0.1:${OLLAMA}" }
                      huggingface: { base-url: "http://127.0.0.1:${UNCALLED}/v1" }
                      dead: { format: openai, base-url: "http://127.0.0.1:${DEAD}/v1" }
                      silent: { format: openai, base-url: "http://127.0.0.1:${SILENT}/v1" }
                      vllm: { pool: vllm }
                    """.formatted(GOOD_KEY, WRONG_KEY, ANT_KEY, GEM_KEY))
            .build();

    @AfterAll
    static void restoreStderr() {
        System.setErr(ORIGINAL_ERR);
    }

    static JsonNode get(String path) {
        try {
            RawHttp.Response r = AdminBackendsTest.call(sluice.port(), "GET", path, null);
            return AdminBackendsTest.json(r);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static JsonNode providers() {
        return get("/api/health").get("providers");
    }

    static void awaitChecked(String... names) throws InterruptedException {
        Await.until("providers checked: " + List.of(names), Duration.ofSeconds(20), () -> {
            JsonNode p = providers();
            for (String n : names) {
                if (p.get(n) == null || p.get(n).get("checked_at").isNull()) {
                    return false;
                }
            }
            return true;
        });
    }

    @Test
    void eachProviderIsCheckedTheWayItsApiExpects() throws Exception {
        awaitChecked("openai", "groq", "anthropic", "gemini", "ollama", "dead", "silent", "vllm");
        JsonNode p = providers();

        JsonNode openai = p.get("openai");
        assertEquals("openai", openai.get("format").asText());
        assertTrue(openai.get("configured").asBoolean());
        assertTrue(openai.get("reachable").asBoolean(), openai.toString());
        assertEquals(200, openai.get("status").asInt());
        assertTrue(openai.get("last_error").isNull());
        ProviderStub stub = sluice.backend("OPENAI");
        assertTrue(stub.paths.contains("/v1/models"), stub.paths.toString());

        JsonNode groq = p.get("groq");
        assertTrue(groq.get("reachable").asBoolean(), "a 401 is an answer: " + groq);
        assertEquals(401, groq.get("status").asInt());
        String err = groq.get("last_error").asText();
        assertTrue(err.startsWith("HTTP 401: Incorrect API key provided: "), err);
        assertFalse(err.contains("WRONGKEY"), err);

        assertEquals(200, p.get("anthropic").get("status").asInt(), p.get("anthropic").toString());
        ProviderStub ant = sluice.backend("ANTHROPIC");
        assertEquals("2023-06-01", ant.lastHeaders.get("anthropic-version"));
        assertEquals(200, p.get("gemini").get("status").asInt(), p.get("gemini").toString());
        assertEquals("anthropic", p.get("anthropic").get("format").asText());
        assertEquals("gemini", p.get("gemini").get("format").asText());

        JsonNode ollama = p.get("ollama");
        assertEquals("ollama", ollama.get("format").asText());
        assertEquals(200, ollama.get("status").asInt());
        assertTrue(((ProviderStub) sluice.backend("OLLAMA")).paths.contains("/api/version"));

        JsonNode dead = p.get("dead");
        assertFalse(dead.get("reachable").asBoolean());
        assertTrue(dead.get("status").isNull());
        assertTrue(dead.get("last_error").asText().startsWith("connect: "), dead.toString());

        JsonNode silent = p.get("silent");
        assertFalse(silent.get("reachable").asBoolean());
        assertEquals("timeout after 400ms", silent.get("last_error").asText());

        JsonNode vllm = p.get("vllm");
        assertEquals("vllm", vllm.get("pool").asText());
        assertTrue(vllm.get("reachable").asBoolean(), vllm.toString());
        assertEquals(1, vllm.get("backends_up").asInt());
        assertEquals(1, vllm.get("backends_total").asInt());

        // Without its key a cloud provider is not configured, and never called.
        JsonNode hf = p.get("huggingface");
        assertFalse(hf.get("configured").asBoolean());
        assertTrue(hf.get("reachable").isNull());
        assertTrue(((ProviderStub) sluice.backend("UNCALLED")).paths.isEmpty());

        // An unreachable provider does not make Sluice itself unhealthy.
        assertEquals(200, AdminBackendsTest.call(sluice.port(), "GET", "/api/health", null).status());
    }

    @Test
    void checksRepeat() throws Exception {
        awaitChecked("openai");
        ProviderStub stub = sluice.backend("OPENAI");
        int before = stub.paths.size();
        Await.until("a later check", Duration.ofSeconds(20), () -> stub.paths.size() > before);
    }

    @Test
    void gpuStatusShowsOllamasModels() throws Exception {
        JsonNode o = get("/api/gpu/status").get("ollama");
        assertEquals("ollama", o.get("provider").asText());
        assertTrue(o.get("running").asBoolean(), o.toString());
        assertEquals(List.of("llama3.2:latest", "qwen2.5:0.5b"), names(o.get("models")));
        assertEquals("qwen2.5:0.5b", o.get("loadedModel").asText());
        assertEquals(List.of("qwen2.5:0.5b"), names(o.get("loaded")));
        assertTrue(o.get("process") == null, "not started by Sluice: " + o);
    }

    @Test
    void noKeyInAnyAdminAnswerOrTheLog() throws Exception {
        awaitChecked("openai", "groq", "anthropic", "gemini");
        for (String path : List.of("/api/health", "/api/v1/status", "/api/gpu/status", "/api/v1/backends",
                "/api/v1/inference", "/api/v1/metrics", "/api/v1/stats")) {
            String body = AdminBackendsTest.call(sluice.port(), "GET", path, null).body().text();
            for (String k : KEYS) {
                assertFalse(body.contains(k), path + " shows " + k + ": " + body);
            }
        }
        String log;
        synchronized (LOG) {
            log = LOG.toString(StandardCharsets.UTF_8);
        }
        assertTrue(log.contains("provider groq: HTTP 401"), "the failure is logged");
        for (String k : KEYS) {
            assertFalse(log.contains(k), "the log shows " + k);
        }
    }

    private static List<String> names(JsonNode array) {
        List<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
