package io.sluice.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * nghttp2's {@code h2load} as the HTTP/2 load client, as {@code peers.sh} drives it for S5: a C client
 * spends less of the two cores than a JVM one would, and its figures are comparable with that run's.
 *
 * <p>h2load 1.52 in timing mode ({@code -D}) never stops a client whose connection completes after
 * the duration has ended: it runs on, and h2load never exits. A cold Sluice takes up to 1–3 s for its
 * first 16 concurrent TLS + HTTP/2 connections (measured: docs/BENCHMARKS.md), so runs shorter than
 * {@link #SHORTEST_TIMED} seconds (the smoke sizes) count requests ({@code -n}) instead, and every run
 * is killed and reported if it outlives its time by a minute.
 */
final class H2load {
    private static final Pattern FINISHED = Pattern.compile("finished in ([0-9.]+)(ms|s),");
    private static final Pattern REQUESTS = Pattern.compile(
            "requests: (\\d+) total, \\d+ started, \\d+ done, (\\d+) succeeded, (\\d+) failed, (\\d+) errored, (\\d+) timeout");

    private H2load() {
    }

    record Result(long succeeded, long failed, long errored, long timeout, double seconds) {
    }

    static boolean available() {
        try {
            Process p = new ProcessBuilder("h2load", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    static final double SHORTEST_TIMED = 5;

    /**
     * One run: {@code connections} connections, {@code streams} in flight on each, for {@code seconds}
     * (or, below {@link #SHORTEST_TIMED}, 8 requests per stream slot).
     */
    static Result run(String url, int connections, int streams, double seconds) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("h2load", "-t1", "-c" + connections, "-m" + streams));
        if (seconds >= SHORTEST_TIMED) {
            cmd.addAll(List.of("-D", Math.round(seconds * 1000) + "ms"));
        } else {
            cmd.addAll(List.of("-n", String.valueOf(8L * connections * streams)));
        }
        cmd.add(url);
        Path log = Files.createTempFile("h2load", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor((long) seconds + 60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " did not finish:\n" + Files.readString(log));
            }
            return parse(url, Files.readString(log));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static Result parse(String url, String out) {
        Matcher finished = FINISHED.matcher(out);
        Matcher requests = REQUESTS.matcher(out);
        if (!finished.find() || !requests.find()) {
            throw new IllegalStateException("h2load's output is not what it prints after a run:\n" + out);
        }
        if (url.startsWith("https:") && !out.contains("Application protocol: h2")) {
            throw new IllegalStateException("h2load did not negotiate h2 with ALPN:\n" + out);
        }
        double elapsed = Double.parseDouble(finished.group(1)) / (finished.group(2).equals("ms") ? 1000 : 1);
        return new Result(Long.parseLong(requests.group(2)), Long.parseLong(requests.group(3)),
                Long.parseLong(requests.group(4)), Long.parseLong(requests.group(5)), elapsed);
    }
}
