package io.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keeps the socket benchmarks working: each scenario once, with tiny parameters, against real
 * processes. Figures are not checked here (that is what bin/bench is for), only that the load got through.
 */
class ProxyBenchmarksSmokeTest {

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

        b.start("requestResponse");
        Map<String, Object> rr;
        try {
            rr = b.requestResponse();
        } finally {
            b.stopProcesses();
        }
        Map<String, Object> round = ((List<Map<String, Object>>) rr.get("closed_loop_rounds")).get(0);
        Map<String, Object> via = (Map<String, Object>) round.get("sluice");
        assertTrue(((Number) via.get("requests")).longValue() > 0, rr.toString());
        assertEquals(0L, ((Number) via.get("errors")).longValue(), rr.toString());

        b.start("streaming");
        Map<String, Object> st;
        try {
            st = b.streaming();
        } finally {
            b.stopProcesses();
        }
        Map<String, Object> streams = (Map<String, Object>) st.get("sluice");
        assertEquals(20L, ((Number) streams.get("completed")).longValue(), st.toString());
        assertEquals(0L, ((Number) streams.get("errors")).longValue(), st.toString());

        b.start("idleConnections");
        Map<String, Object> idle;
        try {
            idle = b.idleConnections();
        } finally {
            b.stopProcesses();
        }
        assertEquals(50L, ((Number) idle.get("held_and_answered_again")).longValue(), idle.toString());
    }
}
