package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.sim.SimulatorOptions;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The compatibility port is no way around the access policy of the listener it mirrors. */
class CompatAccessTest {
    static final int COMPAT_PORT = CompatListenerTest.freePort();

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - name: main
                port: 0
                host: 127.0.0.1
                auth: { keys-file: "%s" }
                rate-limits: { per-key: { requests-per-minute: 2 } }
                routes: [ { path: /v1/, pool: vllm } ]
            pools:
              vllm:
                health: { enabled: false }   # in rotation from the start; no check to time out on a busy machine
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            compat: { host: 127.0.0.1, port: %d, pool: vllm, check-interval: 50ms }
            admin: { scrape-interval: 0 }
            """.formatted(AccessTest.KEYS.toString().replace("\\\\", "/"), COMPAT_PORT),
            SimulatorOptions.builder().model("demo").build());

    static RawHttp.Response chat(int port, String... headers) throws IOException {
        try (RawHttp c = new RawHttp(port)) {
            return c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2), headers).exchange();
        }
    }

    @Test
    void compatRequestsNeedTheMainListenersKeysAndShareItsLimits() throws Exception {
        Await.until("compat listener bound", Duration.ofSeconds(20), () -> sluice.server().compatBound());
        RawHttp.Response anonymous = chat(COMPAT_PORT);
        assertEquals(401, anonymous.status(), anonymous.body().text());
        assertEquals("invalid_api_key", anonymous.header("x-sluice-error"));
        try (RawHttp c = new RawHttp(COMPAT_PORT)) {
            assertEquals(401, c.get("/anything/else").exchange().status(), "every path, not only /v1/");
        }

        assertEquals(200, chat(COMPAT_PORT, "Authorization: Bearer sk-alice-123").status(), "with a key: proxied");
        assertEquals(200, chat(sluice.server().port("main"), "Authorization: Bearer sk-alice-123").status());
        RawHttp.Response third = chat(COMPAT_PORT, "Authorization: Bearer sk-alice-123");
        assertEquals(429, third.status(), "one budget for alice over both ports: " + third.body().text());
    }
}
