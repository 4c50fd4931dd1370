package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.http.warmup.Warmup;
import io.sluice.sim.SimulatorOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code server.warmup}: before the listeners open, synthetic traffic runs through a private listener,
 * pool and simulator; none of it reaches the configured backends or shows in the gateway's counters.
 */
class WarmupTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            server: { warmup: 1s }
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true }, { path: /metrics, admin: true } ]
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            """, SimulatorOptions.builder().build());

    @Test
    void startUpDrivesEveryKindOfRequestThroughThePrivateListener() {
        Warmup.Result r = sluice.server().warmup();
        assertNotNull(r, "a warm-up was configured");
        assertEquals(0, r.failures(), r::toString);
        assertTrue(r.streams() > 0, r::toString);
        assertTrue(r.requests() > r.streams(), "non-streaming requests too: " + r);
        assertTrue(r.connections() >= Warmup.CONNECTIONS, r::toString);
        assertEquals(0, r.tlsConnections(), "no listener serves TLS, so none is warmed: " + r);
        assertEquals(0, r.http2Streams(), r::toString);
    }

    @Test
    void theConfiguredBackendAndTheCountersSawNoneOfIt() throws Exception {
        assertEquals(0, sluice.sim(0).requestsTotal(), "warm-up traffic must not reach a configured backend");
        String metrics = AdminBackendsTest.call(sluice.port(), "GET", "/metrics", null).body().text();
        assertFalse(metrics.contains("warmup"), "no warm-up pool, listener or backend in /metrics");
        String status = AdminBackendsTest.call(sluice.port(), "GET", "/api/v1/status", null).body().text();
        assertFalse(status.contains("warmup"), status);
        try (RawHttp c = new RawHttp(sluice.port())) {
            assertEquals(200, c.get("/v1/models").exchange().status());
        }
    }
}
