package io.sluice.http.server;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.GatewayErrors;

/**
 * The first filter: requests the edge refuses before anything else looks at them (a head the decoder
 * could not read, too many header fields, an ambiguous target or framing, a declared body over the
 * limit). Each refusal closes the connection, whose byte stream can no longer be trusted.
 */
final class RequestValidation implements ExchangeFilter {
    private final ListenerConfig config;

    RequestValidation(ListenerConfig config) {
        this.config = config;
    }

    @Override
    public FullHttpResponse onRequestHead(RequestContext rc) {
        HttpRequest req = rc.request();
        if (req.decoderResult().isFailure()) {
            Throwable cause = req.decoderResult().cause();
            if (cause instanceof TooLongHttpLineException) {
                return refuse(rc, HttpResponseStatus.REQUEST_URI_TOO_LONG, "uri_too_long",
                        "request line longer than " + config.maxInitialLine() + " bytes");
            }
            if (cause instanceof TooLongHttpHeaderException) {
                return refuse(rc, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large",
                        "request headers larger than " + config.maxHeaderSize() + " bytes");
            }
            return refuse(rc, HttpResponseStatus.BAD_REQUEST, "bad_request", "malformed request: " + cause.getMessage());
        }
        if (req.headers().size() > config.maxHeaders()) {
            return refuse(rc, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "too_many_headers",
                    "more than " + config.maxHeaders() + " header fields");
        }
        String problem = RequestChecks.problem(req, rc.path(), !(rc.channel() instanceof Http2StreamChannel));
        if (problem != null) {
            return refuse(rc, HttpResponseStatus.BAD_REQUEST, "bad_request", problem);
        }
        if (HttpUtil.getContentLength(req, 0L) > config.maxRequestBody()) {
            return refuse(rc, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                    "request body larger than " + config.maxRequestBody() + " bytes"); // the body will not be read
        }
        return null;
    }

    private static FullHttpResponse refuse(RequestContext rc, HttpResponseStatus status, String code, String message) {
        rc.closeConnection();
        return GatewayErrors.response(rc.channel().alloc(), status, code, message);
    }
}
