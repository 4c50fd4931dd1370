package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What was recorded since the last push reaches the collector when the gateway stops, not an interval later. */
class OtlpShutdownFlushTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("OTLP", OtlpReceiver::new, OtlpReceiver::port)
            .yaml("""
                    telemetry: { otlp: { endpoint: "http://127.0.0.1:${OTLP}", interval: 1h } }
                    listeners: [ { host: 127.0.0.1, port: 0, routes: [ { path: /v1/, pool: vllm } ] } ]
                    pools:
                      vllm: { backends: [ { simulator: { model: demo, ttft: 1ms, itl: 1ms } } ] }
                    """)
            .build();

    @Test
    void closingTheGatewayExportsWhatIsLeft() throws Exception {
        OtlpReceiver collector = sluice.backend("OTLP");
        for (int i = 0; i < 2; i++) {
            try (RawHttp c = new RawHttp(sluice.port())) {
                assertEquals(200, c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 4)).exchange().status());
            }
        }
        assertEquals(0, collector.posts.get(), "nothing pushed before the hour is up");
        sluice.close();
        assertEquals(2, collector.count("gen_ai.server.request.duration"), "pushed on close: " + collector.snapshot());
        // This route does not read the body, so the model is not known: the operation comes from the path.
        java.util.Map<String, String> attrs = OtlpReceiver.attributes(
                collector.points("gen_ai.server.request.duration").get(0).getAttributesList());
        assertEquals("chat", attrs.get("gen_ai.operation.name"), attrs.toString());
        assertEquals(null, attrs.get("gen_ai.request.model"), attrs.toString());
    }
}
