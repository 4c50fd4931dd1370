package io.sluice.http.services;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.sluice.core.exchange.ExchangeTarget;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.GatewayErrors;
import io.sluice.http.provider.BrowserGuard;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;

/**
 * The common part of the built-in services: a browser's own page calls them, so a cross-origin
 * {@code Origin} the listener's {@code cors.origins} do not allow is refused ({@link BrowserGuard}), and
 * a POST must say {@code application/json} (a cross-origin form cannot without a preflight). The body
 * is read up to the service's limit (413 beyond it), then {@link #handle} runs on the services' thread
 * and its answer is written back on the channel's event loop.
 */
abstract class JsonService implements ExchangeTarget {
    /**
     * What {@link #handle} answers: a status and a JSON body (null for none, as for 204), or an error
     * (code and message, in {@link GatewayErrors}' shape) with its {@code Retry-After} or {@code Allow}.
     */
    record Answer(HttpResponseStatus status, String json, String code, String message, long retryAfter, String allow) {
        static Answer ok(HttpResponseStatus status, String json) {
            return new Answer(status, json, null, null, 0, null);
        }

        static Answer error(HttpResponseStatus status, String code, String message) {
            return new Answer(status, null, code, message, 0, null);
        }
    }

    protected final ChannelHandlerContext ctx;
    protected final BuiltinServices services;
    private RequestContext rc;
    private HttpRequest request;
    private ByteBuf body;
    private long limit;
    private boolean done;  // answered (or refused): later body parts are dropped

    JsonService(ChannelHandlerContext ctx, BuiltinServices services) {
        this.ctx = ctx;
        this.services = services;
    }

    /**
     * At the head: null to read the body and go on, or an answer (a refusal) instead. {@code rest} is the
     * path after the route's prefix, without leading slashes.
     */
    abstract Answer check(RequestContext rc, HttpRequest req, String rest);

    /** The largest body this service reads now. */
    abstract long maxBytes();

    /** On the services' thread: the answer to a request whose whole body is {@code body}. */
    abstract Answer handle(RequestContext rc, HttpRequest req, String rest, byte[] body) throws Exception;

    @Override
    public final void onRequest(RequestContext rc, HttpRequest head) {
        this.rc = rc;
        this.request = head;
        this.done = false;
        Answer refusal = preflight(rc, head);
        if (refusal != null) {
            done = true;
            ReferenceCountUtil.release(head);
            write(rc, refusal);
            return;
        }
        limit = maxBytes();
        body = ctx.alloc().buffer();
        if (head instanceof HttpContent c) {
            onRequestContent(c.retain());
            ReferenceCountUtil.release(head);
        }
    }

    private Answer preflight(RequestContext rc, HttpRequest req) {
        if (!BrowserGuard.allowed(rc)) {
            return Answer.error(HttpResponseStatus.FORBIDDEN, "origin_not_allowed", "origin "
                    + req.headers().get(HttpHeaderNames.ORIGIN) + " may not use this service (list it in the listener's cors.origins)");
        }
        Answer a = check(rc, req, rest(rc));
        if (a != null) {
            return a;
        }
        if (HttpMethod.POST.equals(req.method())) {
            if (!isJson(req.headers())) {
                return Answer.error(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                        "the body must be application/json");
            }
            long length = HttpUtil.getContentLength(req, -1L);
            if (length > maxBytes()) {
                return tooLarge();
            }
        }
        return null;
    }

    private Answer tooLarge() {
        return Answer.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                "the body is larger than " + maxBytes() + " bytes");
    }

    static boolean isJson(HttpHeaders h) {
        String type = h.get(HttpHeaderNames.CONTENT_TYPE);
        if (type == null) {
            return false;
        }
        int semi = type.indexOf(';');
        return (semi < 0 ? type : type.substring(0, semi)).trim().toLowerCase(Locale.ROOT).equals("application/json");
    }

    /** The path after the route's prefix, without leading slashes. */
    static String rest(RequestContext rc) {
        String path = rc.path();
        String prefix = rc.route().pathPrefix();
        String rest = path.length() <= prefix.length() ? "" : path.substring(prefix.length());
        int i = 0;
        while (i < rest.length() && rest.charAt(i) == '/') {
            i++;
        }
        return rest.substring(i);
    }

    @Override
    public final void onRequestContent(HttpContent content) {
        if (done || body == null) {
            content.release();
            return;
        }
        boolean last = content instanceof LastHttpContent;
        ByteBuf c = content.content();
        if (body.readableBytes() + (long) c.readableBytes() > limit) {
            content.release();
            releaseBody();
            done = true;
            write(rc, tooLarge());
            return;
        }
        body.writeBytes(c);
        content.release();
        if (last) {
            done = true;
            byte[] bytes = ByteBufUtil.getBytes(body);
            releaseBody();
            RequestContext r = rc;
            HttpRequest req = request;
            String rest = rest(r);
            try {
                services.worker().execute(() -> {
                    Answer a;
                    try {
                        a = handle(r, req, rest, bytes);
                    } catch (Exception e) {
                        org.slf4j.LoggerFactory.getLogger(getClass()).warn("service {} failed", r.path(), e);
                        a = Answer.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "service_error", "internal error");
                    }
                    Answer answer = a;
                    try {
                        ctx.executor().execute(() -> write(r, answer));
                    } catch (RejectedExecutionException shuttingDown) {
                        // the loop is stopping; the connection goes with it
                    }
                });
            } catch (RejectedExecutionException shuttingDown) {
                write(r, Answer.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting_down", "the gateway is stopping"));
            }
        }
    }

    /** On the event loop. A context whose exchange is over (the client left) drops what it is given. */
    private void write(RequestContext r, Answer a) {
        if (!ctx.channel().isActive()) {
            return;
        }
        FullHttpResponse resp;
        if (a.code() != null) {
            resp = GatewayErrors.response(ctx.alloc(), a.status(), a.code(), a.message());
            if (a.allow() != null) {
                resp.headers().set(HttpHeaderNames.ALLOW, a.allow());
            }
            if (a.retryAfter() > 0) {
                resp.headers().set(HttpHeaderNames.RETRY_AFTER, a.retryAfter());
            }
        } else {
            byte[] json = a.json() == null ? new byte[0] : a.json().getBytes(StandardCharsets.UTF_8);
            resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, a.status(), ctx.alloc().buffer(json.length).writeBytes(json));
            if (a.json() != null) {
                resp.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            }
            resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, json.length);
        }
        resp.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        r.writeAndFlush(resp);
    }

    static Answer methodNotAllowed(String allowed, String path) {
        return new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, null, "method_not_allowed", allowed + " only, on " + path,
                0, allowed);
    }

    static Answer notFound(String path) {
        return Answer.error(HttpResponseStatus.NOT_FOUND, "not_found", "no service endpoint " + path);
    }

    private void releaseBody() {
        if (body != null) {
            body.release();
            body = null;
        }
    }

    @Override
    public final void onClientClosed() {
        abort();
    }

    @Override
    public final void abort() {
        releaseBody();
        done = true;
        request = null;
    }
}
