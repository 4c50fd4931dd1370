package io.sluice.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.sluice.core.net.Transport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.HdrHistogram.Histogram;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Sluice measured over real loopback sockets against the same backends reached directly, in the same
 * run with the same client. {@code @Setup} starts Sluice and two simulated vLLM backends as processes;
 * JMH then runs each scenario once (single shot): the load comes from the Netty clients, and the
 * figures, written to {@code benchmarks/results/<scenario>.json}, are theirs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(1)
public class ProxyBenchmarks {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Param("64")
    int connections;
    @Param("4")
    double seconds;
    @Param("3")
    int rounds;
    /** Event-loop threads of the request/response client. */
    @Param("2")
    int clientThreads;
    /**
     * Seconds of load through Sluice before measuring, so that the figures are a warm JVM's (C2 needs
     * several seconds of traffic on 2 cores). 0 measures a cold one, as peers.sh does.
     */
    @Param("15")
    double warmup;
    /** Streams x chunks @ inter-token gap, as {@code peers.sh}'s S2_RUNS: "1000x50@20ms". */
    @Param("1000x50@20ms")
    String load;
    @Param("2000")
    int idleConnections;
    /** HTTP/2 connections and streams in flight on each, as peers.sh's S5 ({@code h2load -c16 -m32}). */
    @Param("16")
    int h2Connections;
    @Param("32")
    int h2Streams;

    /** Sluice and its two simulated backends, started for each trial (one benchmark, one parameter set). */
    Fixture fixture;

    @Setup(Level.Trial)
    public void startProcesses(BenchmarkParams params) throws Exception {
        start(params.getBenchmark());
    }

    /** Starts the processes the benchmark method named at the end of {@code benchmark} measures. */
    void start(String benchmark) throws Exception {
        if (benchmark.endsWith("streaming")) {
            fixture = new Fixture(Load.parse(load).itl(), "0ms", Fixture.STREAMING_JAVA_OPTS);
        } else if (benchmark.endsWith("tlsHandshakes") || benchmark.endsWith("http2Streams")) {
            fixture = new Fixture("1ms", "0ms", Fixture.JAVA_OPTS, true);
        } else {
            fixture = new Fixture("1ms", "0ms");
        }
    }

    @TearDown(Level.Trial)
    public void stopProcesses() {
        if (fixture != null) {
            fixture.close();
            fixture = null;
        }
    }

    /** Streams x chunks @ inter-token gap. */
    record Load(int streams, int tokens, String itl) {
        static Load parse(String text) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)x(\\d+)@(\\w+)").matcher(text);
            if (!m.matches()) {
                throw new IllegalArgumentException("load must look like 1000x50@20ms, not " + text);
            }
            return new Load(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), m.group(3));
        }
    }

    /** Small requests: throughput, latency and Sluice's CPU per request, via Sluice and direct. */
    @Benchmark
    public Map<String, Object> requestResponse() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        Fixture f = fixture;
        try (LoadClient client = new LoadClient(clientThreads)) {
            // Direct spreads the same connections over both simulators, as Sluice does.
            client.run(f.simPorts, "/v1/models", connections, warmup, 0); // warm-up: JITs, pools
            client.run(f.sluicePort, "/v1/models", connections, warmup, 0);
            List<Double> ratios = new ArrayList<>();
            List<Map<String, Object>> runs = new ArrayList<>();
            double directBest = 0;
            double viaBest = 0;
            for (int r = 0; r < rounds; r++) {
                LoadClient.Result direct = client.run(f.simPorts, "/v1/models", connections, seconds, 0);
                long cpu0 = Fixture.cpuMillis(f.sluice);
                LoadClient.Result via = client.run(f.sluicePort, "/v1/models", connections, seconds, 0);
                long cpu = Fixture.cpuMillis(f.sluice) - cpu0;
                ratios.add(via.throughput() / direct.throughput());
                directBest = Math.max(directBest, direct.throughput());
                viaBest = Math.max(viaBest, via.throughput());
                Map<String, Object> run = new LinkedHashMap<>();
                run.put("direct", summary(direct));
                run.put("sluice", summary(via));
                run.put("sluice_cpu_us_per_request", via.requests() == 0 ? -1 : cpu * 1000.0 / via.requests());
                runs.add(run);
            }
            // Open loop at half the lower of the two maxima, a rate both paths sustain: latency without
            // coordinated omission.
            double rate = Math.min(directBest, viaBest) / 2;
            out.put("sluice_java_opts", f.sluiceJavaOpts);
            out.put("warmup_seconds", warmup);
            out.put("closed_loop_rounds", runs);
            out.put("throughput_ratio_median", median(ratios));
            out.put("open_loop_rate_per_s", Math.round(rate));
            out.put("open_loop_direct", summary(client.run(f.simPorts, "/v1/models", connections, seconds, rate)));
            out.put("open_loop_sluice", summary(client.run(f.sluicePort, "/v1/models", connections, seconds, rate)));
        }
        write("request-response", out);
        return out;
    }

    /**
     * One client, one connection, one request at a time against a fast backend: the latency Sluice adds
     * to each request when nothing else runs (the issue 17 target "sequential overhead"), direct and
     * through Sluice in alternating rounds, after {@code warmup} seconds of parallel load through Sluice.
     */
    @Benchmark
    public Map<String, Object> sequential() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        Fixture f = fixture;
        try (LoadClient client = new LoadClient(1)) {
            client.run(f.simPorts[0], "/v1/models", 1, Math.min(warmup, 2), 0);
            client.run(f.sluicePort, "/v1/models", connections, warmup, 0); // JIT and pools, as in requestResponse
            List<Double> added = new ArrayList<>();
            List<Map<String, Object>> runs = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                LoadClient.Result direct = client.run(f.simPorts[0], "/v1/models", 1, seconds, 0);
                long cpu0 = Fixture.cpuMillis(f.sluice);
                LoadClient.Result via = client.run(f.sluicePort, "/v1/models", 1, seconds, 0);
                long cpu = Fixture.cpuMillis(f.sluice) - cpu0;
                double addedP50 = via.latencyMicros().getValueAtPercentile(50) - direct.latencyMicros().getValueAtPercentile(50);
                added.add(addedP50);
                Map<String, Object> run = new LinkedHashMap<>();
                run.put("direct", summary(direct));
                run.put("sluice", summary(via));
                run.put("added_latency_p50_us", addedP50);
                run.put("sluice_cpu_us_per_request", via.requests() == 0 ? -1 : cpu * 1000.0 / via.requests());
                runs.add(run);
            }
            out.put("sluice_java_opts", f.sluiceJavaOpts);
            out.put("warmup_seconds", warmup);
            out.put("rounds", runs);
            out.put("added_latency_p50_us_median", median(added));
        }
        write("sequential", out);
        return out;
    }

    /**
     * peers.sh's S4: every request on a new TLS 1.3 connection ({@code connections} at once), so each
     * costs Sluice a full handshake plus a proxied request. Rate, latency from connect, Sluice's CPU per
     * request, per round, after {@code warmup} seconds of the same load.
     */
    @Benchmark
    public Map<String, Object> tlsHandshakes() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        Fixture f = fixture;
        try (TlsClient client = new TlsClient(clientThreads)) {
            if (warmup > 0) {
                client.run(f.tlsPort, "/v1/models", connections, warmup);
            }
            List<Map<String, Object>> runs = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                long cpu0 = Fixture.cpuMillis(f.sluice);
                TlsClient.Result via = client.run(f.tlsPort, "/v1/models", connections, seconds);
                long cpu = Fixture.cpuMillis(f.sluice) - cpu0;
                Map<String, Object> run = new LinkedHashMap<>();
                run.put("requests", via.requests());
                run.put("errors", via.errors());
                run.put("throughput_per_s", Math.round(via.throughput()));
                run.putAll(percentiles("latency_us", via.latencyMicros()));
                run.put("sluice_cpu_us_per_request", via.requests() == 0 ? -1 : cpu * 1000.0 / via.requests());
                runs.add(run);
            }
            out.put("sluice_java_opts", f.sluiceJavaOpts);
            out.put("warmup_seconds", warmup);
            out.put("concurrency", connections);
            out.put("tls", "TLSv1.3, ECDSA P-256, no resumption, client " + (io.netty.handler.ssl.OpenSsl.isAvailable() ? "BoringSSL" : "JDK"));
            out.put("rounds", runs);
        }
        write("tls-handshakes-warmup" + Math.round(warmup) + "s", out);
        return out;
    }

    /**
     * peers.sh's S5: HTTP/2 over TLS from {@code h2load} (nghttp2's load client, as peers.sh uses),
     * {@code h2Connections} connections with {@code h2Streams} streams in flight each, GET /v1/models.
     * Rate and Sluice's CPU per request, per round, after {@code warmup} seconds of the same load.
     */
    @Benchmark
    public Map<String, Object> http2Streams() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        Fixture f = fixture;
        String url = "https://127.0.0.1:" + f.tlsPort + "/v1/models";
        if (warmup > 0) {
            H2load.run(url, h2Connections, h2Streams, warmup);
        }
        List<Map<String, Object>> runs = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            long cpu0 = Fixture.cpuMillis(f.sluice);
            H2load.Result via = H2load.run(url, h2Connections, h2Streams, seconds);
            long cpu = Fixture.cpuMillis(f.sluice) - cpu0;
            Map<String, Object> run = new LinkedHashMap<>();
            run.put("requests", via.succeeded());
            run.put("errors", via.failed() + via.errored() + via.timeout());
            run.put("throughput_per_s", Math.round(via.succeeded() / via.seconds()));
            run.put("sluice_cpu_us_per_request", via.succeeded() == 0 ? -1 : cpu * 1000.0 / via.succeeded());
            runs.add(run);
        }
        out.put("sluice_java_opts", f.sluiceJavaOpts);
        out.put("warmup_seconds", warmup);
        out.put("client", "h2load -t1 -c" + h2Connections + " -m" + h2Streams);
        out.put("rounds", runs);
        write("http2-streams-warmup" + Math.round(warmup) + "s", out);
        return out;
    }

    /** K concurrent SSE streams: time to first chunk and chunk gaps added by Sluice, and errors. */
    @Benchmark
    public Map<String, Object> streaming() throws Exception {
        Load l = Load.parse(load);
        int streams = l.streams();
        int tokens = l.tokens();
        String itl = l.itl();
        Map<String, Object> out = new LinkedHashMap<>();
        Fixture f = fixture;
        try (SseClient client = new SseClient(2)) {
            int warmStreams = Math.min(streams, 1000);
            client.run(f.simPorts, warmStreams, Math.min(tokens, 5), 3000, 60); // warm-up: JITs, pools
            long warmUntil = System.nanoTime() + (long) (warmup * 1e9);
            do {
                client.run(new int[] {f.sluicePort}, warmStreams, Math.min(tokens, 20), 3000, 60);
            } while (System.nanoTime() < warmUntil);
            double timeout = 60 + tokens * parseMillis(itl) / 1000.0 + streams / 1000.0;
            SseClient.Result direct = client.run(f.simPorts, streams, tokens, 3000, timeout);
            long cpu0 = Fixture.cpuMillis(f.sluice);
            SseClient.Result via = client.run(new int[] {f.sluicePort}, streams, tokens, 3000, timeout);
            long cpu = Fixture.cpuMillis(f.sluice) - cpu0;
            out.put("streams", streams);
            out.put("tokens", tokens);
            out.put("itl", itl);
            out.put("open_per_second", 3000);
            out.put("sluice_java_opts", f.sluiceJavaOpts);
            out.put("warmup_seconds", warmup);
            out.put("direct", summary(direct));
            out.put("sluice", summary(via));
            out.put("sluice_cpu_ms_per_1k_events", via.events() == 0 ? -1 : cpu * 1000.0 / via.events());
            out.put("added_ttfc_p50_ms", (via.ttfcMicros().getValueAtPercentile(50) - direct.ttfcMicros().getValueAtPercentile(50)) / 1000.0);
            out.put("added_gap_p99_ms", (via.gapMicros().getValueAtPercentile(99) - direct.gapMicros().getValueAtPercentile(99)) / 1000.0);
        }
        write("streaming-" + streams + "x" + tokens, out);
        return out;
    }

    /** Hold C idle keep-alive connections: how many held, Sluice's RSS and heap per connection. */
    @Benchmark
    public Map<String, Object> idleConnections() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        Transport t = Transport.select("auto");
        EventLoopGroup group = t.newGroup(2, "idle-clients");
        Fixture f = fixture;
        try (LoadClient warm = new LoadClient(1)) {
            warm.run(f.sluicePort, "/v1/models", 16, 3, 0); // warm: JIT, pools, buffers; the baseline is after this
            long rssBefore = Fixture.rssKib(f.sluice);
            long heapBefore = heapUsedKib(f.sluice);
            List<Channel> channels = new ArrayList<>();
            AtomicInteger answered = new AtomicInteger();
            CountDownLatch firstRound = new CountDownLatch(idleConnections);
            java.util.concurrent.atomic.AtomicReference<CountDownLatch> round = new java.util.concurrent.atomic.AtomicReference<>(firstRound);
            long t0 = System.nanoTime();
            for (int i = 0; i < idleConnections; i++) {
                // Spread over 127.0.0.2-9 so that the client side never runs out of ephemeral ports.
                String source = "127.0.0." + (2 + i % 8);
                Channel ch = new Bootstrap().group(group).channel(t.clientChannel())
                        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel c) {
                                c.pipeline().addLast(new HttpClientCodec(), new SimpleChannelInboundHandler<HttpObject>() {
                                    private boolean ok;

                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                                        if (msg instanceof io.netty.handler.codec.http.HttpResponse) {
                                            ok = ((io.netty.handler.codec.http.HttpResponse) msg).status().code() == 200;
                                        }
                                        if (msg instanceof LastHttpContent) {
                                            if (ok) {
                                                answered.incrementAndGet(); // only a 200 counts as answered
                                            }
                                            round.get().countDown();
                                        }
                                    }
                                });
                            }
                        })
                        .connect(new java.net.InetSocketAddress("127.0.0.1", f.sluicePort),
                                new java.net.InetSocketAddress(source, 0)).sync().channel();
                ch.writeAndFlush(get(f.sluicePort));
                channels.add(ch);
                // Bounded ramp: at most ~400 connections opened but not yet answered at any time.
                long rampDeadline = System.nanoTime() + 30_000_000_000L;
                while (i + 1 - (idleConnections - firstRound.getCount()) > 400 && System.nanoTime() < rampDeadline) {
                    Thread.sleep(1);
                }
            }
            firstRound.await(120, TimeUnit.SECONDS);
            double openSeconds = (System.nanoTime() - t0) / 1e9;
            Thread.sleep(5000); // hold
            long rssHeld = Fixture.rssKib(f.sluice);
            long heapHeld = heapUsedKib(f.sluice);
            int firstAnswers = answered.get();
            CountDownLatch secondRound = new CountDownLatch(channels.size());
            round.set(secondRound);
            int before = answered.get();
            long askDeadline = System.nanoTime() + 60_000_000_000L;
            for (int i = 0; i < channels.size(); i++) {
                channels.get(i).writeAndFlush(get(f.sluicePort)); // a closed one simply never answers
                // The same bounded pace as the ramp: 19,000 requests at once would need 19,000 upstream
                // connections, more than Sluice's 20,000 descriptors leave beside the clients.
                while (i + 1 - (channels.size() - secondRound.getCount()) > 400 && System.nanoTime() < askDeadline) {
                    Thread.sleep(1);
                }
            }
            secondRound.await(60, TimeUnit.SECONDS);
            long held = answered.get() - before;
            out.put("connections", idleConnections);
            out.put("sluice_java_opts", f.sluiceJavaOpts);
            out.put("answered_first", firstAnswers);
            out.put("held_and_answered_again", held);
            out.put("open_seconds", openSeconds);
            out.put("sluice_rss_before_kib", rssBefore);
            out.put("sluice_rss_held_kib", rssHeld);
            out.put("rss_per_connection_kib", held == 0 ? -1 : (rssHeld - rssBefore) / (double) held);
            out.put("sluice_heap_before_kib", heapBefore);
            out.put("sluice_heap_held_kib", heapHeld);
            out.put("heap_per_connection_kib", held == 0 || heapBefore < 0 ? -1 : (heapHeld - heapBefore) / (double) held);
            for (Channel ch : channels) {
                ch.close();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        write("idle-connections-" + idleConnections, out);
        return out;
    }

    private static DefaultFullHttpRequest get(int port) {
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v1/models",
                Unpooled.EMPTY_BUFFER);
        req.headers().set(HttpHeaderNames.HOST, "127.0.0.1:" + port);
        return req;
    }

    /** Used heap after a full GC, via jcmd (the JDK's own tool), in KiB; -1 when jcmd is unavailable. */
    static long heapUsedKib(Process p) {
        try {
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            run(jcmd.toString(), String.valueOf(p.pid()), "GC.run");
            String info = run(jcmd.toString(), String.valueOf(p.pid()), "GC.heap_info");
            // Sum the heap spaces' "used" (ParallelGC: PSYoungGen + ParOldGen; G1: garbage-first heap), not metaspace.
            java.util.regex.Matcher m = java.util.regex.Pattern
                    .compile("(PSYoungGen|ParOldGen|garbage-first heap|def new generation|tenured generation)[^\\n]*?used (\\d+)K")
                    .matcher(info);
            long used = 0;
            boolean found = false;
            while (m.find()) {
                used += Long.parseLong(m.group(2));
                found = true;
            }
            return found ? used : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    static Map<String, Object> summary(LoadClient.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requests", r.requests());
        m.put("errors", r.errors());
        m.put("throughput_per_s", Math.round(r.throughput()));
        m.putAll(percentiles("latency_us", r.latencyMicros()));
        return m;
    }

    static Map<String, Object> summary(SseClient.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("streams", r.streams());
        m.put("completed", r.completed());
        m.put("errors", r.errors());
        m.put("error_kinds", r.errorKinds());
        m.put("events", r.events());
        m.put("gaps_under_1ms_share", r.gaps() == 0 ? 0 : r.gapsUnder1ms() / (double) r.gaps());
        m.putAll(percentiles("ttfc_us", r.ttfcMicros()));
        m.putAll(percentiles("gap_us", r.gapMicros()));
        return m;
    }

    static Map<String, Object> percentiles(String name, Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(name + "_p50", h.getValueAtPercentile(50));
        m.put(name + "_p99", h.getValueAtPercentile(99));
        m.put(name + "_p999", h.getValueAtPercentile(99.9));
        m.put(name + "_max", h.getMaxValue());
        return m;
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        return s.get(s.size() / 2);
    }

    private static long parseMillis(String d) {
        return io.sluice.core.config.Durations.parse(d).toMillis();
    }

    private static void write(String name, Map<String, Object> result) throws Exception {
        Path dir = Fixture.ROOT.resolve("benchmarks/results");
        Files.createDirectories(dir);
        JSON.writeValue(dir.resolve(name + ".json").toFile(), result);
        System.out.println(name + ": " + JSON.writeValueAsString(result));
    }
}
