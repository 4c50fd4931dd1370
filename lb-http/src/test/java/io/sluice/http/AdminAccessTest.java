package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sluice.sim.SimulatorOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** With loopback-without-token off, even a local client needs the bearer token; it never leaks. */
class AdminAccessTest {
    static final String TOKEN = "test-token-0123456789abcdef";

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true } ]
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            admin: { token: "%s", loopback-without-token: false }
            """.formatted(TOKEN), SimulatorOptions.defaults());

    @Test
    void bearerTokenRequired() throws Exception {
        RawHttp.Response none = AdminBackendsTest.call(sluice.port(), "GET", "/api/v1/status", null);
        assertEquals(401, none.status());
        assertEquals("Bearer", none.header("www-authenticate"));
        assertEquals("unauthorized", none.header("x-sluice-error"));
        RawHttp.Response wrong = AdminBackendsTest.call(sluice.port(), "GET", "/api/v1/status", null,
                "Authorization: Bearer " + TOKEN + "x");
        assertEquals(401, wrong.status());
        assertFalse(wrong.body().text().contains(TOKEN));
        // Unknown admin paths are not revealed either.
        assertEquals(401, AdminBackendsTest.call(sluice.port(), "GET", "/api/nope", null).status());

        RawHttp.Response ok = AdminBackendsTest.call(sluice.port(), "GET", "/api/v1/status", null,
                "Authorization: Bearer " + TOKEN);
        assertEquals(200, ok.status());
        assertFalse(ok.body().text().contains(TOKEN), "the status never shows the token");
        // The proxied API is not affected.
        try (RawHttp c = new RawHttp(sluice.port())) {
            assertEquals(200, c.get("/v1/models").exchange().status());
        }
    }

    /**
     * A kubelet probes from the node's address with {@code Host: <pod IP>:<port>} and no credentials:
     * {@code /api/ready} answers it, and nothing else of the admin API opens up.
     */
    @Test
    void readinessProbeNeedsNoCredentials() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.sendRaw("GET /api/ready HTTP/1.1\r\nHost: 10.244.1.7:8000\r\nUser-Agent: kube-probe/1.31\r\n\r\n");
            RawHttp.Response ready = c.exchange();
            assertEquals(200, ready.status());
            assertEquals("{\"status\":\"ready\"}", ready.body().text());
        }
        assertEquals(401, AdminBackendsTest.call(sluice.port(), "GET", "/api/health", null).status());
        assertEquals(401, AdminBackendsTest.call(sluice.port(), "GET", "/api/ready/x", null).status());
        assertEquals(401, AdminBackendsTest.call(sluice.port(), "POST", "/api/ready", "{}").status());
    }
}
