package io.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * Keeps the socket benchmarks working: each scenario once, with tiny parameters, against real
 * processes. Figures are not checked here (that is what bin/bench is for), only that the load got through.
 */
class ProxyBenchmarksSmokeTest {

    /** Runs one scenario between the processes' start and stop, as JMH's {@code @Setup} and {@code @TearDown} do. */
    private static Map<String, Object> scenario(ProxyBenchmarks b, String name, Callable<Map<String, Object>> run) throws Exception {
        b.start(name);
        try {
            return run.call();
        } catch (Exception | AssertionError e) {
            // The processes' output says which one closed or refused; it is gone once they stop.
            e.addSuppressed(new IllegalStateException("process output:\n" + b.fixture.logTails()));
            throw e;
        } finally {
            b.stopProcesses();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyScenarioRunsWithTinyParameters() throws Exception {
        ProxyBenchmarks b = new ProxyBenchmarks();
        b.connections = 4;
        b.seconds = 0.5;
        b.rounds = 1;
        b.warmup = 0.2;
        b.load = "20x3@5ms";
        b.idleConnections = 50;

        scenario(b, "requestResponse", () -> {
            Map<String, Object> rr = b.requestResponse();
            Map<String, Object> round = ((List<Map<String, Object>>) rr.get("closed_loop_rounds")).get(0);
            Map<String, Object> via = (Map<String, Object>) round.get("sluice");
            assertTrue(((Number) via.get("requests")).longValue() > 0, rr.toString());
            assertEquals(0L, ((Number) via.get("errors")).longValue(), rr.toString());
            return rr;
        });

        scenario(b, "streaming", () -> {
            Map<String, Object> st = b.streaming();
            Map<String, Object> streams = (Map<String, Object>) st.get("sluice");
            assertEquals(20L, ((Number) streams.get("completed")).longValue(), st.toString());
            assertEquals(0L, ((Number) streams.get("errors")).longValue(), st.toString());
            return st;
        });

        scenario(b, "sequential", () -> {
            Map<String, Object> seq = b.sequential();
            Map<String, Object> round = ((List<Map<String, Object>>) seq.get("rounds")).get(0);
            Map<String, Object> via = (Map<String, Object>) round.get("sluice");
            assertTrue(((Number) via.get("requests")).longValue() > 0, seq.toString());
            assertEquals(0L, ((Number) via.get("errors")).longValue(), seq.toString());
            return seq;
        });

        scenario(b, "tlsHandshakes", () -> {
            Map<String, Object> tls = b.tlsHandshakes();
            Map<String, Object> round = ((List<Map<String, Object>>) tls.get("rounds")).get(0);
            assertTrue(((Number) round.get("requests")).longValue() > 0, tls.toString());
            assertEquals(0L, ((Number) round.get("errors")).longValue(), tls.toString());
            return tls;
        });

        if (H2load.available()) {
            b.h2Connections = 2;
            b.h2Streams = 4;
            scenario(b, "http2Streams", () -> {
                Map<String, Object> h2 = b.http2Streams();
                Map<String, Object> round = ((List<Map<String, Object>>) h2.get("rounds")).get(0);
                assertTrue(((Number) round.get("requests")).longValue() > 0, h2.toString());
                assertEquals(0L, ((Number) round.get("errors")).longValue(), h2.toString());
                return h2;
            });
        } else if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError("h2load is missing under CI (bin/test installs nghttp2-client)");
        } else {
            System.err.println("http2Streams smoke run skipped: no h2load (apt-get install nghttp2-client)");
        }

        scenario(b, "idleConnections", () -> {
            Map<String, Object> idle = b.idleConnections();
            assertEquals(50L, ((Number) idle.get("held_and_answered_again")).longValue(), idle.toString());
            return idle;
        });
    }
}
