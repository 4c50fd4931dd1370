package io.sluice.core.http;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

/**
 * Responses that Sluice itself produces, in OpenAI's error shape {@code {"error":{"message","type","code"}}}.
 *
 * <p>Each carries {@code X-Sluice-Error: <code>} so that a client (or an operator reading a trace) can
 * tell a gateway 404/502 from one that vLLM sent, which Sluice passes through unchanged.
 */
public final class GatewayErrors {
    public static final AsciiString ERROR_HEADER = AsciiString.cached("x-sluice-error");

    private GatewayErrors() {
    }

    public static FullHttpResponse response(ByteBufAllocator alloc, HttpResponseStatus status, String code, String message) {
        return response(alloc, status, code, message, null);
    }

    /** @param param the request field the error is about (OpenAI's {@code param}), or null to leave it out */
    public static FullHttpResponse response(ByteBufAllocator alloc, HttpResponseStatus status, String code, String message,
                                            String param) {
        // Not Json.quote: that would initialise Jackson's ObjectMapper, which reads a time-zone file, on the
        // first error; with no file descriptor left the class would fail for good and no error could be sent.
        String quoted = new String(JsonStringEncoder.getInstance().quoteAsString(message == null ? "" : message));
        String body = "{\"error\":{\"message\":\"" + quoted + "\",\"type\":\"" + type(status, param) + "\","
                + (param == null ? "" : "\"param\":\"" + param + "\",") + "\"code\":\"" + code + "\"}}";
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                ByteBufUtil.writeUtf8(alloc, body));
        r.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes())
                .set(ERROR_HEADER, code);
        return r;
    }

    /** OpenAI-style error types, so SDKs map them to their usual exception classes. */
    private static String type(HttpResponseStatus status, String param) {
        int c = status.code();
        if (param != null && c == 404) {
            return "invalid_request_error"; // what OpenAI answers for an unknown model (code model_not_found)
        }
        if (c == 400 || c == 413 || c == 414 || c == 431) {
            return "invalid_request_error";
        }
        if (c == 401 || c == 403) {
            return "authentication_error";
        }
        if (c == 404) {
            return "not_found_error";
        }
        if (c == 405) {
            return "invalid_request_error";
        }
        if (c == 429) {
            return "rate_limit_error";
        }
        return "gateway_error";
    }
}
