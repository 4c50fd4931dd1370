package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.http.warmup.Warmup;
import io.sluice.sim.SimulatorOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code server.warmup} with a TLS listener configured: the warm-up also makes TLS handshakes and
 * HTTP/2 streams through a private TLS listener of its own, with a certificate of its own.
 */
class WarmupTlsTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            server: { warmup: 1s }
            listeners:
              - name: tls
                port: 0
                host: 127.0.0.1
                tls: { self-signed: true }
                routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true }, { path: /metrics, admin: true } ]
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            """, SimulatorOptions.builder().build());

    @Test
    void startUpAlsoDrivesTlsHandshakesAndHttp2Streams() {
        Warmup.Result r = sluice.server().warmup();
        assertNotNull(r, "a warm-up was configured");
        assertEquals(0, r.failures(), r::toString);
        assertTrue(r.tlsConnections() > Warmup.CONNECTIONS / 4, "TLS connections, each a handshake: " + r);
        assertTrue(r.connections() > r.tlsConnections(), "plain connections too: " + r);
        assertTrue(r.http2Streams() > 0, r::toString);
        assertTrue(r.requests() > r.http2Streams(), "HTTP/1.1 requests too: " + r);
        assertTrue(r.streams() > 0, r::toString);
    }

    @Test
    void theConfiguredBackendSawNoneOfIt() {
        assertEquals(0, sluice.sim(0).requestsTotal(), "warm-up traffic must not reach a configured backend");
    }
}
