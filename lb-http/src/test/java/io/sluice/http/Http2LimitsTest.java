package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** HTTP/2 streams per connection are limited: a stream over the limit is refused, the others go on. */
class Http2LimitsTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                http2: { max-concurrent-streams: 2 }
                routes: [ { path: /v1/, pool: vllm } ]
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            """, SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(20)).maxTokens(100_000).build());

    @Test
    void aStreamOverTheLimitIsRefusedAndTheOthersGoOn() throws Exception {
        try (H2Client c = new H2Client(sluice.port(), 65535)) {
            H2Client.Stream a = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 2000));
            H2Client.Stream b = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 2000));
            Await.until("two streams running", Duration.ofSeconds(20), () -> a.events() >= 2 && b.events() >= 2);
            boolean refused;
            try {
                H2Client.Stream third = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 3));
                refused = !third.awaitEnd(5) || third.status != 200;
            } catch (Exception overTheLimit) {
                refused = true; // the server's SETTINGS_MAX_CONCURRENT_STREAMS stops it
            }
            assertTrue(refused, "a third concurrent stream must not be served");
            long aBefore = a.events();
            Await.until("the first streams keep going", Duration.ofSeconds(20), () -> a.events() > aBefore + 5);
            a.reset();
            Await.until("a's slot released", Duration.ofSeconds(10), () -> sluice.totalInFlight() == 1);
            H2Client.Stream next = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 3));
            assertTrue(next.awaitEnd(20), "a stream within the limit must be served");
            assertEquals(200, next.status);
            b.reset();
        }
    }
}
