package io.sluice.admin;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Map;

/**
 * A fully read admin request: admin bodies are small, so they are aggregated (up to a limit).
 *
 * @param pool for a public endpoint on a proxied route, that route's pool; null on admin routes
 */
public record AdminRequest(HttpMethod method, String path, Map<String, String> pathParams,
                           QueryStringDecoder query, HttpHeaders headers, byte[] body, String pool) {

    public String param(String name) {
        return pathParams.get(name);
    }
}
