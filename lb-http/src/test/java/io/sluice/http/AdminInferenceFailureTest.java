package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.SimulatorOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A process that exits before serving: {@code up} answers with the failure and the process's last output. */
class AdminInferenceFailureTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true } ]
            pools:
              vllm:
                health: { interval: 100ms, timeout: 90ms, rise: 1 }
                backends: [ { url: "http://127.0.0.1:${SIM0}", name: static } ]
            admin:
              scrape-interval: 0
              inference:
                pool: vllm
                command: "%s -Xmx64m -cp %s io.sluice.sim.SimulatorMain --port {port} --model {model} --no-such-option"
            """.formatted(AdminInferenceTest.JAVA, AdminInferenceTest.CP), SimulatorOptions.defaults());

    @Test
    void failureIsAnsweredWithTheLastOutputLines() throws Exception {
        RawHttp.Response up = AdminBackendsTest.call(sluice.port(), "POST", "/api/v1/inference/up",
                "{\"model\":\"m\",\"replicas\":2}");
        assertEquals(500, up.status(), up.body().text());
        assertEquals("inference_start_failed", up.header("x-sluice-error"));
        String msg = AdminBackendsTest.json(up).get("error").get("message").asText();
        assertTrue(msg.contains("exited with code 2 before serving"), msg);
        assertTrue(msg.contains("Unknown option: '--no-such-option'"), msg);
        assertEquals(1, sluice.server().upstreams().pool("vllm").backends().size(), "the failed replicas were removed");
    }
}
