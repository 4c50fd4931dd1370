package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code inference/up} values become an engine's argv, and each process holds a GPU: names that
 * could be options or paths are refused, replicas are bounded, and so is the number of processes.
 */
class AdminInferenceLimitsTest {

    // `sleep {port}` is a process that never passes a health check: up waits for it, holding its slots.
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
              inference: { pool: vllm, command: "sleep {port}", ready-timeout: 60s, restart: false, max-processes: 2 }
            """, SimulatorOptions.builder().build());

    private static RawHttp.Response up(String body) throws Exception {
        return AdminBackendsTest.call(sluice.port(), "POST", "/api/v1/inference/up", body);
    }

    private static void assertRefused(int status, String code, RawHttp.Response r) throws Exception {
        assertEquals(status, r.status(), r.body().text());
        assertEquals(code, r.header("x-sluice-error"));
        assertEquals(code, AdminBackendsTest.json(r).get("error").get("code").asText(), "the gateway's error shape");
    }

    private static int processes() throws Exception {
        return AdminBackendsTest.json(AdminBackendsTest.call(sluice.port(), "GET", "/api/v1/inference", null))
                .get("processes").size();
    }

    @Test
    void valuesThatWouldBeOptionsOrPathsAreRefused() throws Exception {
        for (String model : new String[] {"-rf", "--help", "-", "../etc", "org/../../x", ".hidden", "a b", "", "x".repeat(201),
                "m;rm", "m$(id)"}) {
            assertRefused(400, "bad_request", up("{\"model\":" + io.sluice.core.http.Json.quote(model) + ",\"replicas\":1}"));
        }
        assertRefused(400, "bad_request", up("{\"model\":42}"));
        for (String dtype : new String[] {"\"--trust-remote-code\"", "\"x; rm -rf /\"", "\"int4\"", "7"}) {
            assertRefused(400, "bad_request", up("{\"model\":\"m\",\"dtype\":" + dtype + "}"));
        }
        for (String replicas : new String[] {"0", "-1", "17", "1000000", "\"2\"", "1.5"}) {
            assertRefused(400, "bad_request", up("{\"model\":\"m\",\"replicas\":" + replicas + "}"));
        }
        assertEquals(0, processes(), "nothing was launched");
    }

    @Test
    void theNumberOfSupervisedProcessesIsCapped() throws Exception {
        assertRefused(429, "too_many_processes", up("{\"model\":\"org/model-1.5B@main\",\"replicas\":3}"));
        assertEquals(0, processes());

        try (RawHttp pending = new RawHttp(sluice.port())) {
            String body = "{\"model\":\"org/model-1.5B@main\",\"dtype\":\"bfloat16\",\"replicas\":2}";
            pending.sendRaw("POST /api/v1/inference/up HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body);
            Await.until("two processes started", Duration.ofSeconds(20), () -> {
                try {
                    return processes() == 2;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            RawHttp.Response third = up("{\"model\":\"other\",\"replicas\":1}");
            assertRefused(429, "too_many_processes", third);
            assertTrue(third.body().text().contains("max-processes is 2"), third.body().text());

            RawHttp.Response down = AdminBackendsTest.call(sluice.port(), "POST", "/api/v1/inference/down", "");
            assertEquals(200, down.status(), down.body().text());
            RawHttp.Response first = pending.exchange(); // its processes were stopped before they served
            assertEquals(500, first.status(), first.body().text());
        }
        assertEquals(0, processes());
        // The slots are free again: a request over the cap is still refused, but not for processes now gone.
        RawHttp.Response again = up("{\"model\":\"m\",\"replicas\":3}");
        assertRefused(429, "too_many_processes", again);
        assertTrue(again.body().text().contains("(0 running or starting)"), again.body().text());
    }
}
