package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.backend.Backend;
import io.sluice.sim.FailureMode;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Active checks take a failing backend out after `fall` failures and back after `rise` successes. */
class HealthCheckTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: vllm } ]
            pools:
              vllm:
                health: { path: /health, interval: 100ms, timeout: 80ms, rise: 2, fall: 2 }
                backends: [ { url: "http://127.0.0.1:${SIM0}" }, { url: "http://127.0.0.1:${SIM1}" } ]
            """, SimulatorOptions.builder().build(), SimulatorOptions.builder().build());

    @Test
    void failingBackendLeavesAndReturns() throws Exception {
        Backend b = sluice.backend(0);
        Await.until("first good check", Duration.ofSeconds(5), () -> b.lastHealth() != null && b.lastHealth().ok());
        sluice.sim(0).setFailureMode(FailureMode.HANG);
        Await.until("backend marked down", Duration.ofSeconds(10), () -> b.state() == Backend.State.UNHEALTHY);
        assertTrue(b.stateReason().contains("failed check"), b.stateReason());
        assertTrue(b.lastHealth().detail().contains("timeout"), b.lastHealth().detail());

        // While it is down every request goes to the other backend.
        for (int i = 0; i < 10; i++) {
            try (RawHttp c = new RawHttp(sluice.port())) {
                assertEquals(200, c.get("/v1/models").exchange().status());
            }
        }
        assertEquals(0, b.inFlight());

        sluice.sim(0).setFailureMode(FailureMode.NONE);
        Await.until("backend back in rotation", Duration.ofSeconds(10), () -> b.state() == Backend.State.HEALTHY);
        assertTrue(b.stateReason().contains("good check"), b.stateReason());
    }
}
