package io.sluice.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Two simulated vLLM backends and a Sluice in front of them, each in its own process, as in
 * production: Sluice's CPU time and RSS can then be read from /proc without the load client's, and
 * the 20,000 open-files cap per process is shared out (a proxied stream costs Sluice two sockets).
 */
public final class Fixture implements AutoCloseable {
    static final Path ROOT = Path.of(System.getProperty("sluice.root", "."));
    /**
     * Sluice's JVM flags, as {@code bench/sluice-peer.sh} sets them (see docs/BENCHMARKS.md): a small fixed
     * young generation keeps idle connections cheap; for thousands of streams the initial heap is larger,
     * so that the old generation does not have to grow by full collections while they ramp up. The
     * {@code sluice.javaOpts} property replaces both.
     */
    static final String JAVA_OPTS = "-Xms64m -Xmx1g -Xmn24m -XX:+UseParallelGC";
    static final String STREAMING_JAVA_OPTS = "-Xms256m -Xmx1g -Xmn24m -XX:+UseParallelGC";
    /** Ports this JVM has handed out: the kernel may give the same closed ephemeral port to two probes in a row. */
    private static final Set<Integer> handedOut = new HashSet<>();
    final List<Process> processes = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();
    final int[] simPorts = new int[2];
    final int sluicePort;
    /** Sluice's TLS listener (TLS 1.3 and 1.2, ALPN h2 and http/1.1, ECDSA P-256), or -1 when not asked for. */
    final int tlsPort;
    final Process sluice;
    final String sluiceJavaOpts;

    public Fixture(String itl, String ttft) throws Exception {
        this(itl, ttft, JAVA_OPTS);
    }

    public Fixture(String itl, String ttft, String javaOpts) throws Exception {
        this(itl, ttft, javaOpts, false);
    }

    /** With {@code tls}, Sluice also listens with TLS, on a certificate made for this run (see {@link #tlsPort}). */
    public Fixture(String itl, String ttft, String javaOpts, boolean tls) throws Exception {
        for (int i = 0; i < 2; i++) {
            simPorts[i] = freePort();
            processes.add(start(List.of("java", "-Xmx1g", "-jar", jar("lb-sim/target/lb-sim.jar").toString(),
                    "--port", String.valueOf(simPorts[i]), "--model", "demo", "--ttft", ttft, "--itl", itl,
                    "--max-num-seqs", "100000", "--kv-blocks", "100000000", "--io-threads", "1"), "sim-" + i));
        }
        sluicePort = freePort();
        tlsPort = tls ? freePort() : -1;
        String tlsListener = tls ? tlsListener(tlsPort) : "";
        Path config = Files.createTempFile("sluice-bench", ".yaml");
        config.toFile().deleteOnExit();
        Files.writeString(config, """
                server: { shutdown-grace: 1s }
                # No scraping: Sluice would answer GET /v1/models itself from the vLLM backends' scraped model
                # lists, and the benchmarks must measure it proxying.
                admin: { scrape-interval: 0s }
                listeners:
                  - { port: %d, host: 127.0.0.1, header-timeout: 60s, routes: [ { path: /, pool: vllm } ] }
                %s
                pools:
                  vllm:
                    max-idle-per-backend: 1024
                    backends: [ { url: "http://127.0.0.1:%d" }, { url: "http://127.0.0.1:%d" } ]
                """.formatted(sluicePort, tlsListener, simPorts[0], simPorts[1]));
        List<String> cmd = new ArrayList<>(List.of("java"));
        sluiceJavaOpts = System.getProperty("sluice.javaOpts", javaOpts).trim();
        cmd.addAll(List.of(sluiceJavaOpts.split("\\s+")));
        cmd.addAll(List.of("-jar", jar("lb-http/target/sluice.jar").toString(), "--config", config.toString()));
        sluice = start(cmd, "sluice");
        processes.add(sluice);
        int[] ports = {simPorts[0], simPorts[1], sluicePort};
        for (int i = 0; i < ports.length; i++) {
            awaitListening(processes.get(i), logs.get(i), ports[i]);
        }
        awaitAnswering(sluice, logs.get(2), sluicePort);
        if (tls) {
            awaitListening(sluice, logs.get(2), tlsPort);
        }
    }

    /**
     * A listener like {@code bench/sluice-peer.sh}'s for {@code BENCH_POOL=tls}: the certificate is an
     * ECDSA P-256 self-signed one made with openssl, as {@code peers.sh} makes its own.
     */
    private static String tlsListener(int port) throws Exception {
        Path dir = Files.createTempDirectory("sluice-bench-tls");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", key.toString(), "-out", cert.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("openssl could not make the benchmark's certificate: " + out);
        }
        for (Path f : new Path[] {cert, key, dir}) {
            f.toFile().deleteOnExit();
        }
        return "  - { name: tls, port: %d, host: 127.0.0.1, header-timeout: 60s, routes: [ { path: /, pool: vllm } ],\n"
                .formatted(port)
                + "      tls: { certificates: [ { cert: \"%s\", key: \"%s\" } ] } }".formatted(cert, key);
    }

    private static Path jar(String relative) {
        Path p = ROOT.resolve(relative);
        if (!Files.exists(p)) {
            throw new IllegalStateException(p.toAbsolutePath() + " is missing: run `mvn -DskipTests install` first");
        }
        return p;
    }

    private Process start(List<String> cmd, String name) throws IOException {
        Path log = Files.createTempFile("bench-" + name, ".log");
        logs.add(log);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // A benchmark that failed may leave JMH's fork without its @TearDown (seen once): no orphans then either.
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroy, "bench-stop-" + name));
        return p;
    }

    /**
     * A port below the kernel's ephemeral range when it is known (as the lb-http tests' {@code FreePorts}):
     * the kernel then never gives it to a socket of another process (a port-0 listener, an outgoing
     * connection's source port) between this pick and the child process's bind.
     */
    static synchronized int freePort() throws IOException {
        int ephemeralLow = ephemeralLow();
        java.util.Random random = new java.util.Random();
        for (int attempt = 0; ephemeralLow > 21000 && attempt < 256; attempt++) {
            int port = 20000 + random.nextInt(ephemeralLow - 20000);
            if (!handedOut.contains(port) && bindable(port)) {
                handedOut.add(port);
                return port;
            }
        }
        for (int attempt = 0; attempt < 64; attempt++) {
            try (ServerSocket s = new ServerSocket(0)) {
                if (handedOut.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            }
        }
        throw new IOException("no new free port in 64 attempts");
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int ephemeralLow() {
        try {
            return Integer.parseInt(Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Waits until {@code p} listens on {@code port}; fails with its log if it exits first. */
    private static void awaitListening(Process p, Path log, int port) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the process for port " + port + " exited with " + p.exitValue()
                        + " before listening; its log " + log + ":\n" + tail(log));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                if (s.getLocalPort() != port) {
                    return;
                }
                // A TCP self-connect: the kernel picked the (still free) port itself as our source port,
                // and the socket met itself. Nothing listens yet (seen once in CI: the next step was refused).
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("nothing listens on " + port + "; log " + log + ":\n" + tail(log));
    }

    /** Waits until Sluice answers HTTP on {@code port} (seen once in CI: a connect succeeded, the next was refused). */
    private static void awaitAnswering(Process p, Path log, int port) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        String last = "";
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("Sluice exited with " + p.exitValue() + "; its log " + log + ":\n" + tail(log));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                s.setSoTimeout(5000);
                s.getOutputStream().write(("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                byte[] head = s.getInputStream().readNBytes(12);
                last = new String(head, java.nio.charset.StandardCharsets.US_ASCII);
                if (last.equals("HTTP/1.1 200")) {
                    return;
                }
            } catch (IOException notYet) {
                last = notYet.toString();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("Sluice on " + port + " does not answer GET /v1/models with 200 (last: " + last + "); log "
                + log + ":\n" + tail(log));
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    /** The last lines of each process's output, for a benchmark that failed against this fixture. */
    public String logTails() {
        StringBuilder sb = new StringBuilder();
        for (Path log : logs) {
            try {
                sb.append("== ").append(log).append('\n').append(tail(log)).append('\n');
            } catch (IOException e) {
                sb.append("== ").append(log).append(": ").append(e).append('\n');
            }
        }
        return sb.toString();
    }

    /** User + system CPU time of a process, from /proc/PID/stat, in milliseconds. */
    static long cpuMillis(Process p) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
        return ticks * 10; // USER_HZ is 100 on Linux
    }

    /** Resident set size in KiB, from /proc/PID/status. */
    static long rssKib(Process p) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + p.pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
