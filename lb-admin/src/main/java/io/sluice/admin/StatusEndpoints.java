package io.sluice.admin;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.Durations;
import io.sluice.core.pool.BackendPool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code GET /api/health}, {@code GET /api/ready} and {@code GET /api/v1/status}. */
public final class StatusEndpoints {
    /**
     * The probe of a kubelet or an L4 load balancer: answered by an event loop without credentials (it tells
     * nothing but that this process serves), and independent of the backends, so that a vLLM outage does not
     * take every gateway out of its Service (clients keep getting Sluice's JSON 503s) or get them restarted.
     * Once draining has begun the listener is closed, so the probe fails by refused connection.
     */
    public static final String READY = "/api/ready";
    private final AdminContext gateway;

    public StatusEndpoints(AdminContext gateway) {
        this.gateway = gateway;
    }

    public AdminRoutes register(AdminRoutes routes) {
        return routes
                .add(HttpMethod.GET, "/api/health", r -> health())
                .add(HttpMethod.GET, READY, r -> AdminResponse.ok(Map.of("status", "ready")))
                .add(HttpMethod.GET, "/api/v1/status", r -> AdminResponse.ok(status()));
    }

    /**
     * 200 while every pool can serve, 503 when a pool has no healthy backend: a load balancer in front can use it.
     * ({@code available} excludes drained backends.) {@code providers} reports each provider's last
     * reachability check; an unreachable provider does not make the answer 503 (Sluice itself still serves,
     * and a group falls back past it).
     */
    AdminResponse health() {
        Map<String, Object> pools = new LinkedHashMap<>();
        int healthy = 0;
        boolean allServing = true;
        for (BackendPool p : gateway.pools()) {
            int h = p.healthyCount();
            healthy += h;
            allServing &= h > 0;
            pools.put(p.name(), Map.of("healthy", h, "available", p.availableCount(), "total", p.backends().size()));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", allServing ? "up" : "degraded");
        body.put("healthy_backends", healthy);
        body.put("pools", pools);
        body.put("providers", gateway.providerHealth());
        return AdminResponse.json(allServing ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, body);
    }

    Map<String, Object> status() {
        Map<String, Object> body = new LinkedHashMap<>();
        long now = System.currentTimeMillis();
        body.put("version", gateway.version());
        body.put("uptime_seconds", (now - gateway.startedAtMillis()) / 1000);
        body.put("listeners", gateway.listeners());
        List<Object> pools = new ArrayList<>();
        for (BackendPool p : gateway.pools()) {
            Map<String, Object> pool = new LinkedHashMap<>();
            pool.put("name", p.name());
            pool.put("balancer", p.config().balancer());
            pool.put("healthy", p.healthyCount());
            pool.put("available", p.availableCount());
            pool.put("queued", p.queued());
            pool.put("health_check", Map.of(
                    "enabled", p.config().health().enabled(),
                    "path", p.config().health().path(),
                    "interval", Durations.format(p.config().health().interval())));
            List<Object> backends = new ArrayList<>();
            for (Backend b : p.backends()) {
                backends.add(backend(b, now));
            }
            pool.put("backends", backends);
            pools.add(pool);
        }
        body.put("pools", pools);
        return body;
    }

    public static Map<String, Object> backend(Backend b, long now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", b.id());
        m.put("address", b.host() + ":" + b.port());
        m.put("weight", b.weight());
        m.put("state", b.state().name().toLowerCase(java.util.Locale.ROOT));
        m.put("state_reason", b.stateReason());
        m.put("draining", b.isDraining());
        m.put("state_for_seconds", (now - b.stateSinceMillis()) / 1000);
        m.put("in_flight", b.inFlight());
        m.put("requests_total", b.requests());
        m.put("failures_total", b.failures());
        Backend.HealthResult h = b.lastHealth();
        if (h != null) {
            Map<String, Object> hm = new LinkedHashMap<>();
            hm.put("ok", h.ok());
            hm.put("detail", h.detail());
            hm.put("latency_ms", h.latencyMicros() / 1000.0);
            hm.put("seconds_ago", (now - h.atMillis()) / 1000);
            m.put("last_check", hm);
        }
        return m;
    }
}
