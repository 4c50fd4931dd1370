package io.sluice.http.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the scripts of {@code src/test/node}, which call Sluice through the official, unmodified
 * {@code openai} and {@code @anthropic-ai/sdk} npm packages (pinned in its package-lock.json, installed
 * by {@code bin/test} with {@code npm ci}): what a real application's client accepts is the test, not
 * our reading of the wire format.
 *
 * <p>A script reads its request from environment variables (documented at the top of each script),
 * makes one call and prints one JSON line: {@code {"ok":true, "text", ...}} or, when the SDK raised,
 * {@code {"ok":false, "status", "name" (the SDK's error class), "message", ...}}.
 */
public final class NodeSdk {
    /** {@code client.chat.completions.create}: BASE_URL (ending in /v1), MODEL, STREAM, INCLUDE_USAGE, MESSAGES, TOOLS, MAX_TOKENS. */
    public static final String OPENAI_CHAT = "openai-chat.mjs";
    /** {@code client.messages.create} / {@code .stream}: BASE_URL (without /v1), MODEL, STREAM, STREAM_RAW, MESSAGES, SYSTEM, TOOLS, MAX_TOKENS. */
    public static final String ANTHROPIC_MESSAGES = "anthropic-messages.mjs";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path DIR = locate();
    private static String unavailable; // why the SDKs cannot run here, null when they can; computed once
    private static boolean checked;

    private NodeSdk() {
    }

    /** What a script printed; the accessors read its fields (see the scripts for the full list). */
    public record Result(JsonNode json, String stderr) {
        public boolean ok() {
            return json.path("ok").asBoolean(false);
        }

        public String text() {
            return json.path("text").asText(null);
        }

        /** OpenAI's {@code finish_reason}. */
        public String finishReason() {
            return json.path("finish_reason").asText(null);
        }

        /** Anthropic's {@code stop_reason}. */
        public String stopReason() {
            return json.path("stop_reason").asText(null);
        }

        /** {@code [{id, name, arguments}]} (OpenAI; arguments as the JSON text) or {@code [{id, name, input}]} (Anthropic). */
        public JsonNode toolCalls() {
            return json.path("tool_calls");
        }

        /** The usage the SDK returned, or a missing/null node when the server sent none. */
        public JsonNode usage() {
            return json.path("usage");
        }

        /** Stream chunks (OpenAI) or events (Anthropic) the SDK yielded; 0 without streaming. */
        public int chunks() {
            return json.path("chunks").asInt(0);
        }

        /** The HTTP status of the SDK's error, or -1 (success, or an error without a response). */
        public int status() {
            return json.path("status").isNumber() ? json.get("status").asInt() : -1;
        }

        /** The SDK's error class, e.g. {@code RateLimitError}; null on success. */
        public String errorName() {
            return ok() ? null : json.path("name").asText(null);
        }

        public String message() {
            return json.path("message").asText(null);
        }

        @Override
        public String toString() {
            return json + (stderr.isBlank() ? "" : "\nstderr: " + stderr.strip());
        }
    }

    /** The directory of the scripts and their node_modules. */
    public static Path dir() {
        return DIR;
    }

    /**
     * Skips the calling test when node or the installed SDKs are missing (run {@code bin/test}, or
     * {@code npm ci} in {@link #dir()}), with the reason; under CI ({@code CI=true}) fails instead, so a
     * broken install cannot turn the SDK tests into silent skips.
     */
    public static void assumeAvailable() {
        String why = unavailable();
        if (why == null) {
            return;
        }
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail("the SDK tests cannot run under CI: " + why);
        }
        System.err.println("SDK tests skipped: " + why); // Surefire shows a class skipped in @BeforeAll as 0 tests run
        Assumptions.abort(why);
    }

    private static synchronized String unavailable() {
        if (!checked) {
            checked = true;
            unavailable = check();
        }
        return unavailable;
    }

    private static String check() {
        if (!Files.isRegularFile(DIR.resolve("package.json"))) {
            return "no package.json in " + DIR;
        }
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "node --version did not answer within 10 s";
            }
            if (p.exitValue() != 0) {
                return "node --version exited with " + p.exitValue();
            }
        } catch (IOException e) {
            return "node is not installed (" + e.getMessage() + "); bin/test installs it";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        try {
            JsonNode deps = JSON.readTree(DIR.resolve("package.json").toFile()).path("dependencies");
            for (Map.Entry<String, JsonNode> dep : deps.properties()) {
                Path installed = DIR.resolve("node_modules").resolve(dep.getKey()).resolve("package.json");
                if (!Files.isRegularFile(installed)) {
                    return dep.getKey() + " is not installed: run `npm ci` in " + DIR + " (bin/test does)";
                }
                String version = JSON.readTree(installed.toFile()).path("version").asText();
                if (!version.equals(dep.getValue().asText())) {
                    return dep.getKey() + " " + version + " is installed, package.json pins " + dep.getValue().asText()
                            + ": run `npm ci` in " + DIR;
                }
            }
        } catch (IOException e) {
            return "cannot read the installed packages: " + e;
        }
        return null;
    }

    /**
     * Runs {@code node script} in {@link #dir()} with {@code env} added to this process's environment
     * (minus the SDKs' own OPENAI_* / ANTHROPIC_* variables, so the machine's settings cannot redirect a
     * test) and returns the JSON line it printed. A script that exits non-zero, prints no JSON, or
     * outlives {@code timeout} (it is then killed) fails the test with what it printed.
     */
    public static Result run(String script, Map<String, String> env, Duration timeout) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("node-sdk-", ".out");
            err = Files.createTempFile("node-sdk-", ".err");
            ProcessBuilder pb = new ProcessBuilder("node", script).directory(DIR.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            Map<String, String> childEnv = pb.environment();
            childEnv.keySet().removeIf(k -> k.startsWith("OPENAI_") || k.startsWith("ANTHROPIC_"));
            childEnv.put("NO_PROXY", "127.0.0.1,localhost,::1");
            childEnv.putAll(env);
            Process p = pb.start();
            p.getOutputStream().close(); // nothing on stdin
            boolean exited;
            try {
                exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                kill(p);
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while " + script + " ran", e);
            }
            if (!exited) {
                kill(p);
                throw new AssertionError(script + " did not finish within " + timeout + "; killed (pid " + p.pid()
                        + ")\n" + printed(out, err));
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            String stderr = Files.readString(err, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new AssertionError(script + " exited with " + p.exitValue() + "\n" + printed(out, err));
            }
            List<String> lines = new ArrayList<>(stdout.lines().filter(l -> l.startsWith("{")).toList());
            if (lines.size() != 1) {
                throw new AssertionError(script + " printed " + lines.size() + " JSON lines, not one\n" + printed(out, err));
            }
            return new Result(JSON.readTree(lines.get(0)), stderr);
        } catch (IOException e) {
            throw new AssertionError("cannot run " + script + ": " + e, e);
        } finally {
            delete(out);
            delete(err);
        }
    }

    /** Our own child, by its handle (its PID): the script and anything it started. */
    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String printed(Path out, Path err) throws IOException {
        return "stdout: " + Files.readString(out, StandardCharsets.UTF_8).strip()
                + "\nstderr: " + Files.readString(err, StandardCharsets.UTF_8).strip();
    }

    private static void delete(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temporary file; the OS cleans up
            }
        }
    }

    /** {@code src/test/node} of lb-http: Maven runs tests in the module's directory, an IDE may run them from the root. */
    private static Path locate() {
        Path cwd = Path.of("").toAbsolutePath();
        for (Path candidate : List.of(cwd.resolve("src/test/node"), cwd.resolve("lb-http/src/test/node"))) {
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return cwd.resolve("src/test/node");
    }
}
