package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.backend.Backend;
import io.sluice.sim.SimulatorOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code inference/up} launches real simulator processes (a JVM each) from the command template;
 * they join the pool once healthy, a killed one is restarted, and {@code down} removes and stops them.
 */
class AdminInferenceTest {
    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    static final String CP = System.getProperty("java.class.path");

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true } ]
            pools:
              vllm:
                health: { interval: 100ms, timeout: 90ms, rise: 1, fall: 1 }
                backends: [ { url: "http://127.0.0.1:${SIM0}", name: static } ]
            admin:
              scrape-interval: 0
              inference:
                pool: vllm
                command: "%s -Xmx128m -cp %s io.sluice.sim.SimulatorMain --port {port} --model {model} --dtype {dtype} --ttft 5ms --itl 5ms"
                ready-timeout: 60s
                restart-backoff: 100ms
            """.formatted(JAVA, CP), SimulatorOptions.builder().model("static").build());

    private static List<Backend> launched() {
        return sluice.server().upstreams().pool("vllm").backends().stream().filter(b -> b.id().startsWith("engine-")).toList();
    }

    @Test
    void upServesDownStopsAndACrashIsRestarted() throws Exception {
        RawHttp.Response up = AdminBackendsTest.call(sluice.port(), "POST", "/api/v1/inference/up",
                "{\"model\":\"launched\",\"dtype\":\"bfloat16\",\"replicas\":2}");
        assertEquals(200, up.status(), up.body().text());
        JsonNode procs = AdminBackendsTest.json(up).get("processes");
        assertEquals(2, procs.size());
        assertTrue(procs.get(0).get("serving").asBoolean(), "up answers only once the replicas serve");
        assertEquals(2, launched().size());
        assertTrue(launched().stream().allMatch(Backend::isAvailable));

        // With the static backend drained, the launched replicas serve the traffic.
        AdminBackendsTest.call(sluice.port(), "POST", "/api/v1/backends/static/drain", null);
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("launched", false, 2)).exchange();
            assertEquals(200, r.status(), r.body().text());
            assertTrue(r.body().text().contains("\"model\":\"launched\""), r.body().text());
        }
        AdminBackendsTest.call(sluice.port(), "POST", "/api/v1/backends/static/enable", null);

        // Kill one replica (our own child, by pid): it leaves rotation and is restarted.
        long pid = procs.get(0).get("pid").asLong();
        String id = procs.get(0).get("id").asText();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        Await.until("the killed replica restarted with a new pid and serving", Duration.ofSeconds(60), () -> {
            try {
                for (JsonNode p : AdminBackendsTest.json(AdminBackendsTest.call(sluice.port(), "GET", "/api/v1/inference", null))
                        .get("processes")) {
                    if (p.get("id").asText().equals(id)) {
                        return p.get("restarts").asInt() == 1 && p.get("pid").asLong() != pid && p.get("serving").asBoolean();
                    }
                }
                return false;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });

        RawHttp.Response down = AdminBackendsTest.call(sluice.port(), "POST", "/api/v1/inference/down", "{\"model\":\"launched\"}");
        assertEquals(200, down.status(), down.body().text());
        assertEquals(2, AdminBackendsTest.json(down).get("stopped").size());
        assertEquals(0, launched().size(), "removed from the pool");
        for (JsonNode p : AdminBackendsTest.json(down).get("stopped")) {
            assertTrue(ProcessHandle.of(p.get("pid").asLong()).map(h -> !h.isAlive()).orElse(true), "process stopped");
        }
        assertEquals(0, AdminBackendsTest.json(AdminBackendsTest.call(sluice.port(), "GET", "/api/v1/inference", null))
                .get("processes").size());
    }

    @Test
    void badRequestsAreRefused() throws Exception {
        RawHttp.Response r = AdminBackendsTest.call(sluice.port(), "POST", "/api/v1/inference/up",
                "{\"model\":\"m\",\"dtype\":\"x; rm -rf /\",\"replicas\":1}");
        assertEquals(400, r.status(), "values go into argv: only plain words");
        assertEquals(400, AdminBackendsTest.call(sluice.port(), "POST", "/api/v1/inference/up", "{\"replicas\":1}").status());
        assertEquals(0, launched().size());
    }
}
