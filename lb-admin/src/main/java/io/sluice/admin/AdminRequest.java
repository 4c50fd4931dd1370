package io.sluice.admin;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Map;

/** A fully read admin request: admin bodies are small, so they are aggregated (up to a limit). */
public record AdminRequest(HttpMethod method, String path, Map<String, String> pathParams,
                           QueryStringDecoder query, HttpHeaders headers, byte[] body) {

    public String param(String name) {
        return pathParams.get(name);
    }
}
