package io.sluice.bench.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.backend.Backend;
import io.sluice.core.balance.BalancePolicies;
import io.sluice.core.config.ConfigLoader;
import io.sluice.core.config.Durations;
import io.sluice.core.http.Json;
import io.sluice.core.pool.BackendPool;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Issue 14's routing benchmark ({@code bin/bench routing}): for each workload and balance policy, four
 * in-process vLLM simulators behind an in-process Sluice with one pool, a short warm-up, then a bounded
 * closed loop of streaming chat completions over loopback sockets. Measures client-side TTFT, throughput,
 * the simulators' prefix-cache hit rate (from their own {@code /metrics}, so no Java API of theirs is
 * needed) and load imbalance (max / mean of the backends' in-flight requests, sampled every 25 ms).
 * Writes {@code routing.json}, {@code routing-ttft.png} and {@code routing.md}; see docs/BENCHMARKS.md.
 */
public final class RoutingBench {
    static final int BACKENDS = 4;
    static final String POOL = "vllm";
    static final double FIRST_RUN_EXTRA_WARMUP_S = 5;
    private static boolean jitWarm;

    /** What to run; parsed from the command line by {@link #parse}. */
    record Options(List<String> workloads, List<String> policies, double seconds, double warmupSeconds, int users,
                   int tenants, int maxTokens, long maxRequests, String simFlags, Path out, boolean merge, long seed) {
    }

    /** One workload × policy: the figures of routing.json, plus the TTFT samples for the plot. */
    record Run(String workload, String policy, Map<String, Object> figures, List<ClosedLoop.Sample> samples) {
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }
        run(o);
        System.exit(0); // Sluice's and the simulators' threads are shut down; any straggler must not hold the JVM
    }

    static String usage() {
        return """
                usage: bin/bench routing [--policies a,b] [--workloads prefix-heavy,no-prefix,hot-tenant] [--duration 20s]
                                         [--warmup 3s] [--users 32] [--tenants 24] [--max-tokens 24] [--max-requests N]
                                         [--sim key=value,...] [--out benchmarks/results] [--merge] [--seed N]
                  --policies  default: every balancer this build has (%s)
                  --sim       simulator settings over the defaults %s
                  --merge     keep the other workloads' and policies' entries of an existing routing.json
                """.formatted(String.join(",", BalancePolicies.names()), SimulatorFlags.DEFAULTS);
    }

    static Options parse(String[] args) {
        List<String> workloads = Workload.NAMES;
        List<String> policies = BalancePolicies.names();
        double seconds = 20;
        double warmup = 3;
        int users = 32;
        int tenants = 24;
        int maxTokens = 24;
        long maxRequests = 1_000_000;
        String sim = "";
        Path out = Path.of("benchmarks/results");
        boolean merge = false;
        long seed = 14;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--merge")) {
                merge = true;
                continue;
            }
            if (a.equals("-h") || a.equals("--help")) {
                throw new IllegalArgumentException("");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--policies" -> policies = list(v);
                case "--workloads" -> workloads = list(v);
                case "--duration" -> seconds = seconds(v);
                case "--warmup" -> warmup = seconds(v);
                case "--users" -> users = Integer.parseInt(v);
                case "--tenants" -> tenants = Integer.parseInt(v);
                case "--max-tokens" -> maxTokens = Integer.parseInt(v);
                case "--max-requests" -> maxRequests = Long.parseLong(v);
                case "--sim" -> sim = v;
                case "--out" -> out = Path.of(v);
                case "--seed" -> seed = Long.parseLong(v);
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        for (String w : workloads) {
            if (!Workload.NAMES.contains(w)) {
                throw new IllegalArgumentException("workload '" + w + "' is not one of " + Workload.NAMES);
            }
        }
        if (seconds > 40) {
            throw new IllegalArgumentException("--duration is at most 40s per workload and policy (bin/bench routing must fit in 10 minutes)");
        }
        if (users < 1 || tenants < 2 || seconds <= 0 || maxTokens < 1) {
            throw new IllegalArgumentException("--users >= 1, --tenants >= 2, --duration > 0, --max-tokens >= 1");
        }
        new SimulatorFlags(sim); // fails early on a malformed flag
        return new Options(workloads, policies, seconds, warmup, users, tenants, maxTokens, maxRequests, sim, out, merge, seed);
    }

    private static List<String> list(String v) {
        return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static double seconds(String v) {
        return v.matches("\\d+(\\.\\d+)?") ? Double.parseDouble(v) : Durations.parse(v).toMillis() / 1000.0;
    }

    /** Runs every workload × policy of {@code o} and writes the results; returns routing.json's content. */
    static ObjectNode run(Options o) throws Exception {
        Files.createDirectories(o.out());
        Path json = o.out().resolve("routing.json");
        ObjectNode root = o.merge() && Files.exists(json) ? (ObjectNode) Json.MAPPER.readTree(json.toFile())
                : Json.MAPPER.createObjectNode();
        SimulatorFlags flags = new SimulatorFlags(o.simFlags());
        List<String> skipped = new ArrayList<>();
        List<Run> runs = new ArrayList<>();
        boolean prefixMetrics = false;
        try (ClosedLoop loop = new ClosedLoop(1)) {
            for (String workload : o.workloads()) {
                for (String policy : o.policies()) {
                    if (!BalancePolicies.names().contains(policy)) {
                        System.out.printf("skipping %s: balancer '%s' is not in this build (%s)%n", workload, policy,
                                BalancePolicies.names());
                        if (!skipped.contains(policy)) {
                            skipped.add(policy);
                        }
                        continue;
                    }
                    Run r = runOne(o, flags, loop, workload, policy);
                    prefixMetrics |= r.figures().get("prefix_hit_rate") != null;
                    runs.add(r);
                    ObjectNode w = root.has(workload) ? (ObjectNode) root.get(workload) : root.putObject(workload);
                    w.set(policy, Json.MAPPER.valueToTree(r.figures()));
                    System.out.printf(Locale.ROOT, "%-12s %-18s %s%n", workload, policy, r.figures());
                }
            }
        }
        ObjectNode meta = root.putObject("_metadata");
        meta.put("benchmark", "routing (issue 14)");
        meta.put("finished_at", Instant.now().toString());
        meta.put("cores", Runtime.getRuntime().availableProcessors());
        meta.put("java", System.getProperty("java.version"));
        meta.put("backends", BACKENDS);
        meta.put("duration_s", o.seconds());
        meta.put("warmup_s", o.warmupSeconds());
        meta.put("first_run_extra_warmup_s", o.warmupSeconds() == 0 ? 0 : FIRST_RUN_EXTRA_WARMUP_S);
        meta.put("users", o.users());
        meta.put("load", "closed loop: each user sends its next streaming chat completion when the previous one ends");
        meta.put("tenants", o.tenants());
        meta.put("max_tokens", o.maxTokens());
        meta.set("simulator", Json.MAPPER.valueToTree(flags.values()));
        meta.set("simulator_flags_ignored", Json.MAPPER.valueToTree(flags.ignored()));
        meta.put("prefix_cache_metrics", prefixMetrics);
        meta.set("policies_skipped", Json.MAPPER.valueToTree(skipped));
        meta.put("inflight_sample_interval_ms", 25);
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(json.toFile(), root);
        String table = markdown(root);
        Files.writeString(o.out().resolve("routing.md"), table);
        String plotted = runs.stream().anyMatch(r -> r.workload().equals("prefix-heavy")) ? "prefix-heavy"
                : runs.isEmpty() ? null : runs.get(0).workload();
        if (plotted != null) {
            Map<String, List<ClosedLoop.Sample>> series = new LinkedHashMap<>();
            for (Run r : runs) {
                if (r.workload().equals(plotted)) {
                    series.put(r.policy(), r.samples());
                }
            }
            TtftPlot.write(o.out().resolve("routing-ttft.png"), "TTFT over time, " + plotted + " (mean per second)", series,
                    o.seconds());
        }
        System.out.println();
        System.out.print(table);
        if (!flags.ignored().isEmpty()) {
            System.out.println("simulator flags this build does not have yet (ignored): " + flags.ignored());
        }
        System.out.println("results in " + json + ", " + o.out().resolve("routing-ttft.png") + ", " + o.out().resolve("routing.md"));
        return root;
    }

    private static Run runOne(Options o, SimulatorFlags flags, ClosedLoop loop, String workload, String policy) throws Exception {
        List<VllmSimulator> sims = new ArrayList<>();
        SluiceServer server = null;
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "inflight-sampler");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int i = 0; i < BACKENDS; i++) {
                SimulatorOptions.Builder b = SimulatorOptions.builder().host("127.0.0.1").port(0).model("demo").ioThreads(1);
                sims.add(VllmSimulator.start(flags.apply(b).build()));
            }
            StringBuilder backends = new StringBuilder();
            for (VllmSimulator s : sims) {
                backends.append(backends.length() == 0 ? "" : ", ").append("{ url: \"").append(s.baseUrl()).append("\" }");
            }
            String yaml = """
                    server: { shutdown-grace: 1s }
                    listeners:
                      - { port: 0, host: 127.0.0.1, header-timeout: 60s, routes: [ { path: /, pool: %s } ] }
                    pools:
                      %s:
                        balancer: %s
                        max-idle-per-backend: 256
                        backends: [ %s ]
                    """.formatted(POOL, POOL, policy, backends);
            server = SluiceServer.start(ConfigLoader.parse(yaml, "routing-bench", System::getenv));
            int port = server.port();
            List<Backend> pool = pool(server).backends();
            // Same seed for every policy: each sees the same conversations in the same order per user.
            Workload load = new Workload(workload, o.users(), o.tenants(), o.maxTokens(), o.seed());
            // The JVM's first run also warms up the JIT of the client, Sluice and the simulators (they share the
            // JVM): without the extra seconds the first policy measured pays for it (40 ms TTFT in its first second).
            double warmup = o.warmupSeconds() + (jitWarm || o.warmupSeconds() == 0 ? 0 : FIRST_RUN_EXTRA_WARMUP_S);
            jitWarm = true;
            if (warmup > 0) {
                loop.run(load, port, o.users(), warmup, o.maxRequests());
            }
            long[] before = prefixCounters(sims);
            long[] requestsBefore = sims.stream().mapToLong(VllmSimulator::requestsTotal).toArray();
            Imbalance imbalance = new Imbalance(pool, sims);
            var sampling = sampler.scheduleAtFixedRate(imbalance::sample, 25, 25, TimeUnit.MILLISECONDS);
            ClosedLoop.Result r = loop.run(load, port, o.users(), o.seconds(), o.maxRequests());
            sampling.cancel(false);
            long[] after = prefixCounters(sims);
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("mean_ttft_ms", round(r.ttftMicros().getTotalCount() == 0 ? 0 : r.ttftMicros().getMean() / 1000.0));
            f.put("p50_ttft_ms", round(r.ttftMicros().getValueAtPercentile(50) / 1000.0));
            f.put("p99_ttft_ms", round(r.ttftMicros().getValueAtPercentile(99) / 1000.0));
            long queries = after[0] - before[0];
            long hits = after[1] - before[1];
            f.put("prefix_hit_rate", after[0] < 0 || queries <= 0 ? null : round((double) hits / queries));
            f.put("throughput_rps", round(r.completed() / r.seconds()));
            f.put("max_over_mean_inflight", round(imbalance.maxOverMean()));
            f.put("max_over_mean_avg_inflight", round(imbalance.maxOverMeanOfAverages()));
            f.put("queued_while_idle_share", round(imbalance.queuedWhileIdleShare()));
            f.put("requests", r.completed());
            f.put("errors", r.errors());
            if (!r.errorKinds().isEmpty()) {
                f.put("error_kinds", r.errorKinds().toString());
            }
            List<Long> perBackend = new ArrayList<>();
            for (int i = 0; i < sims.size(); i++) {
                perBackend.add(sims.get(i).requestsTotal() - requestsBefore[i]);
            }
            f.put("requests_per_backend", perBackend);
            f.put("seconds", round(r.seconds()));
            List<ClosedLoop.Sample> samples = new ArrayList<>(r.samples());
            return new Run(workload, policy, f, samples);
        } finally {
            sampler.shutdownNow();
            if (server != null) {
                server.close();
            }
            for (VllmSimulator s : sims) {
                s.close();
            }
        }
    }

    private static BackendPool pool(SluiceServer server) {
        for (BackendPool p : server.pools()) {
            if (p.name().equals(POOL)) {
                return p;
            }
        }
        throw new IllegalStateException("no pool " + POOL);
    }

    /**
     * Sums {@code vllm:prefix_cache_queries} and {@code vllm:prefix_cache_hits} (tokens, as vLLM counts
     * them) over the simulators' {@code /metrics}; {@code {-1, -1}} when a simulator does not publish them.
     */
    static long[] prefixCounters(List<VllmSimulator> sims) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        long queries = 0;
        long hits = 0;
        for (VllmSimulator s : sims) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            double q = metric(r.body(), "vllm:prefix_cache_queries");
            double h = metric(r.body(), "vllm:prefix_cache_hits");
            if (q < 0 || h < 0) {
                return new long[] {-1, -1};
            }
            queries += (long) q;
            hits += (long) h;
        }
        return new long[] {queries, hits};
    }

    /** The sum over label sets of a counter in Prometheus text format (with or without {@code _total}); -1 if absent. */
    static double metric(String text, String name) {
        double sum = 0;
        boolean found = false;
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int end = line.indexOf('{');
            int space = line.indexOf(' ');
            String metric = line.substring(0, end >= 0 && end < space ? end : Math.max(space, 0)).trim();
            if (metric.equals(name) || metric.equals(name + "_total")) {
                String[] parts = line.substring(line.lastIndexOf('}') + 1).trim().split("\\s+");
                try {
                    sum += Double.parseDouble(parts[0]);
                    found = true;
                } catch (NumberFormatException ignored) {
                    // not a sample line
                }
            }
        }
        return found ? sum : -1;
    }

    /**
     * Load imbalance over the measured phase, from Sluice's own in-flight count per backend: the mean over
     * samples of max / mean (samples with nothing in flight skipped; 1.0 is perfect balance, 4.0 all on
     * one of four), the same for the per-backend averages over the whole phase, and the share of samples
     * in which a simulator queued requests while another had none running (issue 14's "death spiral").
     */
    static final class Imbalance {
        private final List<Backend> backends;
        private final List<VllmSimulator> sims;
        private final long[] inFlightSums;
        private double ratioSum;
        private long ratioSamples;
        private long samples;
        private long queuedWhileIdle;

        Imbalance(List<Backend> backends, List<VllmSimulator> sims) {
            this.backends = backends;
            this.sims = sims;
            this.inFlightSums = new long[backends.size()];
        }

        synchronized void sample() {
            int max = 0;
            long total = 0;
            for (int i = 0; i < backends.size(); i++) {
                int n = backends.get(i).inFlight();
                inFlightSums[i] += n;
                max = Math.max(max, n);
                total += n;
            }
            samples++;
            if (total > 0) {
                ratioSum += max / ((double) total / backends.size());
                ratioSamples++;
            }
            boolean queued = false;
            boolean idle = false;
            for (VllmSimulator s : sims) {
                queued |= s.waiting() > 0;
                idle |= s.running() == 0 && s.waiting() == 0;
            }
            if (queued && idle) {
                queuedWhileIdle++;
            }
        }

        synchronized double maxOverMean() {
            return ratioSamples == 0 ? 0 : ratioSum / ratioSamples;
        }

        synchronized double maxOverMeanOfAverages() {
            long max = Arrays.stream(inFlightSums).max().orElse(0);
            double mean = Arrays.stream(inFlightSums).average().orElse(0);
            return mean == 0 ? 0 : max / mean;
        }

        synchronized double queuedWhileIdleShare() {
            return samples == 0 ? 0 : (double) queuedWhileIdle / samples;
        }
    }

    /** The table for docs/BENCHMARKS.md, one row per workload and policy. */
    static String markdown(JsonNode root) {
        StringBuilder b = new StringBuilder();
        b.append("| workload | policy | mean TTFT ms | p99 TTFT ms | prefix hit rate | throughput req/s | max/mean in-flight"
                + " | queued while idle | errors |\n");
        b.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        root.fields().forEachRemaining(w -> {
            if (w.getKey().startsWith("_")) {
                return;
            }
            w.getValue().fields().forEachRemaining(p -> {
                JsonNode f = p.getValue();
                JsonNode hit = f.get("prefix_hit_rate");
                b.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f | %s | %.1f | %.2f | %.1f %% | %d |%n", w.getKey(),
                        p.getKey(), f.path("mean_ttft_ms").asDouble(), f.path("p99_ttft_ms").asDouble(),
                        hit == null || hit.isNull() ? "n/a" : String.format(Locale.ROOT, "%.0f %%", hit.asDouble() * 100),
                        f.path("throughput_rps").asDouble(), f.path("max_over_mean_inflight").asDouble(),
                        f.path("queued_while_idle_share").asDouble() * 100, f.path("errors").asLong()));
            });
        });
        return b.toString();
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
