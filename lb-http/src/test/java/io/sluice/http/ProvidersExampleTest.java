package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import io.sluice.sim.provider.ProviderSimOptions;
import io.sluice.sim.provider.ProviderSimulator;
import io.sluice.sim.provider.ProviderSimulator.Format;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code config/examples/providers.yaml} takes every provider from the SDKs' environment variables
 * (here pointed at simulators of each wire format), and {@code providers-demo.yaml} runs offline as is.
 */
class ProvidersExampleTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static ProviderSimulator provider(Format f, String key) throws Exception {
        return ProviderSimulator.start(ProviderSimOptions.builder(f).apiKey(key).ttft(Duration.ofMillis(5))
                .itl(Duration.ofMillis(2)).build());
    }

    static String chat(int port, String provider, String model, boolean stream) throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            RawHttp.Response r = c.post("/api/chat", "{\"provider\":\"" + provider + "\",\"model\":\"" + model + "\",\"stream\":" + stream
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").exchange();
            return r.status() + " " + r.body().text();
        }
    }

    @Nested
    class FromTheEnvironment {
        @RegisterExtension
        final SluiceExtension sluice = SluiceExtension.builder()
                .configFile(Path.of("../config/examples/providers.yaml"))
                .backend("OPENAI_BASE_URL", () -> provider(Format.OPENAI, "sk-env-openai"), ProviderSimulator::baseUrl)
                .backend("ANTHROPIC_BASE_URL", () -> provider(Format.ANTHROPIC, "sk-env-anthropic"), ProviderSimulator::baseUrl)
                .backend("GEMINI_BASE_URL", () -> provider(Format.GEMINI, "env-gemini"), ProviderSimulator::baseUrl)
                .backend("LOCAL_MODEL_ENDPOINT", () -> provider(Format.OLLAMA, "none"), ProviderSimulator::baseUrl)
                .backend("VLLM_URL", () -> VllmSimulator.start(SimulatorOptions.builder().model("demo").ttft(Duration.ofMillis(5))
                        .itl(Duration.ofMillis(1)).build()), s -> "http://127.0.0.1:" + s.port())
                .env("SLUICE_PORT", "0")
                .env("OPENAI_API_KEY", "sk-env-openai")
                .env("ANTHROPIC_API_KEY", "sk-env-anthropic")
                .env("GEMINI_API_KEY", "env-gemini")
                .env("GROQ_API_KEY", "")
                .env("HUGGINGFACE_API_KEY", "")
                .env("GROQ_BASE_URL", "http://127.0.0.1:9/openai/v1")
                .env("HUGGINGFACE_BASE_URL", "http://127.0.0.1:9/v1")
                .env("LM_STUDIO_ENDPOINT", "http://127.0.0.1:9")
                .build();

        @ParameterizedTest
        @ValueSource(strings = {"openai", "anthropic", "gemini", "ollama", "local"})
        void eachConfiguredProviderAnswers(String provider) throws Exception {
            String r = chat(sluice.port(), provider, "m1", true);
            assertTrue(r.startsWith("200 ") && r.contains("simulator") && r.endsWith("data: [DONE]\n\n"), r);
        }

        @Test
        void aProviderWithoutItsKeyIsNotConfigured() throws Exception {
            String r = chat(sluice.port(), "groq", "llama", false);
            assertTrue(r.startsWith("503 ") && r.contains("provider_not_configured"), r);
        }

        @Test
        void theGroupStartsWithVllm() throws Exception {
            try (RawHttp c = new RawHttp(sluice.port())) {
                RawHttp.Response r = c.post("/api/chat", "{\"model\":\"fast\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                        .exchange();
                assertEquals(200, r.status(), r.body().text());
                assertEquals("vllm", r.header("x-sluice-provider"));
            }
        }

        @Test
        void passThroughAndOllamasModels() throws Exception {
            try (RawHttp c = new RawHttp(sluice.port())) {
                RawHttp.Response r = c.post("/api/anthropic/v1/messages",
                        "{\"model\":\"claude\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").exchange();
                assertEquals(200, r.status(), r.body().text());
                assertEquals("message", JSON.readTree(r.body().text()).path("type").asText());
            }
            try (RawHttp c = new RawHttp(sluice.port())) {
                JsonNode models = JSON.readTree(c.get("/api/ollama/models").exchange().body().text());
                assertTrue(models.path("models").size() > 0, models.toString());
            }
        }
    }

    @Nested
    class Demo {
        @RegisterExtension
        final SluiceExtension sluice = SluiceExtension.builder()
                .configFile(Path.of("../config/examples/providers-demo.yaml"))
                .env("SLUICE_PORT", "0")
                .build();

        @ParameterizedTest
        @ValueSource(strings = {"openai", "anthropic", "gemini", "groq", "huggingface", "ollama", "local", "vllm"})
        void everyProviderAnswersOffline(String provider) throws Exception {
            String r = chat(sluice.port(), provider, provider.equals("vllm") ? "demo" : "m1", false);
            assertTrue(r.startsWith("200 ") && r.contains("chat.completion"), r);
        }

        @Test
        void messagesFromGemini() throws Exception {
            try (RawHttp c = new RawHttp(sluice.port())) {
                RawHttp.Response r = c.post("/v1/messages", "{\"model\":\"gemini/gemini-2.5-flash\",\"max_tokens\":64,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").exchange();
                assertEquals(200, r.status(), r.body().text());
                assertEquals("Hello from the Gemini simulator.", JSON.readTree(r.body().text()).path("content").path(0).path("text").asText());
            }
        }
    }
}
