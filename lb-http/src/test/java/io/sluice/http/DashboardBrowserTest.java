package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.backend.Backend;
import io.sluice.http.sdk.NodeSdk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The dashboard in a real headless Chromium (Debian's {@code chromium}, driven by {@code puppeteer-core}
 * from src/test/node/dashboard.mjs): on the shipped config/sluice.yaml (two simulated backends, the admin
 * API open to loopback) the page shows both backends, follows a drain made through the admin API, and
 * enables the backend again with its own button; with loopback trust off, an operator signs in through
 * the form and drains with the page's button (session cookie plus CSRF header). Every wait is on a page
 * condition. {@code SLUICE_DASHBOARD_SCREENSHOT=docs/images/dashboard.png} (relative to the repository)
 * also writes a screenshot of the first page while it shows the drained backend.
 */
class DashboardBrowserTest {
    static final String TOKEN = "dashboard-browser-token-0123456789";

    @RegisterExtension
    static final SluiceExtension shipped = SluiceExtension.builder()
            .configFile(Path.of("../config/sluice.yaml"))
            .env("SLUICE_PORT", "0")
            .build();

    @RegisterExtension
    static final SluiceExtension signIn = SluiceExtension.builder()
            .yaml("""
                    listeners:
                      - { host: 127.0.0.1, port: 0, routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true } ] }
                    admin: { token: "%s", loopback-without-token: false }
                    pools:
                      vllm:
                        backends:
                          - { name: gpu-a, simulator: { model: demo, ttft: 5ms, itl: 5ms } }
                          - { name: gpu-b, simulator: { model: demo, ttft: 5ms, itl: 5ms } }
                    """.formatted(TOKEN))
            .build();

    private static String chromium;

    @BeforeAll
    static void tools() {
        NodeSdk.assumeAvailable();
        chromium = chromium();
    }

    /** Debian's chromium (bin/test installs it); skipped without it, except under CI, where that fails. */
    static String chromium() {
        List<Path> candidates = new ArrayList<>();
        String env = System.getenv("CHROMIUM");
        if (env != null && !env.isBlank()) {
            candidates.add(Path.of(env));
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(java.io.File.pathSeparator)) {
            candidates.add(Path.of(dir, "chromium"));
        }
        for (Path p : candidates) {
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        String why = "no chromium executable (apt-get install chromium; bin/test does)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail("the dashboard browser tests cannot run under CI: " + why);
        }
        System.err.println("dashboard browser tests skipped: " + why);
        Assumptions.abort(why);
        return null;
    }

    private static JsonNode browse(SluiceExtension s, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(extra);
        env.put("BASE_URL", "http://127.0.0.1:" + s.port());
        env.put("CHROMIUM", chromium);
        NodeSdk.Result r = NodeSdk.run("dashboard.mjs", env, Duration.ofSeconds(25));
        assertTrue(r.ok(), r.toString());
        JsonNode out = r.json();
        assertEquals(0, out.path("csp_violations").size(), "the page breaks its own CSP: " + out);
        assertEquals(0, out.path("console_errors").size(), "errors in the page: " + out);
        return out;
    }

    private static List<Backend> backends(SluiceExtension s) {
        return s.server().upstreams().pool("vllm").backends();
    }

    @Test
    void theShippedConfigsPageShowsBothBackendsAndFollowsADrain() throws Exception {
        List<Backend> backends = backends(shipped);
        assertEquals(2, backends.size());
        String drained = backends.get(1).id();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> load = traffic(shipped.port(), stop);
        try {
            Map<String, String> env = new HashMap<>(Map.of("BACKEND", drained, "DRAIN_VIA", "api"));
            String shot = System.getenv("SLUICE_DASHBOARD_SCREENSHOT");
            if (shot != null && !shot.isBlank()) {
                Path p = Path.of(shot).isAbsolute() ? Path.of(shot) : Path.of("..").resolve(shot).toAbsolutePath().normalize();
                Files.createDirectories(p.getParent());
                env.put("SCREENSHOT", p.toString());
            }
            JsonNode out = browse(shipped, env);
            List<String> shown = new ArrayList<>();
            out.path("backends").forEach(b -> shown.add(b.path("id").asText()));
            assertEquals(backends.stream().map(Backend::id).toList(), shown, out.toString());
            out.path("backends").forEach(b -> assertFalse(b.path("draining").asBoolean(), "none drained when the page opened"));
            assertTrue(out.path("drained_shown").asBoolean());
            assertTrue(out.path("enabled_shown").asBoolean());
            assertTrue(out.path("action_error").isNull(), out.toString());
        } finally {
            stop.set(true);
            for (Thread t : load) {
                t.join(10_000);
            }
        }
        assertFalse(backends.get(1).isDraining(), "the page's Enable button put it back");
    }

    @Test
    void anOperatorSignsInAndDrainsWithThePagesButton() {
        List<Backend> backends = backends(signIn);
        JsonNode out = browse(signIn, Map.of("BACKEND", "gpu-a", "DRAIN_VIA", "button", "TOKEN", TOKEN));
        assertEquals("/api/ui/login", out.path("login_shown").asText(), "without a session the page sends the browser to sign in");
        assertEquals(2, out.path("backends").size(), out.toString());
        assertTrue(out.path("drained_shown").asBoolean());
        assertTrue(out.path("enabled_shown").asBoolean());
        assertFalse(backends.get(0).isDraining());
    }

    /** A few streams, one after another on each of three threads, so the page has numbers to show; and one gateway error. */
    private static List<Thread> traffic(int port, AtomicBoolean stop) throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.get("/no-such-route").exchange(); // a gateway error for the errors table
        }
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Thread t = new Thread(() -> {
                while (!stop.get()) {
                    try (RawHttp c = new RawHttp(port)) {
                        c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 24)).exchange();
                    } catch (Exception e) {
                        return;
                    }
                }
            }, "dashboard-load-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        return threads;
    }
}
