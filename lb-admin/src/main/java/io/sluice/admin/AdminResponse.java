package io.sluice.admin;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * What an endpoint answers: a value serialised as JSON, or text with its own content type
 * (Prometheus exposition, for one).
 */
public record AdminResponse(HttpResponseStatus status, Object json, String text, String contentType) {

    public static AdminResponse ok(Object json) {
        return new AdminResponse(HttpResponseStatus.OK, json, null, null);
    }

    public static AdminResponse json(HttpResponseStatus status, Object json) {
        return new AdminResponse(status, json, null, null);
    }

    public static AdminResponse text(HttpResponseStatus status, String contentType, String text) {
        return new AdminResponse(status, null, text, contentType);
    }
}
