package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.FailureMode;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** An upstream that dies mid-response resets only its HTTP/2 stream; the connection and its other streams go on. */
class Http2FailureTest {
    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - { port: 0, host: 127.0.0.1, routes: [{ path: /v1/, pool: vllm }] }
            pools:
              vllm:
                health: { enabled: false }
                backends:
                  - url: http://127.0.0.1:${SIM0}
            """,
            SimulatorOptions.builder().model("demo").ttft(Duration.ofMillis(10)).itl(Duration.ofMillis(10)).maxTokens(10_000).build());

    @Test
    void upstreamResetMidStreamResetsOnlyThatStream() throws Exception {
        try (H2Client c = new H2Client(sluice.port(), 65535)) {
            H2Client.Stream healthy = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 300));
            Await.until("the healthy stream started", Duration.ofSeconds(20), () -> healthy.events() >= 2);
            sluice.sim(0).setFailureMode(FailureMode.RESET_MID_STREAM);
            H2Client.Stream cut;
            try {
                cut = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 1000));
                assertTrue(cut.closed.await(20, TimeUnit.SECONDS), "the cut stream was not reset");
            } finally {
                sluice.sim(0).setFailureMode(FailureMode.NONE);
            }
            assertEquals(200, cut.status);
            assertEquals(1, cut.ended.getCount(), "a cut-off response must not look complete");
            // The stream that was already running is on its own upstream connection: unaffected.
            assertTrue(healthy.awaitEnd(60), "healthy stream: " + healthy.events() + " events");
            assertTrue(healthy.text().trim().endsWith("data: [DONE]"));
            H2Client.Stream after = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 3));
            assertTrue(after.awaitEnd(30));
            assertEquals(200, after.status);
            Await.until("no lease left", Duration.ofSeconds(20), () -> sluice.totalInFlight() == 0);
        }
    }
}
