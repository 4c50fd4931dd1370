package io.sluice.admin;

import io.sluice.core.http.GatewayErrors;
import io.sluice.core.http.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import io.sluice.core.exchange.ExchangeTarget;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.route.RouteTarget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API as an exchange target: requests whose target is {@link RouteTarget.Admin}, the admin
 * routes and the public endpoints answered on proxied routes ({@code GET /v1/models}).
 *
 * <p>Bodies are aggregated up to {@link #MAX_BODY}; endpoints run on the event loop and must not block:
 * slow ones answer with a {@link java.util.concurrent.CompletionStage} ({@link AsyncAdminEndpoint}).
 * Access to the admin routes is checked at the head by {@link AdminAccessFilter}, so a refused request
 * is answered before its body is read, and its body is dropped, never buffered.
 */
public final class AdminHandler implements ExchangeTarget {
    private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
    static final int MAX_BODY = 1 << 20;

    private final AdminRoutes routes;
    private final ChannelHandlerContext ctx;
    private RequestContext rc;
    private HttpRequest request;
    private CompositeByteBuf body;
    private String pool;                      // set for a public endpoint on a proxied route...
    private AsyncAdminEndpoint publicEndpoint; // ...decided once, at the request head
    private boolean tooLarge;

    /** @param ctx the context of the exchange handler that drives this target */
    public AdminHandler(AdminRoutes routes, ChannelHandlerContext ctx) {
        this.routes = routes;
        this.ctx = ctx;
    }

    @Override
    public void onRequest(RequestContext rc, HttpRequest req) {
        this.rc = rc;
        boolean open = rc.target() instanceof RouteTarget.Admin a && a.open();
        request = req;
        pool = rc.route() == null ? null : rc.route().pool();
        publicEndpoint = open ? publicEndpoint(req, rc.route()) : null;
        tooLarge = false;
        body = ctx.alloc().compositeBuffer();
        if (req instanceof HttpContent) {
            onRequestContent((HttpContent) req);
        }
    }

    @Override
    public void onRequestContent(HttpContent msg) {
        if (request == null) {
            msg.release();
            return;
        }
        ByteBuf content = msg.content();
        if (!tooLarge && body.readableBytes() + content.readableBytes() <= MAX_BODY) {
            body.addComponent(true, content.retain());
        } else {
            tooLarge = true;
        }
        boolean last = msg instanceof LastHttpContent;
        msg.release();
        if (last) {
            HttpRequest req = request;
            CompositeByteBuf b = body;
            request = null;
            body = null;
            byte[] bytes;
            try {
                bytes = tooLarge ? null : ByteBufUtil.getBytes(b);
            } finally {
                b.release();
            }
            if (bytes == null) {
                rc.writeAndFlush(GatewayErrors.response(ctx.alloc(), HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                        "body_too_large", "admin request bodies are limited to " + MAX_BODY + " bytes"));
                return;
            }
            AsyncAdminEndpoint open = publicEndpoint;
            String p = pool;
            pool = null;
            publicEndpoint = null;
            respond(req, bytes, p, rc.route(), open);
        }
    }

    private AsyncAdminEndpoint publicEndpoint(HttpRequest req, RouteConfig route) {
        if (!routes.hasPublic()) {
            return null;
        }
        String uri = req.uri();
        int q = uri.indexOf('?');
        return routes.matchPublic(req.method(), q < 0 ? uri : uri.substring(0, q), route);
    }

    /**
     * Runs the endpoint and writes its answer when it is ready. The dispatcher holds back further
     * requests on this connection until the response is written, so answers stay in order.
     */
    private void respond(HttpRequest req, byte[] bytes, String pool, RouteConfig route, AsyncAdminEndpoint open) {
        QueryStringDecoder query = new QueryStringDecoder(req.uri());
        String path = query.path();
        CompletionStage<AdminResponse> answer;
        try {
            if (open != null) {
                answer = open.handle(new AdminRequest(req.method(), path, java.util.Map.of(), query, req.headers(), bytes, pool, route,
                        client(), secure()));
                answer(rc, req, path, answer);
                return;
            }
            AdminRoutes.Match match = routes.match(req.method(), path);
            if (match.endpoint() == null) {
                throw match.pathKnown()
                        ? new AdminException(HttpResponseStatus.METHOD_NOT_ALLOWED,
                                "method_not_allowed", req.method() + " is not allowed on " + path)
                        : new AdminException(HttpResponseStatus.NOT_FOUND,
                                "admin_route_not_found", "no admin endpoint " + path);
            }
            answer = match.endpoint().handle(
                    new AdminRequest(req.method(), path, match.params(), query, req.headers(), bytes, null, null,
                            client(), secure()));
        } catch (Exception e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer(rc, req, path, answer);
    }

    /** The client's per-address limit key (behind trusted proxies, the forwarded client's). */
    private String client() {
        return rc.client() == null ? null : rc.client().limitKey();
    }

    /** Whether the request came over TLS: the connection's pipeline has the SslHandler (an HTTP/2 stream's parent does). */
    private boolean secure() {
        io.netty.channel.Channel ch = ctx.channel();
        return ch.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null
                || (ch.parent() != null && ch.parent().pipeline().get(io.netty.handler.ssl.SslHandler.class) != null);
    }

    private void answer(RequestContext rc, HttpRequest req, String path, CompletionStage<AdminResponse> answer) {
        boolean head = req.method().equals(HttpMethod.HEAD);
        String what = req.method() + " " + path;
        answer.whenComplete((r, error) -> {
            EventExecutor loop = ctx.executor();
            if (loop.inEventLoop()) {
                write(rc, what, head, r, error);
            } else {
                try {
                    loop.execute(() -> write(rc, what, head, r, error));
                } catch (RejectedExecutionException shuttingDown) {
                    // the gateway is stopping; the connection goes with it
                }
            }
        });
    }

    /** On the event loop. Nothing is allocated for a connection that closed while the answer was prepared. */
    private void write(RequestContext rc, String what, boolean head, AdminResponse r, Throwable error) {
        if (!ctx.channel().isActive()) {
            return;
        }
        FullHttpResponse resp;
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e == null) {
            try {
                resp = toHttp(ctx, head, r);
            } catch (Exception ex) {
                e = ex;
                resp = null;
            }
        } else {
            resp = null;
        }
        if (e instanceof AdminException ae) {
            resp = refusal(ctx, ae);
        } else if (e != null) {
            log.warn("admin endpoint {} failed", what, e);
            resp = GatewayErrors.response(ctx.alloc(), HttpResponseStatus.INTERNAL_SERVER_ERROR,
                    "admin_error", "internal error: " + e);
        }
        rc.writeAndFlush(resp);
    }

    static FullHttpResponse refusal(ChannelHandlerContext ctx, AdminException ae) {
        return refusal(ctx.alloc(), ae);
    }

    static FullHttpResponse refusal(io.netty.buffer.ByteBufAllocator alloc, AdminException ae) {
        FullHttpResponse resp = GatewayErrors.response(alloc, ae.status(), ae.code(), ae.getMessage());
        if (ae.status().code() == 401) {
            resp.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
        }
        if (ae.retryAfterSeconds() > 0) {
            resp.headers().set(HttpHeaderNames.RETRY_AFTER, ae.retryAfterSeconds());
        }
        return resp;
    }

    private static FullHttpResponse toHttp(ChannelHandlerContext ctx, boolean head, AdminResponse r) throws Exception {
        byte[] payload;
        CharSequence type;
        if (r.text() != null) {
            payload = r.text().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            type = r.contentType();
        } else {
            payload = Json.MAPPER.writeValueAsBytes(r.json());
            type = HttpHeaderValues.APPLICATION_JSON;
        }
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, r.status(),
                head ? ctx.alloc().buffer(0) : ctx.alloc().buffer(payload.length).writeBytes(payload));
        resp.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, type)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, payload.length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        r.headers().forEach(resp.headers()::set);
        return resp;
    }

    @Override
    public void onClientClosed() {
        abort();
    }

    @Override
    public void abort() {
        if (body != null) {
            body.release();
            body = null;
        }
        request = null;
    }
}
