package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.sim.SimulatorOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The container image's HEALTHCHECK client: healthy only on a 200 from {@code /api/health}. */
class ImageHealthCheckTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - { port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true } ] }
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            """, SimulatorOptions.defaults());

    @Test
    void aServingGatewayIsHealthy() {
        assertEquals(0, HealthCheck.check("http://127.0.0.1:" + sluice.server().port() + "/api/health"));
    }

    @Test
    void anAnswerOtherThan200IsUnhealthy() {
        assertEquals(1, HealthCheck.check("http://127.0.0.1:" + sluice.sim(0).port() + "/no/such/path"));
    }

    @Test
    void nothingListeningIsUnhealthy() throws Exception {
        int port = FreePorts.refusing();
        assertEquals(1, HealthCheck.check("http://127.0.0.1:" + port + "/api/health"));
    }
}
