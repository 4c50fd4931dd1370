package io.sluice.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Prometheus's own {@code promtool check metrics} (Debian package {@code prometheus}, which bin/test
 * installs): parses an exposition and lints it (naming, suffixes, units, help). Missing, the calling
 * test is skipped, except under CI, where it fails.
 */
final class Promtool {

    /** What promtool said: its exit code and everything it printed (lint complaints go to stderr). */
    record Result(int exit, String output) {
    }

    private Promtool() {
    }

    static Path find() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, "promtool");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String why = "no promtool executable (apt-get install prometheus; bin/test does)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail("the promtool checks cannot run under CI: " + why);
        }
        System.err.println("promtool checks skipped: " + why);
        Assumptions.abort(why);
        return null;
    }

    /** {@code promtool check metrics} with the exposition on stdin; at most 30 s. */
    static Result checkMetrics(String exposition) throws Exception {
        Process p = new ProcessBuilder(find().toString(), "check", "metrics").redirectErrorStream(true).start();
        try {
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
            try (OutputStream in = p.getOutputStream()) {
                in.write(exposition.getBytes(StandardCharsets.UTF_8));
            }
            Assertions.assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool did not finish in 30 s");
            return new Result(p.exitValue(), out.get(5, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly(); // this process only, by its handle; a no-op once it has exited
        }
    }

    private static String read(InputStream in) {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
