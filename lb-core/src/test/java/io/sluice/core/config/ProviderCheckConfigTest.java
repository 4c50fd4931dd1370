package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code server.provider-check-interval} / {@code -timeout} and a provider's {@code auto-start}. */
class ProviderCheckConfigTest {
    static final String LISTENER = "listeners: [ { port: 0, routes: [ { path: /api/, admin: true } ] } ]\n";

    private static SluiceConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "test.yaml", name -> null);
    }

    @Test
    void checkIntervalAndTimeout() throws Exception {
        assertEquals(Duration.ofSeconds(60), parse(LISTENER).server().providerCheckInterval());
        assertEquals(Duration.ofSeconds(10), parse(LISTENER).server().providerCheckTimeout());
        ServerConfig s = parse("server: { provider-check-interval: 0s, provider-check-timeout: 2s }\n" + LISTENER).server();
        assertEquals(Duration.ZERO, s.providerCheckInterval());
        assertEquals(Duration.ofSeconds(2), s.providerCheckTimeout());
        ConfigException e = assertThrows(ConfigException.class, () -> parse("server: { provider-check-timeout: 0s }\n" + LISTENER));
        assertTrue(e.getMessage().contains("server.provider-check-timeout"), e.getMessage());
    }

    @Test
    void autoStartOnlyForAnOllamaWithABaseUrl() throws Exception {
        SluiceConfig c = parse(LISTENER + """
                providers:
                  ollama: { base-url: "http://127.0.0.1:11434", auto-start: true }
                  local: { base-url: "http://127.0.0.1:11435" }
                """);
        assertEquals(ProviderConfig.OLLAMA_SERVE, c.providers().get("ollama").autoStart());
        assertEquals(List.of(), c.providers().get("local").autoStart());
        ConfigException e = assertThrows(ConfigException.class, () -> parse(LISTENER + """
                providers:
                  openai: { base-url: "https://api.openai.com/v1", auto-start: true }
                """));
        assertTrue(e.getMessage().contains("providers.openai.auto-start") && e.getMessage().contains("format: ollama"), e.getMessage());
        assertEquals(1, e.problems().size(), e.getMessage());
    }
}
