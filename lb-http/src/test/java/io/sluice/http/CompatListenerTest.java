package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.FailureMode;
import io.sluice.sim.SimulatorOptions;
import java.net.ConnectException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The compatibility listener follows its pool's health: bound while a backend serves, refusing at once otherwise. */
class CompatListenerTest {
    static final int COMPAT_PORT = freePort();

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: vllm } ]
            pools:
              vllm:
                health: { interval: 100ms, timeout: 90ms, rise: 1, fall: 1 }
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            compat: { host: 127.0.0.1, port: %d, pool: vllm, check-interval: 50ms }
            admin: { scrape-interval: 0 }
            """.formatted(COMPAT_PORT), SimulatorOptions.builder().model("demo").build());

    static int freePort() {
        return FreePorts.next();
    }

    @Test
    void startsAndStopsWithBackendHealth() throws Exception {
        Await.until("compat listener bound", Duration.ofSeconds(20), () -> sluice.server().compatBound());
        try (RawHttp c = new RawHttp(COMPAT_PORT)) {
            // Every path goes to the pool, not only /v1/.
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2)).exchange();
            assertEquals(200, r.status(), r.body().text());
        }

        sluice.sim(0).setFailureMode(FailureMode.REFUSE);
        try {
            Await.until("compat listener closed", Duration.ofSeconds(20), () -> !sluice.server().compatBound());
            assertThrows(ConnectException.class, () -> new RawHttp(COMPAT_PORT).close(), "refused at once, not left hanging");
        } finally {
            sluice.sim(0).setFailureMode(FailureMode.NONE);
        }
        Await.until("compat listener bound again", Duration.ofSeconds(20), () -> sluice.server().compatBound());
        try (RawHttp c = new RawHttp(COMPAT_PORT)) {
            assertTrue(c.get("/health").exchange().status() == 200);
        }
    }
}
