package io.sluice.admin.backend;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.admin.AdminContext;
import io.sluice.admin.AdminException;
import io.sluice.admin.AdminRequest;
import io.sluice.admin.AdminResponse;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.http.Json;
import io.sluice.admin.StatusEndpoints;
import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * {@code /api/v1/backends}: list, add, drain, enable and remove backends at runtime.
 *
 * <p>A backend is named by its id; ids are unique within a pool, so when two pools use the same id
 * the caller adds {@code ?pool=NAME}.
 */
public final class BackendEndpoints {
    private final AdminContext gateway;
    private final BackendManager manager;

    public BackendEndpoints(AdminContext gateway, BackendManager manager) {
        this.gateway = gateway;
        this.manager = manager;
    }

    public AdminRoutes register(AdminRoutes routes) {
        return routes
                .add(HttpMethod.GET, "/api/v1/backends", r -> AdminResponse.ok(list()))
                .add(HttpMethod.POST, "/api/v1/backends", this::add)
                .addAsync(HttpMethod.DELETE, "/api/v1/backends/{id}", this::remove)
                .add(HttpMethod.POST, "/api/v1/backends/{id}/drain", r -> setDraining(r, true))
                .add(HttpMethod.POST, "/api/v1/backends/{id}/enable", r -> setDraining(r, false));
    }

    private Map<String, Object> list() {
        long now = System.currentTimeMillis();
        List<Object> out = new ArrayList<>();
        for (BackendPool p : gateway.pools()) {
            for (Backend b : p.backends()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("pool", p.name());
                m.putAll(StatusEndpoints.backend(b, now));
                out.add(m);
            }
        }
        return Map.of("backends", out);
    }

    /** {@code {"pool":"vllm","url":"http://10.0.0.7:8000","name":"gpu-7","weight":1}}; name and weight optional. */
    private AdminResponse add(AdminRequest r) {
        JsonNode body = json(r);
        String pool = text(body, "pool", true);
        URI url = url(text(body, "url", true));
        String host = url.getHost().replaceAll("^\\[|\\]$", "").toLowerCase(Locale.ROOT);
        int port = url.getPort() < 0 ? 80 : url.getPort();
        String name = text(body, "name", false);
        if (name == null) {
            name = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
        int weight = body.path("weight").asInt(1);
        if (weight < 1 || weight > 1000) {
            throw bad("weight must be between 1 and 1000");
        }
        Backend b = manager.add(pool, name, host, port, weight);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pool", pool);
        m.putAll(StatusEndpoints.backend(b, System.currentTimeMillis()));
        return AdminResponse.json(HttpResponseStatus.CREATED, m);
    }

    private CompletionStage<AdminResponse> remove(AdminRequest r) {
        Backend b = find(r);
        return manager.remove(b).thenApply(left -> AdminResponse.ok(Map.of(
                "removed", b.id(), "pool", b.pool(), "drained", left == 0, "in_flight_at_removal", left)));
    }

    private AdminResponse setDraining(AdminRequest r, boolean drain) {
        Backend b = find(r);
        b.setDraining(drain);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pool", b.pool());
        m.putAll(StatusEndpoints.backend(b, System.currentTimeMillis()));
        return AdminResponse.ok(m);
    }

    private Backend find(AdminRequest r) {
        String id = r.param("id");
        List<String> poolParam = r.query().parameters().get("pool");
        String pool = poolParam == null || poolParam.isEmpty() ? null : poolParam.get(0);
        Backend found = null;
        for (BackendPool p : gateway.pools()) {
            if (pool != null && !pool.equals(p.name())) {
                continue;
            }
            for (Backend b : p.backends()) {
                if (b.id().equals(id)) {
                    if (found != null) {
                        throw new AdminException(HttpResponseStatus.CONFLICT, "ambiguous_backend",
                                "backend '" + id + "' exists in pools " + found.pool() + " and " + b.pool() + "; add ?pool=NAME");
                    }
                    found = b;
                }
            }
        }
        if (found == null) {
            throw new AdminException(HttpResponseStatus.NOT_FOUND, "backend_not_found", "no backend '" + id + "'"
                    + (pool == null ? "" : " in pool '" + pool + "'"));
        }
        return found;
    }

    static JsonNode json(AdminRequest r) {
        try {
            JsonNode n = Json.MAPPER.readTree(r.body());
            if (n == null || !n.isObject()) {
                throw bad("expected a JSON object");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw bad("malformed JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw bad("unreadable body: " + e.getMessage());
        }
    }

    static String text(JsonNode body, String field, boolean required) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                throw bad("missing field '" + field + "'");
            }
            return null;
        }
        if (!n.isTextual() || n.asText().isEmpty()) {
            throw bad("field '" + field + "' must be a non-empty string");
        }
        return n.asText();
    }

    private static URI url(String s) {
        try {
            URI u = new URI(s);
            if (!"http".equalsIgnoreCase(u.getScheme()) || u.getHost() == null || u.getUserInfo() != null) {
                throw bad("url must look like http://host:port (without credentials)");
            }
            return u;
        } catch (java.net.URISyntaxException e) {
            throw bad("url must look like http://host:port"); // not echoed: it might carry a secret
        }
    }

    static AdminException bad(String message) {
        return new AdminException(HttpResponseStatus.BAD_REQUEST, "bad_request", message);
    }
}
