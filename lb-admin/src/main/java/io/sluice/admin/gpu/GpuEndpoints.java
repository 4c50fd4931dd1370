package io.sluice.admin.gpu;

import io.netty.handler.codec.http.HttpMethod;
import io.sluice.admin.AdminContext;
import io.sluice.admin.AdminRequest;
import io.sluice.admin.AdminResponse;
import io.sluice.admin.AdminRoutes;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.sluice.admin.metrics.MetricsEndpoints;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.model.ModelCatalog;
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
import java.util.function.Function;

/**
 * {@code GET /api/gpu/status} (local GPUs, each backend's vLLM view, and the Ollama provider's models when
 * there is one) and {@code GET /v1/models}
 * answered by Sluice: the union of the models its available backends serve, from the latest scrapes.
 * On a {@code by-model} route it lists every model the pools declare, plus the aliases.
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
                .addPublicForRoute(HttpMethod.GET, "/v1/models", this::knowsModels, this::models);
    }

    private CompletionStage<AdminResponse> status(AdminRequest r) {
        CompletableFuture<Map<String, Object>> ollama = gateway.ollamaStatus().toCompletableFuture();
        return CompletableFuture.supplyAsync(probe::read, blocking).thenCombine(ollama, (gpu, ollamaView) -> {
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
            if (ollamaView != null) {
                body.put("ollama", ollamaView);
            }
            return AdminResponse.ok(body);
        });
    }

    /**
     * A by-model route: Sluice always answers (from the config) when any pool declares models. Otherwise
     * only once a healthy backend of the pool reported its models; until then vLLM does.
     */
    private boolean knowsModels(RouteConfig route) {
        if (route.byModel() && !gateway.models().isEmpty()) {
            return true;
        }
        String poolName = route.pool();
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
        if (r.route() != null && r.route().byModel()) {
            ModelCatalog catalog = gateway.models();
            if (!catalog.isEmpty()) {
                return AdminResponse.ok(Map.of("object", "list", "data", union(catalog)));
            }
        }
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

    /**
     * Every declared model in config order, then one entry per alias. A model that a healthy backend of its
     * pool reports is {@code owned_by: vllm} (as on other routes), otherwise {@code sluice} (declared, not
     * seen yet). An alias carries {@code root} and {@code parent}: the real model, as vLLM lists a LoRA
     * adapter; OpenAI's SDKs keep unknown fields and need only id, object, created and owned_by.
     */
    private List<Object> union(ModelCatalog catalog) {
        long created = gateway.startedAtMillis() / 1000;
        Map<String, Set<String>> reported = new LinkedHashMap<>(); // pool -> models its healthy backends report
        for (BackendPool p : gateway.pools()) {
            Set<String> ids = new LinkedHashSet<>();
            for (Backend b : p.backends()) {
                VllmStats s = b.isAvailable() ? scraper.stats(b) : null;
                if (s != null) {
                    ids.addAll(s.models());
                }
            }
            reported.put(p.name(), ids);
        }
        List<Object> data = new ArrayList<>();
        for (String id : catalog.served()) {
            boolean seen = reported.getOrDefault(catalog.poolFor(id), Set.of()).contains(id);
            data.add(card(id, created, seen ? "vllm" : "sluice", null));
        }
        catalog.aliases().forEach((alias, real) -> data.add(card(alias, created, "sluice", real)));
        return data;
    }

    private static Map<String, Object> card(String id, long created, String owner, String aliasOf) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", owner);
        if (aliasOf != null) {
            m.put("root", aliasOf);
            m.put("parent", aliasOf);
        }
        return m;
    }

    /** vLLM's view per backend as gauges, next to Sluice's own metrics (absent for a backend without a fresh scrape). */
    @Override
    public void register(PrometheusRegistry registry) {
        gauge(registry, "sluice_vllm_kv_cache_usage_ratio", "KV-cache usage reported by the backend's vLLM (0..1).",
                VllmStats::kvCacheUsage);
        gauge(registry, "sluice_vllm_requests_running", "Requests running on the backend, per its vLLM.", VllmStats::running);
        gauge(registry, "sluice_vllm_requests_waiting", "Requests queued on the backend, per its vLLM.", VllmStats::waiting);
    }

    private void gauge(PrometheusRegistry registry, String name, String help, Function<VllmStats, Double> value) {
        registry.register(GaugeWithCallback.builder().name(name).help(help).labelNames("pool", "backend")
                .callback(cb -> each((p, b, s) -> {
                    Double v = value.apply(s);
                    if (v != null) {
                        cb.call(v, p, b);
                    }
                })).build());
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
