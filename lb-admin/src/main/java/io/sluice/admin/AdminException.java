package io.sluice.admin;

import io.netty.handler.codec.http.HttpResponseStatus;

/** Thrown by an endpoint to answer with a gateway error (status, code, message). */
public final class AdminException extends RuntimeException {
    private final HttpResponseStatus status;
    private final String code;

    public AdminException(HttpResponseStatus status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    public HttpResponseStatus status() {
        return status;
    }

    public String code() {
        return code;
    }
}
