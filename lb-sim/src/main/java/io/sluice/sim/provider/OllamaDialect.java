package io.sluice.sim.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ollama's native API as its reference describes it (github.com/ollama/ollama docs/api.md: "Generate a chat
 * completion", "Generate a completion" with its load and unload forms, "List Local Models", "List Running
 * Models", "Version"; errors are {@code {"error":"…"}}, unknown routes Gin's plain-text {@code 404 page not found}).
 *
 * <p>Streaming is the default ({@code "stream": false} turns it off): one NDJSON line per piece, then a final
 * line with {@code done: true}, {@code done_reason} and the timing and count statistics (durations in
 * nanoseconds, derived from the scripted pace). A model becomes loaded ({@code /api/ps}) when a request uses it,
 * for its {@code keep_alive} (default 5m); {@code keep_alive: 0} with no prompt (or no messages) unloads it.
 */
final class OllamaDialect implements Dialect {
    private static final String JSON = "application/json; charset=utf-8";
    private static final String NDJSON = "application/x-ndjson";
    static final String VERSION = "0.12.6";
    private static final Duration DEFAULT_KEEP_ALIVE = Duration.ofMinutes(5);
    private static final long SIZE = 3338801804L;
    private static final String DIGEST = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72";

    private final ProviderSimOptions options;
    /** Loaded model name to expiry; shared by all connections. */
    private final Map<String, Instant> loaded = new LinkedHashMap<>(); // guarded by itself

    OllamaDialect(ProviderSimOptions options) {
        this.options = options;
    }

    @Override
    public Reply handle(Call call) {
        if (call.is("POST", "/api/chat")) {
            return generate(call, true);
        }
        if (call.is("POST", "/api/generate")) {
            return generate(call, false);
        }
        if (call.is("GET", "/api/tags")) {
            ArrayNode models = Call.arr();
            for (String m : options.models()) {
                String name = normalize(m);
                ObjectNode o = models.addObject().put("name", name).put("model", name)
                        .put("modified_at", "2025-10-01T12:00:00.000000000Z").put("size", SIZE).put("digest", DIGEST);
                o.set("details", details());
            }
            ObjectNode body = Call.obj();
            body.set("models", models);
            return json(HttpResponseStatus.OK, body);
        }
        if (call.is("GET", "/api/ps")) {
            ArrayNode models = Call.arr();
            Instant now = Instant.now();
            synchronized (loaded) {
                loaded.values().removeIf(expiry -> expiry.isBefore(now));
                loaded.forEach((name, expiry) -> {
                    ObjectNode o = models.addObject().put("name", name).put("model", name).put("size", SIZE)
                            .put("digest", DIGEST);
                    o.set("details", details());
                    o.put("expires_at", expiry.toString()).put("size_vram", SIZE).put("context_length", 4096);
                });
            }
            ObjectNode body = Call.obj();
            body.set("models", models);
            return json(HttpResponseStatus.OK, body);
        }
        if (call.is("GET", "/api/version")) {
            return json(HttpResponseStatus.OK, Call.obj().put("version", VERSION));
        }
        if ((call.is("GET", "/") || call.is("HEAD", "/"))) {
            return Reply.now(HttpResponseStatus.OK, "text/plain; charset=utf-8", Call.utf8("Ollama is running"));
        }
        return Reply.now(HttpResponseStatus.NOT_FOUND, "text/plain", Call.utf8("404 page not found"));
    }

    /** The names of the models {@code /api/ps} lists now. */
    List<String> loadedModels() {
        synchronized (loaded) {
            return List.copyOf(loaded.keySet());
        }
    }

    private Reply generate(Call call, boolean chat) {
        ObjectNode req;
        try {
            req = call.json();
        } catch (Call.EmptyBody e) {
            return error(HttpResponseStatus.BAD_REQUEST, "missing request body");
        } catch (JsonProcessingException e) {
            return error(HttpResponseStatus.BAD_REQUEST, "invalid character looking for beginning of value");
        }
        String requested = req.path("model").asText("");
        if (requested.isEmpty()) {
            return error(HttpResponseStatus.BAD_REQUEST, "model is required");
        }
        String model = normalize(requested);
        Behaviour behaviour = Behaviour.of(model);
        boolean stream = !req.has("stream") || req.get("stream").asBoolean(true);
        switch (behaviour) {
            case RATE_LIMITED:
                return error(HttpResponseStatus.TOO_MANY_REQUESTS, "server busy, please try again.  "
                        + "maximum pending requests exceeded").header("retry-after", "7");
            case SERVER_ERROR:
                return serverError();
            case ERROR_MID_STREAM:
                if (!stream) {
                    return serverError();
                }
                break;
            default:
                break;
        }
        Duration keepAlive = keepAlive(req.get("keep_alive"));
        boolean empty = chat ? !req.path("messages").isArray() || req.path("messages").isEmpty()
                : req.path("prompt").asText("").isEmpty();
        if (keepAlive.isZero()) {
            synchronized (loaded) {
                loaded.remove(model);
            }
        } else {
            synchronized (loaded) {
                loaded.put(model, keepAlive.isNegative() ? Instant.parse("2318-01-01T00:00:00Z")
                        : Instant.now().plus(keepAlive));
            }
        }
        if (empty) { // load or unload, answered at once
            ObjectNode body = head(model);
            if (chat) {
                body.putObject("message").put("role", "assistant").put("content", "");
            } else {
                body.put("response", "");
            }
            body.put("done", true).put("done_reason", keepAlive.isZero() ? "unload" : "load");
            return json(HttpResponseStatus.OK, body);
        }
        int prompt = 0;
        if (chat) {
            for (JsonNode m : req.get("messages")) {
                prompt += Call.contentWords(m.get("content"));
            }
        } else {
            prompt = Behaviour.words(req.path("system").asText("")) + Behaviour.words(req.path("prompt").asText(""));
        }
        Reply.Pace pace = behaviour.pace(options);
        if (behaviour == Behaviour.FAIL_MID_STREAM && !stream) {
            return Reply.abort(pace);
        }
        boolean tool = chat && behaviour == Behaviour.TOOL_CALL;
        String toolName = req.path("tools").path(0).path("function").path("name").asText(Behaviour.FALLBACK_TOOL);
        List<String> pieces = tool ? Behaviour.TOOL_ARGUMENT_PIECES : behaviour.pieces(options.reply());
        if (!stream) {
            ObjectNode body = head(model);
            if (chat) {
                ObjectNode message = body.putObject("message").put("role", "assistant");
                message.put("content", tool ? "" : String.join("", pieces));
                if (tool) {
                    addToolCall(message, toolName);
                }
            } else {
                body.put("response", String.join("", pieces));
            }
            finish(body, pace, prompt, pieces.size());
            return Reply.generated(JSON, Call.bytes(body), pace, pieces.size());
        }
        List<Reply.Event> events = new ArrayList<>();
        if (tool) {
            ObjectNode line = head(model);
            ObjectNode message = line.putObject("message").put("role", "assistant").put("content", "");
            addToolCall(message, toolName);
            line.put("done", false);
            events.add(line(line, true));
        } else {
            for (int i = 0; i < pieces.size(); i++) {
                if (i == Behaviour.EVENTS_BEFORE_FAILURE && behaviour == Behaviour.FAIL_MID_STREAM) {
                    return Reply.stream(NDJSON, events, Reply.Ending.ABORT, pace);
                }
                if (i == Behaviour.EVENTS_BEFORE_FAILURE && behaviour == Behaviour.ERROR_MID_STREAM) {
                    events.add(line(Call.obj().put("error",
                            "an error was encountered while running the model: unexpected EOF"), true));
                    return Reply.stream(NDJSON, events, Reply.Ending.ERROR, pace);
                }
                ObjectNode line = head(model);
                if (chat) {
                    line.putObject("message").put("role", "assistant").put("content", pieces.get(i));
                } else {
                    line.put("response", pieces.get(i));
                }
                line.put("done", false);
                events.add(line(line, true));
            }
        }
        ObjectNode last = head(model);
        if (chat) {
            last.putObject("message").put("role", "assistant").put("content", "");
        } else {
            last.put("response", "");
        }
        finish(last, pace, prompt, pieces.size());
        events.add(line(last, false));
        return Reply.stream(NDJSON, events, Reply.Ending.COMPLETE, pace);
    }

    private static void addToolCall(ObjectNode message, String name) {
        ObjectNode fn = message.putArray("tool_calls").addObject().putObject("function").put("name", name);
        fn.putObject("arguments").put("city", "Paris").put("unit", "celsius");
    }

    /** The final object's statistics; durations follow the scripted pace. */
    private static void finish(ObjectNode body, Reply.Pace pace, int prompt, int generated) {
        long ttft = pace.ttft().toNanos();
        long eval = Math.max(0, generated - 1) * pace.itl().toNanos();
        long load = Math.min(ttft / 4, 1_000_000L);
        body.put("done", true).put("done_reason", "stop").put("total_duration", ttft + eval)
                .put("load_duration", load).put("prompt_eval_count", prompt).put("prompt_eval_duration", ttft - load)
                .put("eval_count", generated).put("eval_duration", eval);
    }

    private static ObjectNode head(String model) {
        return Call.obj().put("model", model).put("created_at", Instant.now().toString());
    }

    private static ObjectNode details() {
        ObjectNode d = Call.obj().put("parent_model", "").put("format", "gguf").put("family", "llama");
        d.putArray("families").add("llama");
        d.put("parameter_size", "3.2B").put("quantization_level", "Q4_K_M");
        return d;
    }

    /** {@code model:tag}, with the tag defaulting to {@code latest} as Ollama names models. */
    static String normalize(String model) {
        int slash = model.lastIndexOf('/');
        return model.indexOf(':', slash + 1) < 0 ? model + ":latest" : model;
    }

    /**
     * Ollama's {@code keep_alive}: a number of seconds or a Go duration string ("5m", "1h30m", "0"); negative keeps
     * the model loaded indefinitely.
     */
    static Duration keepAlive(JsonNode v) {
        if (v == null || v.isNull()) {
            return DEFAULT_KEEP_ALIVE;
        }
        if (v.isNumber()) {
            return Duration.ofMillis(Math.round(v.asDouble() * 1000));
        }
        String s = v.asText().trim();
        if (s.isEmpty()) {
            return DEFAULT_KEEP_ALIVE;
        }
        try {
            return Duration.ofMillis(Math.round(Double.parseDouble(s) * 1000));
        } catch (NumberFormatException notANumber) {
            boolean negative = s.startsWith("-");
            String rest = negative ? s.substring(1) : s;
            long nanos = 0;
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)")
                    .matcher(rest);
            int end = 0;
            while (m.find() && m.start() == end) {
                double n = Double.parseDouble(m.group(1));
                long unit;
                switch (m.group(2)) {
                    case "ns": unit = 1; break;
                    case "us": case "µs": unit = 1_000; break;
                    case "ms": unit = 1_000_000; break;
                    case "s": unit = 1_000_000_000L; break;
                    case "m": unit = 60_000_000_000L; break;
                    default: unit = 3_600_000_000_000L; break;
                }
                nanos += Math.round(n * unit);
                end = m.end();
            }
            if (end != rest.length()) {
                return DEFAULT_KEEP_ALIVE;
            }
            return Duration.ofNanos(negative ? -nanos : nanos);
        }
    }

    private static Reply.Event line(ObjectNode n, boolean token) {
        return new Reply.Event(Call.utf8(Call.text(n) + "\n"), token);
    }

    private static Reply serverError() {
        return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "llama runner process has terminated: exit status 2");
    }

    private static Reply error(HttpResponseStatus status, String message) {
        return json(status, Call.obj().put("error", message));
    }

    private static Reply json(HttpResponseStatus status, JsonNode body) {
        return Reply.now(status, JSON, Call.bytes(body));
    }
}
