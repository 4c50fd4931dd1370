package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.backend.Backend;
import io.sluice.sim.SimulatorOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A pool's balance policy is chosen by name and changed by a reload, for the next request. */
class BalancePolicyReloadTest {
    static final String YAML = """
            listeners:
              - { host: 127.0.0.1, port: 0, routes: [ { path: /, pool: p } ] }
            pools:
              p:
                balancer: BALANCER
                backends: [ { url: "http://127.0.0.1:${SIM0}" }, { url: "http://127.0.0.1:${SIM1}" } ]
            """;

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .simulators(SimulatorOptions.defaults(), SimulatorOptions.defaults())
            .yaml(YAML.replace("BALANCER", "least-connections"))
            .build();

    @Test
    void roundRobinAfterAReloadAlternatesStrictly() throws Exception {
        sluice.reload(YAML.replace("BALANCER", "round-robin"));
        Backend a = sluice.backend(0);
        Backend b = sluice.backend(1);
        long a0 = a.requests();
        long b0 = b.requests();
        try (RawHttp c = new RawHttp(sluice.port())) {
            for (int i = 0; i < 10; i++) {
                assertEquals(200, c.post("/v1/completions", "{\"model\":\"demo\",\"prompt\":\"x\",\"max_tokens\":1}").exchange().status());
                long da = a.requests() - a0;
                long db = b.requests() - b0;
                // Sequential requests on an idle pool: least-connections would pick at random among ties.
                assertEquals(true, Math.abs(da - db) <= 1, "after " + (i + 1) + " requests: " + da + " vs " + db);
            }
        }
        assertEquals(5, a.requests() - a0);
        assertEquals(5, b.requests() - b0);
    }

    @Test
    void streamsInFlightFinishAcrossReloadsBetweenPoliciesAndEachResponseNamesItsPolicy() throws Exception {
        sluice.reload(YAML.replace("BALANCER", "least-connections"));
        try (RawHttp stream = new RawHttp(sluice.port()); RawHttp c = new RawHttp(sluice.port())) {
            stream.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 40));
            RawHttp.Head head = stream.readHead();
            assertEquals(200, head.status());
            String first = head.header("x-sluice-route");
            assertEquals(true, first.startsWith("backend=") && first.endsWith("; policy=least-connections"), first);
            for (String policy : new String[] {"prefix-affinity", "session", "load-aware", "power-of-two", "least-connections"}) {
                sluice.reload(YAML.replace("BALANCER", policy));
                RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1)).exchange();
                assertEquals(200, r.head().status());
                String route = r.head().header("x-sluice-route");
                assertEquals(true, route.contains("; policy=" + policy), route);
            }
            RawHttp.Body rest = stream.readBody(head);
            assertEquals(true, rest.complete() && rest.text().contains("[DONE]"), rest.text());
        }
    }
}
