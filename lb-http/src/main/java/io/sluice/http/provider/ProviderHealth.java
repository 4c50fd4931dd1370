package io.sluice.http.provider;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.ProviderConfig;
import io.sluice.core.http.Json;
import io.sluice.core.pool.BackendPool;
import io.sluice.core.provider.WireFormat;
import io.sluice.http.client.OneShotHttp;
import io.sluice.http.pool.Upstreams;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether each provider answers, for {@code /api/health}: checked at start and then every
 * {@code server.provider-check-interval}, with a request that lists models and bills nothing:
 * <ul>
 *   <li>OpenAI-compatible: {@code GET {base}/models} with {@code Authorization: Bearer} (OpenAI's
 *       "List models", {@code GET /v1/models});</li>
 *   <li>Anthropic: {@code GET {base}/v1/models} with {@code x-api-key} and {@code anthropic-version}
 *       (Anthropic's "List Models");</li>
 *   <li>Gemini: {@code GET {base}/v1beta/models} with {@code x-goog-api-key} (Gemini's {@code models.list});</li>
 *   <li>Ollama: {@code GET {base}/api/version} (Ollama's API reference, "Version").</li>
 * </ul>
 * A provider that is not configured (no key) is never called. One on a pool of the file (the vLLM one)
 * is not called either: its pool's health checks already say whether it serves, and it reports those.
 *
 * <p>{@code reachable} means some HTTP answer came, a 401 included (the network path works; the key does
 * not): {@code status} and {@code last_error} say the rest. Provider keys are never part of what is kept:
 * an error message that echoes one (OpenAI's 401 does, masked) is redacted. Checks run on an event loop,
 * one at a time per provider (the next is scheduled when the previous ends); {@link #close} cancels them.
 */
public final class ProviderHealth implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProviderHealth.class);
    private static final int MAX_BODY = 64 * 1024;
    private static final int MAX_MESSAGE = 300;

    private final OneShotHttp http;
    private final Upstreams upstreams;
    private final ScheduledExecutorService scheduler;
    private final Duration interval;
    private final Duration timeout;
    private final Map<String, Watch> watches = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** The last check of a provider; all null before the first. */
    public record Check(Boolean reachable, Integer status, String lastError, Long checkedAtMillis) {
        static final Check NONE = new Check(null, null, null, null);

        boolean ok() {
            return status != null && status >= 200 && status < 300;
        }
    }

    /** One provider's chain of checks; a newer config's watch replaces it (and its chain ends). */
    private static final class Watch {
        final ProviderConfig provider;
        volatile Check last = Check.NONE;
        volatile ScheduledFuture<?> next;

        Watch(ProviderConfig provider) {
            this.provider = provider;
        }
    }

    /**
     * @param interval between the end of one check and the next; zero for no checks
     * @param timeout  of one check (connect and answer)
     */
    public ProviderHealth(OneShotHttp http, Upstreams upstreams, ScheduledExecutorService scheduler, Duration interval,
                          Duration timeout) {
        this.http = http;
        this.upstreams = upstreams;
        this.scheduler = scheduler;
        this.interval = interval;
        this.timeout = timeout;
    }

    /** The providers of the (re)loaded config: new or changed ones are checked now, removed ones no more. */
    public void update(Map<String, ProviderConfig> providers) {
        for (Map.Entry<String, Watch> e : watches.entrySet()) {
            ProviderConfig now = providers.get(e.getKey());
            if (now == null || !now.equals(e.getValue().provider) || !checked(now)) {
                stop(e.getKey(), e.getValue());
            }
        }
        for (ProviderConfig p : providers.values()) {
            if (!checked(p) || closed) {
                continue;
            }
            Watch w = new Watch(p);
            if (watches.putIfAbsent(p.name(), w) == null) {
                schedule(w, ThreadLocalRandom.current().nextLong(1, 20));
            }
        }
    }

    private boolean checked(ProviderConfig p) {
        return p.configured() && p.ownPool() && !interval.isZero();
    }

    private void stop(String name, Watch w) {
        watches.remove(name, w);
        ScheduledFuture<?> f = w.next;
        if (f != null) {
            f.cancel(false);
        }
    }

    private void schedule(Watch w, long delayMillis) {
        if (closed || watches.get(w.provider.name()) != w) {
            return;
        }
        try {
            w.next = scheduler.schedule(() -> check(w), delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // the loop is shutting down: so is the gateway
        }
    }

    private void check(Watch w) {
        if (closed || watches.get(w.provider.name()) != w) {
            return;
        }
        ProviderConfig p = w.provider;
        Backend target = target(p);
        CompletionStage<OneShotHttp.Response> call = target == null
                ? CompletableFuture.failedFuture(new OneShotHttp.Failure("no backend for pool " + p.pool()))
                : http.get(target, checkPath(p), checkHeaders(p), timeout, MAX_BODY);
        call.whenComplete((r, e) -> {
            if (closed || watches.get(p.name()) != w) {
                return; // cut short by a shutdown or a reload: says nothing about the provider
            }
            Check c = e == null
                    ? new Check(true, r.status(), r.status() >= 200 && r.status() < 300 ? null
                            : "HTTP " + r.status() + errorMessage(r.body(), p.apiKey()), System.currentTimeMillis())
                    : new Check(false, null, redact(reason(e), p.apiKey()), System.currentTimeMillis());
            Check before = w.last;
            w.last = c;
            if (before.reachable() == null || before.ok() != c.ok() || !java.util.Objects.equals(before.lastError(), c.lastError())) {
                if (c.ok()) {
                    log.info("provider {}: reachable (HTTP {})", p.name(), c.status());
                } else {
                    log.warn("provider {}: {}", p.name(), c.lastError());
                }
            }
            schedule(w, interval.toMillis());
        });
    }

    private static String reason(Throwable e) {
        Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return t instanceof OneShotHttp.Failure ? t.getMessage() : t.toString();
    }

    /** The provider's one backend (its own pool has exactly one). */
    private Backend target(ProviderConfig p) {
        BackendPool pool = upstreams.pool(p.pool());
        return pool == null || pool.backends().isEmpty() ? null : pool.backends().get(0);
    }

    /** The model-list path of the provider's API, under its base URL's path. */
    static String checkPath(ProviderConfig p) {
        return p.basePath() + switch (p.format()) {
            case OPENAI -> "/models";
            case ANTHROPIC -> "/v1/models";
            case GEMINI -> "/v1beta/models";
            case OLLAMA -> "/api/version";
        };
    }

    /** The provider's key, the way it expects it (as {@link ProviderKeys} sends it). */
    static Map<String, String> checkHeaders(ProviderConfig p) {
        Map<String, String> h = new LinkedHashMap<>();
        String key = p.apiKey();
        switch (p.format()) {
            case OPENAI, OLLAMA -> {
                if (!key.isEmpty()) {
                    h.put("authorization", "Bearer " + key);
                }
            }
            case ANTHROPIC -> {
                if (!key.isEmpty()) {
                    h.put("x-api-key", key);
                }
                h.put("anthropic-version", p.version());
            }
            case GEMINI -> {
                if (!key.isEmpty()) {
                    h.put("x-goog-api-key", key);
                }
            }
        }
        return h;
    }

    /**
     * ": " and the provider's own message, from the error bodies of OpenAI and Anthropic
     * ({@code {"error": {"message"}}}), Gemini ({@code {"error": {"message", "status"}}}) or Ollama
     * ({@code {"error": "..."}}); else the start of the body. Without the key.
     */
    static String errorMessage(String body, String key) {
        String message = null;
        try {
            JsonNode n = Json.MAPPER.readTree(body);
            JsonNode err = n == null ? null : n.get("error");
            if (err != null && err.isTextual()) {
                message = err.asText();
            } else if (err != null && err.hasNonNull("message")) {
                message = err.get("message").asText();
            } else if (n != null && n.hasNonNull("message")) {
                message = n.get("message").asText();
            }
        } catch (Exception notJson) {
            // fall through to the raw text
        }
        if (message == null) {
            message = body;
        }
        message = redact(message.replaceAll("\\s+", " ").strip(), key);
        if (message.length() > MAX_MESSAGE) {
            message = message.substring(0, MAX_MESSAGE) + "…";
        }
        return message.isEmpty() ? "" : ": " + message;
    }

    /** Key-looking words (sk-…, AIza…, masked ones such as OpenAI's {@code sk-pr****ab12}) and the key itself. */
    private static final Pattern KEYISH = Pattern.compile(
            "(?i)\\b(sk-|sk_|gsk_|hf_|AIza|xai-)[A-Za-z0-9_*.\\-]{3,}[A-Za-z0-9*]|[\\w-]*\\*{3,}[\\w-]*");

    static String redact(String text, String key) {
        String t = text;
        if (key != null && !key.isEmpty()) {
            // As a word: a short test key must not cut "key" out of "invalid x-api-key".
            t = Pattern.compile("(?<![\\w-])" + Pattern.quote(key) + "(?![\\w-])").matcher(t).replaceAll("<redacted>");
        }
        return KEYISH.matcher(t).replaceAll("<redacted>");
    }

    /** The last check of the named provider, or {@link Check#NONE}. */
    public Check last(String name) {
        Watch w = watches.get(name);
        return w == null ? Check.NONE : w.last;
    }

    /**
     * {@code /api/health}'s {@code providers}: per provider its format, whether it is configured, and the
     * last check; for one on a pool of the file, that pool's health instead.
     */
    public Map<String, Object> describe(Map<String, ProviderConfig> providers) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (ProviderConfig p : providers.values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("format", p.format().name().toLowerCase(Locale.ROOT));
            m.put("configured", p.configured());
            if (!p.ownPool()) {
                BackendPool pool = upstreams.pool(p.pool());
                int up = pool == null ? 0 : pool.healthyCount();
                int total = pool == null ? 0 : pool.backends().size();
                long at = 0;
                for (Backend b : pool == null ? List.<Backend>of() : pool.backends()) {
                    if (b.lastHealth() != null) {
                        at = Math.max(at, b.lastHealth().atMillis());
                    }
                }
                m.put("reachable", p.configured() ? up > 0 : null);
                m.put("status", null);
                m.put("last_error", up > 0 ? null : "no healthy backend in pool " + p.pool());
                m.put("checked_at", at == 0 ? null : Instant.ofEpochMilli(at).toString());
                m.put("pool", p.pool());
                m.put("backends_up", up);
                m.put("backends_total", total);
            } else {
                Check c = p.configured() ? last(p.name()) : Check.NONE;
                m.put("reachable", c.reachable());
                m.put("status", c.status());
                m.put("last_error", c.lastError());
                m.put("checked_at", c.checkedAtMillis() == null ? null : Instant.ofEpochMilli(c.checkedAtMillis()).toString());
            }
            out.put(p.name(), m);
        }
        return out;
    }

    /**
     * {@code /api/gpu/status}'s {@code ollama}: the Ollama provider's models ({@code GET /api/tags}) and the
     * ones loaded in memory ({@code GET /api/ps}), asked now; {@code running} false when it does not answer.
     * Shapes per Ollama's API reference: both answer {@code {"models": [{"name": ..., "model": ...}, ...]}}.
     */
    public CompletionStage<Map<String, Object>> ollama(ProviderConfig p) {
        Backend target = target(p);
        Duration t = timeout.compareTo(Duration.ofSeconds(3)) > 0 ? Duration.ofSeconds(3) : timeout;
        Map<String, String> headers = checkHeaders(p);
        CompletableFuture<List<String>> tags = target == null ? CompletableFuture.completedFuture(null)
                : names(http.get(target, p.basePath() + "/api/tags", headers, t, 1 << 20));
        CompletableFuture<List<String>> ps = target == null ? CompletableFuture.completedFuture(null)
                : names(http.get(target, p.basePath() + "/api/ps", headers, t, 1 << 20));
        return tags.thenCombine(ps, (models, loaded) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("provider", p.name());
            m.put("running", models != null || loaded != null);
            m.put("models", models == null ? List.of() : models);
            m.put("loadedModel", loaded == null || loaded.isEmpty() ? null : loaded.get(0));
            m.put("loaded", loaded == null ? List.of() : loaded);
            return m;
        });
    }

    /** The {@code models[].name} of an Ollama list; null when there was no 200 answer. */
    private static CompletableFuture<List<String>> names(CompletionStage<OneShotHttp.Response> call) {
        return call.handle((r, e) -> {
            if (e != null || r.status() != 200) {
                return (List<String>) null;
            }
            List<String> names = new ArrayList<>();
            try {
                JsonNode models = Json.MAPPER.readTree(r.body()).path("models");
                for (JsonNode m : models) {
                    String name = m.hasNonNull("name") ? m.get("name").asText() : m.path("model").asText(null);
                    if (name != null) {
                        names.add(name);
                    }
                }
            } catch (Exception badJson) {
                return names; // it answered, with something else
            }
            return names;
        }).toCompletableFuture();
    }

    /** Stops the checks; those in progress end with their connections ({@link OneShotHttp#close} waits for them). */
    @Override
    public void close() {
        closed = true;
        for (Map.Entry<String, Watch> e : watches.entrySet()) {
            stop(e.getKey(), e.getValue());
        }
    }
}
