package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.backend.Backend;
import io.sluice.core.observe.Exchange;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The LLM-aware policies over real sockets: prefix affinity and its bound, session stickiness,
 * load-aware routing from the simulators' own {@code /metrics}, stale samples, the route header and log field.
 */
class RoutingPolicyTest {
    static final ConcurrentLinkedQueue<Exchange> exchanges = new ConcurrentLinkedQueue<>();

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .simulators(fast(), fast(), fast(), fast(), slow(), slow())
            .observer(exchanges::add)
            .yaml("""
                    admin: { scrape-interval: 1h }
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        routes:
                          - { path: /prefix/, pool: prefix, prefix-rewrite: / }
                          - { path: /session/, pool: session, prefix-rewrite: / }
                          - { path: /load/, pool: load, prefix-rewrite: / }
                          - { path: /stale/, pool: stale, prefix-rewrite: / }
                    pools:
                      prefix:
                        balancer: prefix-affinity
                        routing: { block-chars: 32, prefix-blocks: 8 }
                        backends: [ { url: "http://127.0.0.1:${SIM0}" }, { url: "http://127.0.0.1:${SIM1}" },
                                    { url: "http://127.0.0.1:${SIM2}" }, { url: "http://127.0.0.1:${SIM3}" } ]
                      session:
                        balancer: session
                        backends: [ { url: "http://127.0.0.1:${SIM0}" }, { url: "http://127.0.0.1:${SIM1}" },
                                    { url: "http://127.0.0.1:${SIM2}" }, { url: "http://127.0.0.1:${SIM3}" } ]
                      load:
                        balancer: load-aware
                        backends: [ { url: "http://127.0.0.1:${SIM4}" }, { url: "http://127.0.0.1:${SIM5}" } ]
                      stale:
                        balancer: load-aware
                        routing: { stale-after: 1ms }
                        backends: [ { url: "http://127.0.0.1:${SIM4}" }, { url: "http://127.0.0.1:${SIM5}" } ]
                    """)
            .build();

    static SimulatorOptions fast() {
        // One running sequence: further requests wait, as on a saturated vLLM.
        return SimulatorOptions.builder().model("demo").ttft(Duration.ofMillis(1)).itl(Duration.ofMillis(1))
                .maxTokens(4).maxNumSeqs(1).build();
    }

    /** Long streams, one running at a time: the rest wait in the simulator's queue. */
    static SimulatorOptions slow() {
        return SimulatorOptions.builder().model("demo").ttft(Duration.ofMillis(1)).itl(Duration.ofMillis(50))
                .maxTokens(5000).maxNumSeqs(1).build();
    }

    static final String SYSTEM = "You are the support assistant of Example Corp. Answer briefly, cite the handbook, "
            + "never invent order numbers, and escalate refunds above one hundred dollars to a human.";

    static String chat(String system, String user) {
        return "{\"model\":\"demo\",\"max_tokens\":2,\"messages\":[{\"role\":\"system\",\"content\":\"" + system
                + "\"},{\"role\":\"user\",\"content\":\"" + user + "\"}]}";
    }

    static Backend backend(String pool, int sim) {
        int port = sluice.sim(sim).port();
        return sluice.server().pools().stream().filter(p -> p.name().equals(pool)).findFirst().orElseThrow()
                .backends().stream().filter(b -> b.port() == port).findFirst().orElseThrow();
    }

    static String route(RawHttp c, String path, String body, String... headers) throws Exception {
        RawHttp.Response r = c.post(path, body, headers).exchange();
        assertEquals(200, r.head().status(), r.body().text());
        String route = r.head().header("x-sluice-route");
        assertTrue(route != null && route.startsWith("backend="), String.valueOf(route));
        return route;
    }

    static String backendOf(String route) {
        return route.substring("backend=".length(), route.indexOf(';'));
    }

    @Test
    void aRepeatedPrefixStaysOnItsBackendUntilTheBoundBreaksIt() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            String first = route(c, "/prefix/v1/chat/completions", chat(SYSTEM, "Where is my order?"));
            assertTrue(first.contains("; policy=prefix-affinity; prefix-blocks=0/"), first);
            String home = backendOf(first);
            for (int i = 0; i < 6; i++) {
                String r = route(c, "/prefix/v1/chat/completions", chat(SYSTEM, "Question number " + i));
                assertEquals(home, backendOf(r), r);
                // The system prompt fills 5 whole blocks of 32 characters (with "system: ").
                assertTrue(r.matches(".*; prefix-blocks=[5-8]/[5-8]$"), r);
            }
            // Another tenant's prompt has no shared blocks: placed by load, not by affinity.
            String other = route(c, "/prefix/v1/chat/completions", chat("A completely different tenant's system prompt, long enough", "hi"));
            assertTrue(other.contains("prefix-blocks=0/"), other);

            // The home backend is overloaded (3 in flight, bound ceil(1.25 × 4 / 4) = 2): the affinity breaks.
            Backend hot = sluice.server().pools().stream().filter(p -> p.name().equals("prefix")).findFirst().orElseThrow()
                    .backends().stream().filter(b -> b.id().equals(home)).findFirst().orElseThrow();
            List<Backend.Lease> held = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                held.add(hot.lease());
            }
            try {
                String broken = route(c, "/prefix/v1/chat/completions", chat(SYSTEM, "Overloaded?"));
                assertNotEquals(home, backendOf(broken), broken);
                assertTrue(broken.endsWith("; bound=exceeded"), broken);
            } finally {
                held.forEach(Backend.Lease::release);
            }
        }
        Exchange last = exchanges.stream().filter(e -> "prefix".equals(e.pool)).reduce((a, b) -> b).orElseThrow();
        assertTrue(last.routeReason.contains("bound=exceeded"), "the access log's route field: " + last.routeReason);
    }

    @Test
    void aSessionSticksByHeaderOrUserAndSessionsSpread() throws Exception {
        Set<String> used = new HashSet<>();
        try (RawHttp c = new RawHttp(sluice.port())) {
            for (int s = 0; s < 12; s++) {
                String home = null;
                for (int i = 0; i < 3; i++) {
                    String r = route(c, "/session/v1/chat/completions", chat("sys", "turn " + i), "x-session-id: conv-" + s);
                    assertTrue(r.contains("; policy=session"), r);
                    home = home == null ? backendOf(r) : home;
                    assertEquals(home, backendOf(r), "session conv-" + s + ": " + r);
                }
                used.add(home);
            }
            String byUser = null;
            for (int i = 0; i < 3; i++) {
                String body = "{\"model\":\"demo\",\"max_tokens\":1,\"prompt\":\"p" + i + "\",\"user\":\"alice\"}";
                String r = route(c, "/session/v1/completions", body);
                byUser = byUser == null ? backendOf(r) : byUser;
                assertEquals(byUser, backendOf(r), r);
            }
        }
        assertTrue(used.size() >= 2, "12 sessions on " + used);
    }

    @Test
    void loadAwareAvoidsTheBackendWhoseScrapeShowsAQueueAndIgnoresAStaleScrape() throws Exception {
        // Streams sent to simulator 4 directly, past Sluice: it queues them, and only its metrics say so.
        List<RawHttp> direct = new ArrayList<>();
        String queued = backend("load", 4).id();
        String body = "{\"model\":\"demo\",\"max_tokens\":1,\"prompt\":\"x\"}";
        try (RawHttp c = new RawHttp(sluice.port())) {
            try {
                for (int i = 0; i < 3; i++) {
                    RawHttp d = new RawHttp(sluice.sim(4).port());
                    d.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 5000));
                    direct.add(d);
                }
                Await.until("simulator 4 queues", Duration.ofSeconds(10), () -> sluice.sim(4).waiting() >= 2);
                for (String pool : List.of("load", "stale")) {
                    for (int sim = 4; sim < 6; sim++) {
                        sluice.server().scraper().scrape(backend(pool, sim)).get();
                    }
                }
                assertTrue(backend("load", 4).loadSample().waiting() >= 2, String.valueOf(backend("load", 4).loadSample()));
                for (int i = 0; i < 8; i++) {
                    String r = route(c, "/load/v1/completions", body);
                    assertNotEquals(queued, backendOf(r), r);
                    assertTrue(r.contains("; policy=load-aware; score="), r);
                }
            } finally {
                for (RawHttp d : direct) {
                    d.close();
                }
            }
            Await.until("simulator 4 idle", Duration.ofSeconds(10), () -> sluice.sim(4).running() + sluice.sim(4).waiting() == 0);
            // The same scrape, older than the stale pool's stale-after (1ms): in-flight counts alone decide, so
            // the backend whose old sample showed a queue gets requests again.
            long at = backend("stale", 4).loadSample().atMillis();
            Await.until("the sample is stale", Duration.ofSeconds(5), () -> System.currentTimeMillis() > at + 1);
            Set<String> chosen = new HashSet<>();
            for (int i = 0; i < 16; i++) {
                String r = route(c, "/stale/v1/completions", body);
                assertTrue(r.endsWith("; score=0.0; metrics=stale"), r);
                chosen.add(backendOf(r));
            }
            assertTrue(chosen.contains(queued), chosen.toString());
        }
    }
}
