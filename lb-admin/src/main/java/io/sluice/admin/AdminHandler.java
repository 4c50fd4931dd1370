package io.sluice.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
import io.sluice.core.config.RouteConfig;
import io.sluice.core.route.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves requests routed to {@code admin: true}; passes every other request down the pipeline.
 *
 * <p>It sits after the dispatcher, which has already matched the route and put it in {@link Router#ROUTE}.
 * Admin bodies are aggregated up to {@link #MAX_BODY}; endpoints run on the event loop and must not block:
 * slow ones answer with a {@link java.util.concurrent.CompletionStage} ({@link AsyncAdminEndpoint}).
 * Every request passes {@link AdminAccess} first, at its head: a refused one is answered before its
 * body is read, and its body is dropped, never buffered.
 */
public final class AdminHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
    static final int MAX_BODY = 1 << 20;

    private final AdminRoutes routes;
    private HttpRequest request;
    private CompositeByteBuf body;
    private String pool;                      // set for a public endpoint on a proxied route...
    private RouteConfig publicRoute;          // ...with its route...
    private AsyncAdminEndpoint publicEndpoint; // ...decided once, at the request head
    private boolean tooLarge;
    private boolean dropping;                 // the rest of a request refused at its head

    public AdminHandler(AdminRoutes routes) {
        this.routes = routes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            RouteConfig route = ctx.channel().attr(Router.ROUTE).get();
            AsyncAdminEndpoint open = route == null || route.admin() ? null : publicEndpoint((HttpRequest) msg, route);
            if (route == null || (!route.admin() && open == null)) {
                ctx.fireChannelRead(msg);
                return;
            }
            HttpRequest req = (HttpRequest) msg;
            if (open == null) {
                try {
                    // Decided from the head: a refused request is answered before its body is read.
                    routes.access().check(ctx.channel(), req.method(), req.headers());
                } catch (AdminException refused) {
                    dropping = !(msg instanceof LastHttpContent);
                    ReferenceCountUtil.release(msg);
                    write(ctx, req.method() + " " + req.uri(), false, null, refused);
                    return;
                }
            }
            request = req;
            pool = route.pool();
            publicRoute = open == null ? null : route;
            publicEndpoint = open;
            tooLarge = false;
            body = ctx.alloc().compositeBuffer();
        } else if (dropping) {
            if (msg instanceof LastHttpContent) {
                dropping = false;
            }
            ReferenceCountUtil.release(msg);
            return;
        } else if (request == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (msg instanceof HttpContent) {
            ByteBuf content = ((HttpContent) msg).content();
            if (!tooLarge && body.readableBytes() + content.readableBytes() <= MAX_BODY) {
                body.addComponent(true, content.retain());
            } else {
                tooLarge = true;
            }
        }
        ReferenceCountUtil.release(msg);
        if (msg instanceof LastHttpContent) {
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
                ctx.writeAndFlush(GatewayErrors.response(ctx.alloc(), HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                        "body_too_large", "admin request bodies are limited to " + MAX_BODY + " bytes"));
                return;
            }
            AsyncAdminEndpoint open = publicEndpoint;
            String p = pool;
            RouteConfig r = publicRoute;
            pool = null;
            publicRoute = null;
            publicEndpoint = null;
            respond(ctx, req, bytes, p, r, open);
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
    private void respond(ChannelHandlerContext ctx, HttpRequest req, byte[] bytes, String pool, RouteConfig route,
                         AsyncAdminEndpoint open) {
        QueryStringDecoder query = new QueryStringDecoder(req.uri());
        String path = query.path();
        CompletionStage<AdminResponse> answer;
        try {
            if (open != null) {
                answer = open.handle(new AdminRequest(req.method(), path, java.util.Map.of(), query, req.headers(), bytes, pool, route));
                answer(ctx, req, path, answer);
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
                    new AdminRequest(req.method(), path, match.params(), query, req.headers(), bytes, null));
        } catch (Exception e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer(ctx, req, path, answer);
    }

    private void answer(ChannelHandlerContext ctx, HttpRequest req, String path, CompletionStage<AdminResponse> answer) {
        boolean head = req.method().equals(HttpMethod.HEAD);
        String what = req.method() + " " + path;
        answer.whenComplete((r, error) -> {
            EventExecutor loop = ctx.executor();
            if (loop.inEventLoop()) {
                write(ctx, what, head, r, error);
            } else {
                try {
                    loop.execute(() -> write(ctx, what, head, r, error));
                } catch (RejectedExecutionException shuttingDown) {
                    // the gateway is stopping; the connection goes with it
                }
            }
        });
    }

    /** On the event loop. Nothing is allocated for a connection that closed while the answer was prepared. */
    private static void write(ChannelHandlerContext ctx, String what, boolean head, AdminResponse r, Throwable error) {
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
            resp = GatewayErrors.response(ctx.alloc(), ae.status(), ae.code(), ae.getMessage());
            if (ae.status().code() == 401) {
                resp.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
            }
        } else if (e != null) {
            log.warn("admin endpoint {} failed", what, e);
            resp = GatewayErrors.response(ctx.alloc(), HttpResponseStatus.INTERNAL_SERVER_ERROR,
                    "admin_error", "internal error: " + e);
        }
        ctx.writeAndFlush(resp);
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
        return resp;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (body != null) {
            body.release();
            body = null;
            request = null;
        }
        ctx.fireChannelInactive();
    }
}
