package io.sluice.http.manage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.config.ConfigLoader;
import io.sluice.core.config.SluiceConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which processes providers ask for, with what environment. */
class ProviderProcessesTest {

    @Test
    void autoStartedOllamaGetsItsHostAndPort() throws Exception {
        SluiceConfig c = ConfigLoader.parse("""
                listeners: [ { port: 0, routes: [ { path: /api/, admin: true } ] } ]
                providers:
                  ollama: { base-url: "http://127.0.0.1:11434", auto-start: true }
                  local: { base-url: "http://localhost", auto-start: "${AUTO_START_OLLAMA:-false}" }
                  other: { format: ollama, base-url: "http://[::1]:9999", auto-start: true, auto-start-command: "/opt/ollama/bin/ollama serve" }
                """, "t.yaml", name -> null);
        Map<String, InferenceSupervisor.Service> wanted = ProviderProcesses.wanted(c.providers());
        assertEquals(List.of("provider-ollama", "provider-other"), List.copyOf(wanted.keySet()));
        assertEquals(new InferenceSupervisor.Service(List.of("ollama", "serve"), Map.of("OLLAMA_HOST", "127.0.0.1:11434")),
                wanted.get("provider-ollama"));
        assertEquals(new InferenceSupervisor.Service(List.of("/opt/ollama/bin/ollama", "serve"), Map.of("OLLAMA_HOST", "[::1]:9999")),
                wanted.get("provider-other"));
        assertEquals("localhost:80", ProviderProcesses.hostPort("http://localhost"));
        assertEquals("example.com:443", ProviderProcesses.hostPort("https://example.com/x"));
    }
}
