package io.sluice.admin.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.sluice.core.http.Json;
import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls every backend's vLLM {@code /metrics} and {@code /v1/models} in the background and keeps
 * the latest result per backend, so admin endpoints and {@code GET /v1/models} only read memory.
 *
 * <p>Results expire after three intervals: a backend that stopped answering shows no stale numbers.
 * The JDK HTTP client does the I/O on its own threads, away from the gateway's event loops.
 */
public final class BackendScraper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BackendScraper.class);

    private final Supplier<Collection<BackendPool>> pools;
    private final HttpClient client;
    private final Duration interval;
    private final Cache<Backend, VllmStats> latest;
    private final ScheduledFuture<?> task;

    public BackendScraper(Supplier<Collection<BackendPool>> pools, ScheduledExecutorService scheduler,
                          Executor httpExecutor, Duration interval) {
        this.pools = pools;
        this.interval = interval;
        this.client = HttpClient.newBuilder().executor(httpExecutor).connectTimeout(Duration.ofSeconds(2))
                .version(HttpClient.Version.HTTP_1_1).build();
        this.latest = Caffeine.newBuilder().expireAfterWrite(interval.isZero() ? Duration.ofSeconds(1) : interval.multipliedBy(3))
                .weakKeys().build();
        // Zero turns scraping off (backends that are not vLLM, tests that count raw requests).
        this.task = interval.isZero() ? null
                : scheduler.scheduleWithFixedDelay(this::scrapeAll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The latest scrape of a backend, or null (none yet, expired, or not a vLLM). */
    public VllmStats stats(Backend b) {
        return latest.getIfPresent(b);
    }

    private void scrapeAll() {
        try {
            for (BackendPool p : pools.get()) {
                for (Backend b : p.backends()) {
                    scrape(b);
                }
            }
        } catch (RuntimeException e) {
            log.warn("backend scrape round failed", e);
        }
    }

    /** Starts one backend's scrape; the result lands in the cache when both answers are in. */
    public CompletableFuture<VllmStats> scrape(Backend b) {
        String base = "http://" + (b.host().indexOf(':') >= 0 ? "[" + b.host() + "]" : b.host()) + ":" + b.port();
        Duration timeout = !interval.isZero() && interval.compareTo(Duration.ofSeconds(5)) < 0 ? interval : Duration.ofSeconds(5);
        CompletableFuture<String> metrics = get(base + "/metrics", timeout);
        CompletableFuture<List<String>> models = get(base + "/v1/models", timeout)
                .thenApply(BackendScraper::modelIds).exceptionally(e -> List.of());
        return metrics.thenCombine(models, (text, ids) -> {
            VllmStats s = VllmStats.parse(text, ids, latest.getIfPresent(b), System.currentTimeMillis());
            latest.put(b, s);
            if (s.waiting() != null || s.running() != null || s.kvCacheUsage() != null) {
                // For the load-aware policies: read on every request, so a field on the backend, not this cache.
                b.loadSample(new Backend.LoadSample(orZero(s.waiting()), orZero(s.running()), orZero(s.kvCacheUsage()),
                        s.atMillis()));
            }
            return s;
        }).whenComplete((s, e) -> {
            if (e != null) {
                log.debug("scrape of backend {} failed: {}", b, e.toString());
            }
        });
    }

    private CompletableFuture<String> get(String url, Duration timeout) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build();
        return client.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
            if (r.statusCode() != 200) {
                throw new IllegalStateException(url + ": HTTP " + r.statusCode());
            }
            return r.body();
        });
    }

    private static double orZero(Double d) {
        return d == null ? 0 : d;
    }

    /** OpenAI's list shape: {@code {"object":"list","data":[{"id":"model"},…]}}. */
    static List<String> modelIds(String body) {
        List<String> ids = new ArrayList<>();
        try {
            for (JsonNode m : Json.MAPPER.readTree(body).path("data")) {
                if (m.hasNonNull("id")) {
                    ids.add(m.get("id").asText());
                }
            }
        } catch (java.io.IOException e) {
            // not OpenAI-shaped: no models known
        }
        return ids;
    }

    @Override
    public void close() {
        if (task != null) {
            task.cancel(false);
        }
    }
}
