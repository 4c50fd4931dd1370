package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client that goes away must free the GPU: Sluice closes the upstream connection at once and the
 * simulator (like vLLM) counts an abort, mid-stream and also while still waiting for the first token.
 */
class AbortTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - { name: streaming, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: streaming } ] }
              - { name: prefill, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: prefill } ] }
            pools:
              streaming:
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
              prefill:
                backends: [ { url: "http://127.0.0.1:${SIM1}" } ]
            """,
            SimulatorOptions.builder().itl(Duration.ofMillis(50)).ttft(Duration.ofMillis(10)).maxTokens(1000).build(),
            SimulatorOptions.builder().ttft(Duration.ofSeconds(60)).maxTokens(10).build());

    @Test
    void clientDisconnectMidStreamAbortsTheGeneration() throws Exception {
        long abortedBefore = sluice.sim(0).aborted();
        RawHttp c = new RawHttp(sluice.server().port("streaming"));
        c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 1000));
        assertEquals(200, c.readHead().status());
        for (int i = 0; i < 3; i++) {
            c.readChunk();
        }
        c.close();
        assertTrue(sluice.sim(0).awaitAborted(abortedBefore + 1, Duration.ofSeconds(1)),
                "the simulator did not see an abort within a second");
        Await.until("in-flight back to zero", Duration.ofSeconds(5), () -> sluice.totalInFlight() == 0);
    }

    @Test
    void clientDisconnectDuringPrefillAbortsTheGeneration() throws Exception {
        long abortedBefore = sluice.sim(1).aborted();
        long requestsBefore = sluice.sim(1).requestsTotal();
        RawHttp c = new RawHttp(sluice.server().port("prefill"));
        c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 10));
        Await.until("request reached the simulator", Duration.ofSeconds(5),
                () -> sluice.sim(1).requestsTotal() > requestsBefore);
        c.close(); // no byte of the response has been produced yet: the model is still in prefill
        assertTrue(sluice.sim(1).awaitAborted(abortedBefore + 1, Duration.ofSeconds(1)),
                "the simulator did not see an abort within a second");
        Await.until("in-flight back to zero", Duration.ofSeconds(5), () -> sluice.totalInFlight() == 0);
    }
}
