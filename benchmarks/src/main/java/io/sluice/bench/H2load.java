package io.sluice.bench;

import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * nghttp2's {@code h2load} as the HTTP/2 load client, as {@code peers.sh} drives it for S5: a C client
 * spends less of the two cores than a JVM one would, and its figures are comparable with that run's.
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

    /** One timed run: {@code connections} connections, {@code streams} in flight on each, for {@code seconds}. */
    static Result run(String url, int connections, int streams, double seconds) throws Exception {
        Process p = new ProcessBuilder("h2load", "-t1", "-c" + connections, "-m" + streams,
                "-D", Math.max(1, Math.round(seconds * 1000)) + "ms", url)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor((long) seconds + 60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("h2load did not finish: " + out);
        }
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
