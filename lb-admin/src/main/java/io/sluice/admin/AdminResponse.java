package io.sluice.admin;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What an endpoint answers: a value serialised as JSON, or text with its own content type
 * (Prometheus exposition, the dashboard's files), and any headers of its own ({@code Set-Cookie},
 * the dashboard's security headers).
 */
public record AdminResponse(HttpResponseStatus status, Object json, String text, String contentType,
                            Map<String, String> headers) {

    public AdminResponse(HttpResponseStatus status, Object json, String text, String contentType) {
        this(status, json, text, contentType, Map.of());
    }

    public AdminResponse {
        headers = Map.copyOf(headers);
    }

    public static AdminResponse ok(Object json) {
        return new AdminResponse(HttpResponseStatus.OK, json, null, null);
    }

    public static AdminResponse json(HttpResponseStatus status, Object json) {
        return new AdminResponse(status, json, null, null);
    }

    public static AdminResponse text(HttpResponseStatus status, String contentType, String text) {
        return new AdminResponse(status, null, text, contentType);
    }

    /** This response with one more header (replacing one of the same name). */
    public AdminResponse header(String name, String value) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        return new AdminResponse(status, json, text, contentType, h);
    }

    /** This response with more headers. */
    public AdminResponse headers(Map<String, String> more) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.putAll(more);
        return new AdminResponse(status, json, text, contentType, h);
    }
}
