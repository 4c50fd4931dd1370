package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.Slf4jLogConsumer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The {@code sluice} image end to end, with Testcontainers: a gateway container and vLLM simulator
 * containers (the same image, another command), all on the host network on loopback ports, and the
 * failures only containers can make real: a backend killed, frozen ({@code docker pause}) or restarted,
 * a mounted config changed and reloaded by SIGHUP, and the gateway stopped by SIGTERM mid-stream.
 * The image is built by {@code bin/image --skip-build} from the jar this build just packaged. Without a
 * Docker daemon the tests are skipped, except under CI ({@code CI=true}), where they fail.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ContainerIT {
    private static final String IMAGE = System.getProperty("sluice.image", "sluice:latest");
    private static final Duration START = Duration.ofSeconds(60);
    private static final Duration EVENT = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<GenericContainer<?>> containers = new ArrayList<>();
    @TempDir
    Path configDir;

    /** Why the tests are skipped (no Docker outside CI), or null. Each test is skipped, not the class, so
     *  that failsafe rewrites its summary (a class aborted in @BeforeAll runs "0 tests" and leaves a stale one). */
    private static String skipped;

    @BeforeEach
    void dockerAvailable() {
        Assumptions.assumeTrue(skipped == null, () -> "container tests skipped: " + skipped);
    }

    @BeforeAll
    static void dockerAndImage() throws Exception {
        boolean docker = DockerClientFactory.instance().isDockerAvailable();
        if (!docker) {
            String why = "no Docker daemon answers (DOCKER_HOST=" + System.getenv("DOCKER_HOST")
                    + "); bin/test starts one when it runs as root with apt-get";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("the container tests must run under CI, but " + why);
            }
            System.err.println("container tests skipped: " + why);
            skipped = why;
            return;
        }
        Path root = Path.of(System.getProperty("sluice.root", ".."));
        Process build = new ProcessBuilder(root.resolve("bin/image").toString(), "--skip-build")
                .directory(root.toFile()).redirectErrorStream(true).start();
        String out = new String(build.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(build.waitFor(120, TimeUnit.SECONDS), "bin/image did not finish");
        assertEquals(0, build.exitValue(), "bin/image failed:\n" + out);
    }

    /** Every container a test started is removed, whatever state the test left it in (no Ryuk here). */
    @AfterEach
    void removeContainers() {
        containers.forEach(GenericContainer::stop);
    }

    @Test
    void backendKilledMidStreamCutsItsStreamsOnlyAndTheImageHealthCheckPasses() throws Exception {
        int s1 = freePort();
        int s2 = freePort();
        GenericContainer<?> sim1 = simulator(s1);
        GenericContainer<?> sim2 = simulator(s2);
        startAll(sim1, sim2);
        int gw = gateway(s1, s2);

        List<RawHttp> streams = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            streams.add(openStream(gw, 150)); // least connections: two on each backend
        }
        Await.until("two streams on each backend", EVENT,
                () -> inFlight(gw, s1) == 2 && inFlight(gw, s2) == 2);
        docker().killContainerCmd(sim1.getContainerId()).exec(); // SIGKILL: the process and its sockets die

        int cut = 0;
        int complete = 0;
        for (RawHttp s : streams) {
            try (s) {
                RawHttp.Body body = s.readBody(new RawHttp.Head(200, java.util.Map.of("transfer-encoding", "chunked")));
                if (body.complete() && body.text().contains("data: [DONE]")) {
                    complete++;
                } else {
                    assertFalse(body.complete(), "a cut stream has no terminating chunk");
                    assertFalse(body.text().contains("data: [DONE]"), "a cut stream must not end normally");
                    assertTrue(body.text().contains("\"error\""), "a cut stream ends with an error event: " + body.text());
                    cut++;
                }
            }
        }
        assertEquals(2, cut, "the streams on the killed backend end abnormally");
        assertEquals(2, complete, "the streams on the other backend finish");
        Await.until("the killed backend is out of rotation", EVENT, () -> !healthy(gw, s1));
        assertEquals(200, complete(gw), "new requests go to the live backend");
    }

    @Test
    void pausedBackendTimesOutIsEjectedAndRejoinsAfterUnpause() throws Exception {
        int s1 = freePort();
        int s2 = freePort();
        GenericContainer<?> sim1 = simulator(s1);
        GenericContainer<?> sim2 = simulator(s2);
        startAll(sim1, sim2);
        int gw = gateway(s1, s2);

        RawHttp a = openStream(gw, 150);
        RawHttp b = openStream(gw, 150);
        Await.until("one stream on each backend", EVENT, () -> inFlight(gw, s1) == 1 && inFlight(gw, s2) == 1);
        docker().pauseContainerCmd(sim1.getContainerId()).exec(); // frozen: connections accepted, nothing answered
        try {
            List<RawHttp.Body> bodies = List.of(readRest(a), readRest(b));
            long cut = bodies.stream().filter(x -> !x.text().contains("data: [DONE]")).count();
            assertEquals(1, cut, "the stream on the frozen backend is cut by stream-idle-timeout, the other finishes");
            assertTrue(bodies.stream().anyMatch(x -> x.text().contains("\"error\"")), "the cut stream gets an error event");
            Await.until("the frozen backend is out of rotation", EVENT, () -> !healthy(gw, s1));
            for (int i = 0; i < 3; i++) {
                assertEquals(200, complete(gw), "requests avoid the frozen backend");
            }
        } finally {
            docker().unpauseContainerCmd(sim1.getContainerId()).exec();
        }
        Await.until("the unpaused backend passes its health checks again", EVENT, () -> healthy(gw, s1));
        awaitServedBy(gw, s1);
    }

    @Test
    void restartedBackendRejoinsAfterHealthChecks() throws Exception {
        int s1 = freePort();
        int s2 = freePort();
        GenericContainer<?> sim1 = simulator(s1);
        GenericContainer<?> sim2 = simulator(s2);
        startAll(sim1, sim2);
        int gw = gateway(s1, s2);

        DockerClient docker = docker();
        docker.stopContainerCmd(sim1.getContainerId()).withTimeout(10).exec();
        Await.until("the stopped backend fails its health checks", EVENT, () -> !healthy(gw, s1));
        assertEquals(200, complete(gw), "the other backend serves meanwhile");
        docker.startContainerCmd(sim1.getContainerId()).exec();
        Await.until("the restarted backend passes its health checks", START, () -> healthy(gw, s1));
        awaitServedBy(gw, s1);
    }

    @Test
    void changedMountedConfigIsAppliedOnSighup() throws Exception {
        int s1 = freePort();
        int s2 = freePort();
        GenericContainer<?> sim1 = simulator(s1);
        GenericContainer<?> sim2 = simulator(s2);
        startAll(sim1, sim2);
        int port = freePort();
        GenericContainer<?> gw = gatewayContainer(port, s1);
        assertEquals(1, backends(port).size());

        write(config(s1, s2)); // as a ConfigMap update does: the new file replaces the old one at once
        docker().killContainerCmd(gw.getContainerId()).withSignal("HUP").exec();
        Await.until("the reload added the second backend", EVENT, () -> backends(port).size() == 2);
        Await.until("the new backend passes its health checks", EVENT, () -> healthy(port, s2));
        awaitServedBy(port, s2);
    }

    @Test
    void sigtermLetsStreamsFinishThenTheGatewayExitsZero() throws Exception {
        int s1 = freePort();
        GenericContainer<?> sim1 = simulator(s1);
        startAll(sim1);
        int port = freePort();
        GenericContainer<?> gw = gatewayContainer(port, s1);

        RawHttp a = openStream(port, 60);
        RawHttp b = openStream(port, 60);
        Await.until("both streams in flight", EVENT, () -> inFlight(port, s1) == 2);
        DockerClient docker = docker();
        CompletableFuture<Void> stop = CompletableFuture.runAsync(
                () -> docker.stopContainerCmd(gw.getContainerId()).withTimeout(30).exec()); // SIGTERM, then 30s
        for (RawHttp s : List.of(a, b)) {
            RawHttp.Body body = readRest(s);
            assertTrue(body.complete() && body.text().contains("data: [DONE]"), "a stream in progress finishes: " + body.text());
        }
        stop.get(40, TimeUnit.SECONDS);
        var state = docker.inspectContainerCmd(gw.getContainerId()).exec().getState();
        assertFalse(Boolean.TRUE.equals(state.getRunning()));
        assertEquals(0L, state.getExitCodeLong(), "a drained gateway exits 0");
    }

    // --- containers

    private GenericContainer<?> simulator(int port) {
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(IMAGE))
                .withImagePullPolicy(name -> false)
                .withNetworkMode("host")
                .withCreateContainerCmdModifier(cmd -> cmd.withEntrypoint(
                        "java", "-XX:TieredStopAtLevel=1", "-cp", "/opt/sluice/sluice.jar", "io.sluice.sim.SimulatorMain"))
                .withCommand("--host", "127.0.0.1", "--port", Integer.toString(port), "--ttft", "50ms", "--itl", "20ms",
                        "--max-tokens", "150")
                .waitingFor(Wait.forLogMessage(".*vLLM simulator listening.*\\n", 1).withStartupTimeout(START));
        containers.add(c);
        return c;
    }

    private static void startAll(GenericContainer<?>... cs) {
        CompletableFuture.allOf(java.util.Arrays.stream(cs)
                .map(c -> CompletableFuture.runAsync(c::start)).toArray(CompletableFuture[]::new)).join();
    }

    /** A gateway on a free port in front of the simulators on {@code backends}; returns its port. */
    private int gateway(int... backends) throws IOException, InterruptedException {
        int port = freePort();
        gatewayContainer(port, backends);
        return port;
    }

    /**
     * The gateway with its config directory mounted read-only at /etc/sluice, as documented; ready once the
     * image's own HEALTHCHECK passes (checked every second here instead of the image's 10s).
     */
    private GenericContainer<?> gatewayContainer(int port, int... backends) throws IOException, InterruptedException {
        Files.setPosixFilePermissions(configDir, PosixFilePermissions.fromString("rwxr-xr-x")); // uid 10001 reads it
        write(config(backends));
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(IMAGE))
                .withImagePullPolicy(name -> false)
                .withNetworkMode("host")
                .withFileSystemBind(configDir.toString(), "/etc/sluice", BindMode.READ_ONLY)
                .withEnv("SLUICE_PORT", Integer.toString(port)) // the listener's port, and the HEALTHCHECK's
                .withCreateContainerCmdModifier(cmd -> cmd.withHealthcheck(new com.github.dockerjava.api.model.HealthCheck()
                        .withInterval(Duration.ofSeconds(1).toNanos())))
                .withLogConsumer(new Slf4jLogConsumer(LoggerFactory.getLogger("gateway-container")))
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(START));
        containers.add(c);
        c.start();
        for (int b : backends) { // /api/health (the HEALTHCHECK) is 200 once one backend per pool is up
            Await.until("backend " + b + " healthy", EVENT, () -> healthy(port, b));
        }
        return c;
    }

    private void write(String yaml) throws IOException {
        Path tmp = Files.createTempFile(configDir, "sluice", ".tmp");
        Files.writeString(tmp, yaml);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(tmp, configDir.resolve("sluice.yaml"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Short timeouts so that a frozen backend is noticed within a second or two; the port comes from SLUICE_PORT. */
    private static String config(int... backends) {
        StringBuilder b = new StringBuilder();
        for (int s : backends) {
            b.append("      - url: http://127.0.0.1:").append(s).append('\n');
        }
        return "listeners:\n  - name: public\n    host: 127.0.0.1\n    port: ${SLUICE_PORT}\n"
                + "    routes:\n      - { path: /v1/, pool: vllm }\n      - { path: /api/, admin: true }\n"
                + "server: { shutdown-grace: 20s }\n"
                + "pools:\n  vllm:\n    connect-timeout: 1s\n    response-timeout: 2s\n    stream-idle-timeout: 1s\n"
                + "    outlier: { consecutive-failures: 1, ejection: 1s }\n"
                + "    health: { path: /health, interval: 1s, timeout: 800ms, rise: 2, fall: 1 }\n"
                + "    backends:\n" + b;
    }

    private static DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    // --- the gateway over real sockets

    private static RawHttp openStream(int port, int tokens) throws IOException {
        RawHttp c = new RawHttp(port);
        c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, tokens));
        RawHttp.Head head = c.readHead();
        assertEquals(200, head.status());
        assertTrue(c.readChunk() != null, "the first chunk arrives");
        return c;
    }

    private static RawHttp.Body readRest(RawHttp c) throws IOException {
        try (c) {
            return c.readBody(new RawHttp.Head(200, java.util.Map.of("transfer-encoding", "chunked")));
        }
    }

    private static int complete(int port) throws IOException {
        try (RawHttp c = new RawHttp(port)) {
            return c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 3)).exchange().head().status();
        }
    }

    /** Sends short requests until the backend on port {@code sim} has served one (least connections rotates). */
    private static void awaitServedBy(int port, int sim) throws Exception {
        long before = backend(port, sim).path("requests_total").asLong();
        Await.until("a request served by the backend on " + sim, EVENT, () -> {
            try {
                assertEquals(200, complete(port));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return backend(port, sim).path("requests_total").asLong() > before;
        });
    }

    private static List<JsonNode> backends(int port) {
        try (RawHttp c = new RawHttp(port)) {
            RawHttp.Response r = c.get("/api/v1/backends").exchange();
            List<JsonNode> out = new ArrayList<>();
            JSON.readTree(r.body().text()).path("backends").forEach(out::add);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode backend(int port, int sim) {
        return backends(port).stream().filter(b -> b.path("address").asText().endsWith(":" + sim)).findFirst()
                .orElseThrow(() -> new AssertionError("no backend on port " + sim + " in " + backends(port)));
    }

    private static boolean healthy(int port, int sim) {
        return "healthy".equals(backend(port, sim).path("state").asText());
    }

    private static long inFlight(int port, int sim) {
        return backend(port, sim).path("in_flight").asLong();
    }

    private static int freePort() {
        return FreePorts.next();
    }
}
