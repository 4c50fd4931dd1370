package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.config.ConfigException;
import io.sluice.core.config.ConfigLoader;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A saturated vLLM pool spilling to a cloud provider: the spilled request reaches the provider with the
 * provider's key, never with the client's credentials for Sluice, and at the provider's API root.
 */
class SpillToProviderTest {
    private static final String KEYS = AccessTest.KEYS.toString().replace("\\", "/");
    private static final String ALICE = "Authorization: Bearer sk-alice-123";

    static final String CLOUD_KEY = "sk-cloud-server-0123456789";

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("REC", RecordingBackend::new, RecordingBackend::port)
            .simulators(SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(20)).maxTokens(5000).build())
            .yaml("""
                    listeners:
                      - { port: 0, host: 127.0.0.1, auth: { keys-file: "%s" }, routes: [ { path: /v1/, pool: local } ] }
                    pools:
                      local:
                        max-in-flight-per-backend: 1
                        health: { enabled: false }
                        queue: { size: 4, timeout: 20s, spill-to: "@cloud", spill-after: 1ms }
                        backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
                    providers:
                      cloud: { format: openai, base-url: "http://127.0.0.1:${REC}/openai/v1", api-key: "%s" }
                    admin: { scrape-interval: 0 }
                    """.formatted(KEYS, CLOUD_KEY))
            .build();

    @Test
    void theSpilledRequestCarriesTheProvidersKeyNotTheClients() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) { // gives the pool a service-time estimate
            assertEquals(200, c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2), ALICE).exchange().status());
        }
        RecordingBackend cloud = sluice.backend("REC");
        try (RawHttp holder = new RawHttp(sluice.port())) {
            holder.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 5000), ALICE);
            assertEquals(200, holder.readHead().status());
            holder.readChunk();
            RawHttp.Response r;
            try (RawHttp c = new RawHttp(sluice.port())) {
                r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2), ALICE).exchange();
            }
            assertEquals(200, r.status(), r.body().text());
        }
        java.util.List<RecordingBackend.Request> seen = RewriteAndHeaderRulesTest.proxied(cloud);
        assertEquals(1, seen.size(), "one request spilled");
        assertEquals("/openai/v1/chat/completions", seen.get(0).target());
        String auth = seen.get(0).header("authorization");
        assertTrue(auth != null && !auth.contains("sk-alice-123"), "the client's key stayed at Sluice: " + auth);
        assertEquals("Bearer " + CLOUD_KEY, auth);
    }

    @Test
    void aProviderOfAnotherWireFormatIsNotASpillTarget() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                listeners: [ { port: 0, routes: [ { path: /v1/, pool: local } ] } ]
                pools:
                  local:
                    queue: { size: 4, spill-to: "@claude" }
                    backends: [ { url: "http://127.0.0.1:9" } ]
                providers:
                  claude: { format: anthropic, simulator: {} }
                """, "spill.yaml", k -> null));
        assertTrue(e.getMessage().contains("provider 'claude' speaks ANTHROPIC, not OpenAI's format"), e.getMessage());
    }
}
