package io.sluice.admin;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.sluice.core.config.RouteConfig;
import java.util.Map;

/**
 * A fully read admin request: admin bodies are small, so they are aggregated (up to a limit).
 *
 * @param pool  for a public endpoint on a proxied route, that route's pool (null on a by-model route
 *              without a default pool); null on admin routes
 * @param route for a public endpoint on a proxied route, that route; null on admin routes
 * @param client the client's per-address key (its address; an IPv6 client's /64), for per-client limits; may be null
 * @param secure whether the request came over TLS
 */
public record AdminRequest(HttpMethod method, String path, Map<String, String> pathParams,
                           QueryStringDecoder query, HttpHeaders headers, byte[] body, String pool, RouteConfig route,
                           String client, boolean secure) {

    public AdminRequest(HttpMethod method, String path, Map<String, String> pathParams,
                        QueryStringDecoder query, HttpHeaders headers, byte[] body, String pool, RouteConfig route) {
        this(method, path, pathParams, query, headers, body, pool, route, null, false);
    }

    public AdminRequest(HttpMethod method, String path, Map<String, String> pathParams,
                        QueryStringDecoder query, HttpHeaders headers, byte[] body, String pool) {
        this(method, path, pathParams, query, headers, body, pool, null);
    }

    public String param(String name) {
        return pathParams.get(name);
    }
}
