package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.config.ConfigLoader;
import io.sluice.http.server.SluiceServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The providers checked follow a reload; close() leaves no check running. */
class ProviderHealthReloadTest {
    static final String YAML = """
            server: { provider-check-interval: 100ms }
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /api/, admin: true } ]
            admin: { scrape-interval: 0 }
            providers:
              %s: { format: ollama, base-url: "http://127.0.0.1:${OLLAMA}" }
            """;

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("OLLAMA", () -> ProviderStub.start(ProviderStub.Kind.OLLAMA, ""), ProviderStub::port)
            .yaml(YAML.formatted("first"))
            .build();

    private static JsonNode providers() {
        try {
            return AdminBackendsTest.json(AdminBackendsTest.call(sluice.port(), "GET", "/api/health", null)).get("providers");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void reloadAddsAndRemovesProviders() throws Exception {
        Await.until("first checked", Duration.ofSeconds(20), () -> !providers().get("first").get("checked_at").isNull());
        sluice.reload(YAML.formatted("second"));
        Await.until("second checked", Duration.ofSeconds(20), () -> providers().has("second")
                && !providers().get("second").get("checked_at").isNull());
        JsonNode p = providers();
        assertNull(p.get("first"), p.toString());
        assertEquals(200, p.get("second").get("status").asInt());
        assertEquals(1, p.size());
    }

    /**
     * Checks every 5 ms, and one that never gets an answer (its timeout is a minute): close() cuts it
     * rather than waiting it out, and returns with none in flight.
     */
    @Test
    void closeLeavesNoCheckRunning() throws Exception {
        ProviderStub stub = sluice.backend("OLLAMA");
        try (ProviderHealthTest.Silent silent = new ProviderHealthTest.Silent()) {
            for (int round = 0; round < 10; round++) {
                closeAmongChecks(stub, silent.socket.getLocalPort(), round);
            }
        }
    }

    private static void closeAmongChecks(ProviderStub stub, int silentPort, int round) throws Exception {
            SluiceServer server = SluiceServer.start(ConfigLoader.parse("""
                    server: { provider-check-interval: 5ms, provider-check-timeout: 60s, io-threads: 2 }
                    listeners: [ { port: 0, host: 127.0.0.1, routes: [ { path: /api/, admin: true } ] } ]
                    admin: { scrape-interval: 0 }
                    providers:
                      local: { base-url: "http://127.0.0.1:%d" }
                      silent: { format: ollama, base-url: "http://127.0.0.1:%d" }
                    """.formatted(stub.port(), silentPort), "round.yaml", System::getenv));
            int wanted = stub.paths.size() + 1 + round % 4; // a few checks have run, so close() lands among them
            try {
                // The silent provider's check, once started, stays in flight until close() cuts it.
                Await.until("checks running, the silent one among them", Duration.ofSeconds(10),
                        () -> stub.paths.size() >= wanted && server.oneShotCallsInProgress() >= 1);
            } finally {
                server.close();
            }
            assertEquals(0, server.oneShotCallsInProgress(), "round " + round + ": close() returned with a check in flight");
    }
}
