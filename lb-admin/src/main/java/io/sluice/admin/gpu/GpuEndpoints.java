package io.sluice.admin.gpu;

import io.netty.handler.codec.http.HttpMethod;
import io.sluice.admin.AdminContext;
import io.sluice.admin.AdminRequest;
import io.sluice.admin.AdminResponse;
import io.sluice.admin.AdminRoutes;
import io.sluice.admin.metrics.MetricsEndpoints;
import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * {@code GET /api/gpu/status} (local GPUs plus each backend's vLLM view) and {@code GET /v1/models}
 * answered by Sluice: the union of the models its available backends serve, from the latest scrapes.
 */
public final class GpuEndpoints implements MetricsEndpoints.Extra {
    private final AdminContext gateway;
    private final GpuProbe probe;
    private final BackendScraper scraper;
    private final Executor blocking;

    public GpuEndpoints(AdminContext gateway, GpuProbe probe, BackendScraper scraper, Executor blocking) {
        this.gateway = gateway;
        this.probe = probe;
        this.scraper = scraper;
        this.blocking = blocking;
    }

    public AdminRoutes register(AdminRoutes routes) {
        return routes
                .addAsync(HttpMethod.GET, "/api/gpu/status", this::status)
                .addPublic(HttpMethod.GET, "/v1/models", this::knowsModels, this::models);
    }

    private CompletionStage<AdminResponse> status(AdminRequest r) {
        return CompletableFuture.supplyAsync(probe::read, blocking).thenApply(gpu -> {
            Map<String, Object> body = new LinkedHashMap<>();
            Map<String, Object> local = new LinkedHashMap<>();
            local.put("available", gpu.available());
            if (gpu.vendor() != null) {
                local.put("vendor", gpu.vendor());
                local.put("source", gpu.source());
            }
            if (gpu.error() != null) {
                local.put("error", gpu.error());
            }
            local.put("gpus", gpu.gpus());
            body.put("available", gpu.available());
            body.put("local", local);
            List<Object> backends = new ArrayList<>();
            long now = System.currentTimeMillis();
            for (BackendPool p : gateway.pools()) {
                for (Backend b : p.backends()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("pool", p.name());
                    m.put("id", b.id());
                    m.put("address", b.host() + ":" + b.port());
                    VllmStats s = scraper.stats(b);
                    m.put("scraped", s != null);
                    if (s != null) {
                        m.put("seconds_ago", (now - s.atMillis()) / 1000.0);
                        m.put("models", s.models());
                        m.put("kv_cache_usage", s.kvCacheUsage());
                        m.put("requests_running", s.running());
                        m.put("requests_waiting", s.waiting());
                        m.put("generation_tokens_per_second", s.generationTokensPerSecond());
                        m.put("prompt_tokens_per_second", s.promptTokensPerSecond());
                        m.put("generation_tokens_total", s.generationTokensTotal());
                        m.put("prompt_tokens_total", s.promptTokensTotal());
                    }
                    backends.add(m);
                }
            }
            body.put("backends", backends);
            return AdminResponse.ok(body);
        });
    }

    /** Sluice answers only once a healthy backend of the pool reported its models; until then vLLM does. */
    private boolean knowsModels(String poolName) {
        for (BackendPool p : gateway.pools()) {
            if (p.name().equals(poolName)) {
                for (Backend b : p.backends()) {
                    VllmStats s = b.isAvailable() ? scraper.stats(b) : null;
                    if (s != null && !s.models().isEmpty()) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** OpenAI's list shape, so SDKs' {@code models.list()} works against the gateway. */
    private AdminResponse models(AdminRequest r) {
        String poolName = r.pool();
        Set<String> ids = new LinkedHashSet<>();
        for (BackendPool p : gateway.pools()) {
            if (poolName != null && !poolName.equals(p.name())) {
                continue;
            }
            for (Backend b : p.backends()) {
                VllmStats s = b.isAvailable() ? scraper.stats(b) : null;
                if (s != null) {
                    ids.addAll(s.models());
                }
            }
        }
        List<Object> data = new ArrayList<>();
        long created = gateway.startedAtMillis() / 1000;
        for (String id : ids) {
            data.add(Map.of("id", id, "object", "model", "created", created, "owned_by", "vllm"));
        }
        return AdminResponse.ok(Map.of("object", "list", "data", data));
    }

    /** vLLM's view per backend as gauges, next to Sluice's own metrics. */
    @Override
    public void write(MetricsEndpoints.Exposition out) {
        out.family("sluice_vllm_kv_cache_usage_ratio", "gauge", "KV-cache usage reported by the backend's vLLM (0..1).");
        each((p, b, s) -> {
            if (s.kvCacheUsage() != null) {
                out.sample("sluice_vllm_kv_cache_usage_ratio", s.kvCacheUsage(), "pool", p, "backend", b);
            }
        });
        out.family("sluice_vllm_requests_running", "gauge", "Requests running on the backend, per its vLLM.");
        each((p, b, s) -> {
            if (s.running() != null) {
                out.sample("sluice_vllm_requests_running", s.running(), "pool", p, "backend", b);
            }
        });
        out.family("sluice_vllm_requests_waiting", "gauge", "Requests queued on the backend, per its vLLM.");
        each((p, b, s) -> {
            if (s.waiting() != null) {
                out.sample("sluice_vllm_requests_waiting", s.waiting(), "pool", p, "backend", b);
            }
        });
    }

    private interface Each {
        void accept(String pool, String backend, VllmStats stats);
    }

    private void each(Each f) {
        for (BackendPool p : gateway.pools()) {
            for (Backend b : p.backends()) {
                VllmStats s = scraper.stats(b);
                if (s != null) {
                    f.accept(p.name(), b.id(), s);
                }
            }
        }
    }
}
