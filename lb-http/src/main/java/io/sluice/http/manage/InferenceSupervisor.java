package io.sluice.http.manage;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.admin.AdminException;
import io.sluice.admin.inference.InferenceEndpoints;
import io.sluice.admin.inference.InferenceManager;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.InferenceConfig;
import io.sluice.core.pool.BackendPool;
import io.sluice.http.pool.Upstreams;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Launches inference servers (vLLM, or the simulator: anything that serves {@code /health} on
 * {@code --port}) from {@code admin.inference.command}, one process per replica on a free loopback
 * port, and supervises them.
 *
 * <p>Each process is a backend of the configured pool from the start, out of rotation until its
 * health checks pass: {@code up} answers once all replicas are in rotation. Output is logged line
 * by line and the last lines kept for error answers. A process that exits while serving is taken
 * out of rotation at once and, if {@code restart} is on, started again on the same port after a
 * backoff that doubles up to a minute. Nothing here runs on an event loop.
 *
 * <p>It also keeps {@linkplain #services services} running: processes a provider needs (an
 * {@code auto-start} Ollama's {@code ollama serve}), outside any pool and the {@code up}/{@code down}
 * API, restarted whenever they exit (with the same backoff) and stopped with Sluice.
 */
public final class InferenceSupervisor implements InferenceManager, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InferenceSupervisor.class);
    private static final long POLL_MILLIS = 50;
    private static final long MAX_BACKOFF_MILLIS = 60_000;

    private final Supplier<InferenceConfig> config;
    private final Upstreams upstreams;
    private final RuntimeBackends backends;
    private final ScheduledExecutorService scheduler;
    private final ExecutorService blocking;
    private final Map<String, Engine> engines = new ConcurrentHashMap<>();
    private final Map<String, Engine> services = new ConcurrentHashMap<>();
    /** Replicas of {@code up}s still starting, counted against the cap with the running ones. */
    private int reserved;
    private volatile boolean closed;

    public InferenceSupervisor(Supplier<InferenceConfig> config, Upstreams upstreams, RuntimeBackends backends,
                               ScheduledExecutorService scheduler, ExecutorService blocking) {
        this.config = config;
        this.upstreams = upstreams;
        this.backends = backends;
        this.scheduler = scheduler;
        this.blocking = blocking;
    }

    /** One supervised process; fields written by the supervisor's threads, read by the admin API. */
    private final class Engine {
        final String id;
        final String model;
        final String dtype;
        final int port;
        final List<String> argv;
        final Map<String, String> env;
        final int outputLines;
        final ArrayDeque<String> tail = new ArrayDeque<>();
        volatile Backend backend;
        volatile Process process;
        volatile boolean serving;   // passed its health checks once: from then on a crash means restart
        volatile boolean stopping;
        volatile int restarts;
        long backoffMillis;

        Engine(String id, String model, String dtype, int port, InferenceConfig c) {
            this.id = id;
            this.model = model;
            this.dtype = dtype;
            this.port = port;
            this.outputLines = c.outputLines();
            this.backoffMillis = c.restartBackoff().toMillis();
            List<String> a = new ArrayList<>();
            for (String t : c.command()) {
                a.add(t.replace("{model}", model).replace("{port}", Integer.toString(port))
                        .replace("{dtype}", dtype).replace("{replica}", id));
            }
            this.argv = List.copyOf(a);
            this.env = Map.of();
        }

        /** A service: no pool, no port of its own; serving from the start, so any exit means a restart. */
        Engine(String id, Service s, InferenceConfig c) {
            this.id = id;
            this.model = null;
            this.dtype = null;
            this.port = 0;
            this.outputLines = c.outputLines();
            this.backoffMillis = c.restartBackoff().toMillis();
            this.argv = s.argv();
            this.env = s.env();
            this.serving = true;
        }

        synchronized void output(String line) {
            if (tail.size() == outputLines) {
                tail.removeFirst();
            }
            tail.addLast(line);
        }

        synchronized String lastOutput() {
            return String.join("\n", tail);
        }

        Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            Process p = process;
            m.put("id", id);
            m.put("model", model);
            m.put("dtype", dtype);
            m.put("port", port);
            m.put("pid", p == null ? null : p.pid());
            m.put("alive", p != null && p.isAlive());
            m.put("serving", backend != null && backend.isAvailable());
            m.put("restarts", restarts);
            return m;
        }
    }

    @Override
    public CompletionStage<List<Map<String, Object>>> up(String model, String dtype, int replicas) {
        InferenceConfig c = config.get();
        if (!c.enabled()) {
            throw new AdminException(HttpResponseStatus.CONFLICT, "inference_not_configured",
                    "no admin.inference section in the config: nothing to launch with");
        }
        BackendPool pool = upstreams.pool(c.pool());
        if (pool == null || !pool.config().health().enabled()) {
            throw new AdminException(HttpResponseStatus.CONFLICT, "inference_not_configured",
                    "pool '" + c.pool() + "' must exist and have health checks on (they decide when a replica serves)");
        }
        if (!InferenceEndpoints.validModel(model) || !InferenceEndpoints.DTYPES.contains(dtype)) {
            // The endpoint checks this too; here because these values become argv.
            throw new AdminException(HttpResponseStatus.BAD_REQUEST, "bad_request", "invalid model or dtype");
        }
        reserve(replicas, c.maxProcesses());
        int[] unclaimed = {replicas}; // reservations not yet turned into engines; written by the starting thread
        CompletableFuture<List<Map<String, Object>>> done = new CompletableFuture<>();
        done.whenComplete((x, e) -> unreserve(unclaimed[0])); // completes after the start loop has ended
        try {
            blocking.execute(() -> startReplicas(model, dtype, replicas, c, unclaimed, done));
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
            throw e;
        }
        return done;
    }

    /** Claims room for {@code n} more processes, or refuses with 429 (over the cap, counting those starting). */
    private synchronized void reserve(int n, int max) {
        int now = engines.size() + reserved;
        if (now + n > max) {
            throw new AdminException(HttpResponseStatus.TOO_MANY_REQUESTS, "too_many_processes",
                    n + " more replica(s) would make " + (now + n) + " supervised processes; admin.inference.max-processes is "
                            + max + " (" + now + " running or starting)");
        }
        reserved += n;
    }

    private synchronized void unreserve(int n) {
        reserved -= n;
    }

    /**
     * A reserved replica becomes an engine on a port that no backend of the pool and no other replica
     * uses, chosen and claimed under one lock: {@code up}s start on threads of their own.
     */
    private synchronized Engine claimNewEngine(String model, String dtype, InferenceConfig c) {
        int port = pickPort(InferenceSupervisor::freePort, portsInUse(c.pool()));
        Engine e = new Engine("engine-" + model.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + port, model, dtype, port, c);
        claim(e);
        return e;
    }

    /** A reserved replica becomes an engine: counted once, in {@code engines}. */
    private synchronized void claim(Engine e) {
        engines.put(e.id, e);
        reserved--;
    }

    private void startReplicas(String model, String dtype, int replicas, InferenceConfig c, int[] unclaimed,
                               CompletableFuture<List<Map<String, Object>>> done) {
        List<Engine> started = new ArrayList<>();
        try {
            for (int i = 0; i < replicas; i++) {
                Engine e = claimNewEngine(model, dtype, c);
                unclaimed[0]--;
                started.add(e);
                e.backend = backends.add(c.pool(), e.id, "127.0.0.1", e.port, 1);
                start(e);
            }
        } catch (IOException | RuntimeException ex) {
            fail(started, done, new AdminException(HttpResponseStatus.INTERNAL_SERVER_ERROR, "inference_start_failed",
                    "could not start " + redacted(c.command()) + ": " + ex.getMessage()));
            return;
        }
        awaitServing(started, System.nanoTime() + c.readyTimeout().toNanos(), done);
    }

    private void awaitServing(List<Engine> started, long deadline, CompletableFuture<List<Map<String, Object>>> done) {
        boolean all = true;
        for (Engine e : started) {
            Process p = e.process;
            if (p != null && !p.isAlive()) {
                fail(started, done, new AdminException(HttpResponseStatus.INTERNAL_SERVER_ERROR, "inference_start_failed",
                        e.id + " exited with code " + p.exitValue() + " before serving; last output:\n" + e.lastOutput()));
                return;
            }
            all &= e.backend.isAvailable();
        }
        if (all) {
            List<Map<String, Object>> out = new ArrayList<>();
            for (Engine e : started) {
                e.serving = true;
                out.add(e.describe());
            }
            log.info("inference up: {} replica(s) serving", started.size());
            done.complete(out);
            return;
        }
        if (System.nanoTime() - deadline > 0) {
            Engine e = started.get(0);
            fail(started, done, new AdminException(HttpResponseStatus.GATEWAY_TIMEOUT, "inference_start_timeout",
                    "not every replica passed its health check within the ready timeout; last output of " + e.id
                            + ":\n" + e.lastOutput()));
            return;
        }
        scheduler.schedule(() -> awaitServing(started, deadline, done), POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void fail(List<Engine> started, CompletableFuture<List<Map<String, Object>>> done, AdminException why) {
        log.warn("inference up failed: {}", why.getMessage());
        stopAll(started).whenComplete((x, e) -> done.completeExceptionally(why));
    }

    private void start(Engine e) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(e.argv).redirectErrorStream(true);
        pb.environment().putAll(e.env);
        Process p = pb.start();
        e.process = p;
        log.info("{}: started pid {}: {}", e.id, p.pid(), redacted(e.argv));
        blocking.execute(() -> pump(e, p));
        p.onExit().thenAccept(x -> exited(e, x));
    }

    /** Logs the process's output line by line and keeps the last lines. */
    private void pump(Engine e, Process p) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                e.output(line);
                log.info("[{}] {}", e.id, line);
            }
        } catch (IOException ignored) {
            // the process is gone
        }
    }

    private void exited(Engine e, Process p) {
        if (e.stopping || closed) {
            return;
        }
        Backend b = e.backend;
        log.warn("{}: process {} exited with code {}; last output:\n{}", e.id, p.pid(), p.exitValue(), e.lastOutput());
        if (b != null) {
            b.markDown("process exited with code " + p.exitValue());
        }
        if (!e.serving || !config.get().restart()) {
            return; // during up the failure is answered there; without restart it stays out of rotation
        }
        long delay = e.backoffMillis;
        e.backoffMillis = Math.min(MAX_BACKOFF_MILLIS, delay * 2);
        log.info("{}: restarting in {} ms", e.id, delay);
        scheduler.schedule(() -> blocking.execute(() -> {
            synchronized (this) { // against close(): a process started here is one close() sees and stops
                if (e.stopping || closed) {
                    return;
                }
                try {
                    e.restarts++;
                    start(e); // rejoins through its health checks
                } catch (IOException ex) {
                    log.error("{}: restart failed: {}", e.id, ex.toString());
                }
            }
        }), delay, TimeUnit.MILLISECONDS);
    }

    @Override
    public CompletionStage<List<Map<String, Object>>> down(String model) {
        List<Engine> selected = new ArrayList<>();
        for (Engine e : engines.values()) {
            if (model == null || model.equals(e.model)) {
                selected.add(e);
            }
        }
        List<Map<String, Object>> out = new ArrayList<>();
        selected.forEach(e -> out.add(e.describe()));
        return stopAll(selected).thenApply(x -> out);
    }

    /** Drain each from the pool, then stop its process; completes when all have exited. */
    private CompletableFuture<Void> stopAll(List<Engine> list) {
        List<CompletableFuture<?>> all = new ArrayList<>();
        for (Engine e : list) {
            e.stopping = true;
            CompletableFuture<?> removed = e.backend == null ? CompletableFuture.completedFuture(0)
                    : backends.remove(e.backend).toCompletableFuture();
            all.add(removed.thenCompose(x -> stop(e)));
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]));
    }

    private CompletableFuture<Void> stop(Engine e) {
        engines.remove(e.id, e);
        Process p = e.process;
        if (p == null || !p.isAlive()) {
            return CompletableFuture.completedFuture(null);
        }
        log.info("{}: stopping pid {}", e.id, p.pid());
        p.destroy(); // SIGTERM: vLLM shuts down cleanly
        return p.onExit().completeOnTimeout(p, 10, TimeUnit.SECONDS).thenAccept(x -> {
            if (x.isAlive()) {
                log.warn("{}: pid {} ignored SIGTERM for 10s; killing it", e.id, x.pid());
                x.destroyForcibly();
            }
        });
    }

    @Override
    public List<Map<String, Object>> list() {
        List<Map<String, Object>> out = new ArrayList<>();
        engines.values().forEach(e -> out.add(e.describe()));
        return out;
    }

    /**
     * The command line for logs and answers, with the value after any option that names a secret
     * ({@code --api-key}, {@code --hf-token}, …) or inside {@code --x-token=value} replaced.
     */
    static String redacted(List<String> argv) {
        StringBuilder sb = new StringBuilder();
        boolean hideNext = false;
        for (String a : argv) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            int eq = a.indexOf('=');
            String name = (eq > 0 ? a.substring(0, eq) : a).toLowerCase(java.util.Locale.ROOT);
            boolean secretName = a.startsWith("-") && SECRET.matcher(name).find();
            if (hideNext) {
                sb.append("<redacted>");
            } else if (secretName && eq > 0) {
                sb.append(a, 0, eq + 1).append("<redacted>");
            } else {
                sb.append(a);
            }
            hideNext = secretName && eq < 0;
        }
        return sb.toString();
    }

    private static final java.util.regex.Pattern SECRET = java.util.regex.Pattern.compile("key|token|secret|password|passwd");

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loopback ports the pool's backends and the supervised replicas already use. */
    private Set<Integer> portsInUse(String poolName) {
        Set<Integer> taken = new HashSet<>();
        BackendPool pool = upstreams.pool(poolName);
        if (pool != null) {
            pool.backends().forEach(b -> taken.add(b.port()));
        }
        engines.values().forEach(e -> taken.add(e.port));
        return taken;
    }

    /**
     * A free port not in {@code taken}, which it is then added to. The kernel may hand the same
     * ephemeral port out twice in a row once the probing socket is closed, and the replica before has
     * not bound it yet.
     */
    static int pickPort(IntSupplier free, Set<Integer> taken) {
        for (int attempt = 0; attempt < 64; attempt++) {
            int port = free.getAsInt();
            if (taken.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free loopback port found that is not already in use by the pool");
    }

    /**
     * A process to keep running: its command line (the executable looked up on Sluice's PATH) and the
     * variables added to its environment. Its output is logged and kept like a replica's.
     */
    public record Service(List<String> argv, Map<String, String> env) {
        public Service {
            argv = List.copyOf(argv);
            env = Map.copyOf(env);
        }
    }

    /**
     * The services that should run, by id (at start and after a reload): new ones are started, changed
     * ones restarted, others stopped. One that cannot be started is logged and left out.
     */
    public synchronized void services(Map<String, Service> wanted) {
        if (closed) {
            return;
        }
        for (Engine e : List.copyOf(services.values())) {
            Service now = wanted.get(e.id);
            if (now == null || !now.argv().equals(e.argv) || !now.env().equals(e.env)) {
                e.stopping = true;
                services.remove(e.id, e);
                stop(e);
            }
        }
        InferenceConfig c = config.get();
        wanted.forEach((id, s) -> {
            if (services.containsKey(id)) {
                return;
            }
            Engine e = new Engine(id, s, c);
            try {
                start(e);
                services.put(id, e);
            } catch (IOException ex) {
                log.error("{}: could not start {}: {}", id, redacted(s.argv()), ex.getMessage());
            }
        });
    }

    /** A service's process: pid, alive, restarts, command, its last lines of output; null when no such service runs. */
    public Map<String, Object> service(String id) {
        Engine e = services.get(id);
        if (e == null) {
            return null;
        }
        Process p = e.process;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id);
        m.put("command", redacted(e.argv));
        m.put("pid", p == null ? null : p.pid());
        m.put("alive", p != null && p.isAlive());
        m.put("restarts", e.restarts);
        m.put("last_output", e.lastOutput());
        return m;
    }

    /** Stops every process this gateway started (on shutdown). */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        List<Engine> all = new ArrayList<>(engines.values());
        all.addAll(services.values());
        for (Engine e : all) {
            e.stopping = true;
            Process p = e.process;
            if (p != null && p.isAlive()) {
                p.destroy();
            }
        }
        for (Engine e : all) {
            Process p = e.process;
            try {
                if (p != null && !p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }
}
