package io.sluice.http.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.sluice.admin.GatewayErrors;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.route.RouteTable;
import io.sluice.core.route.Router;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.sluice.core.config.ListenerConfig;
import io.sluice.http.proxy.ClientAddress;
import io.sluice.http.proxy.Headers;
import io.sluice.http.proxy.ProxyHandler;
import io.sluice.core.config.Durations;
import io.sluice.http.timeout.IdleTimeout;
import io.sluice.http.timeout.Sweeper;
import io.sluice.http.timeout.Watch;
import io.sluice.core.observe.Exchange;
import io.sluice.core.observe.ExchangeObserver;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front of every HTTP/1.1 connection: matches each request to a route, answers 404 and 400
 * itself, and keeps one request in progress at a time so responses leave in request order.
 *
 * <p>It watches responses go out (the outbound side) to know when the current exchange is over:
 * then it closes a non-keep-alive connection, or releases the next pipelined request it held back.
 * It also stamps every request and response with an {@code X-Request-Id}, kept from the client or made here.
 */
final class RequestDispatcher extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(RequestDispatcher.class);

    private final RouteTable routes;
    private final Supplier<ListenerConfig> configs;
    private ListenerConfig config;              // the listener's settings when the current request arrived
    private final RequestGuard guard;
    private final String listener;
    private final List<ExchangeObserver> observers;
    private final ArrayDeque<Object> held = new ArrayDeque<>(2);
    private final Consumer<ChannelHandlerContext> hibernate;
    private boolean inExchange;     // a request was dispatched and its response has not ended
    private boolean discarding;     // dropping the body of a request answered here
    private boolean keepAlive;
    private boolean http10;
    private String requestId;
    private Exchange current;
    private long bodyBytes;
    private boolean draining;
    private int heldRequests;       // pipelined requests waiting in held
    private boolean overflowed;
    private int bodyReads;
    private int bodyReadsSeen;
    private long bodyMark;
    private ChannelHandlerContext ctx;
    private final Watch bodyWatch = new Watch() {
        @Override
        protected void check(long now) {
            checkBody(ctx, now);
        }
    };

    /**
     * @param guard     the raw-bytes guard of an HTTP/1.1 connection, or null (HTTP/2 streams)
     * @param hibernate strips a quiet connection down to its dormant form, or null (never)
     */
    RequestDispatcher(RouteTable routes, Supplier<ListenerConfig> configs, RequestGuard guard, List<ExchangeObserver> observers,
                      Consumer<ChannelHandlerContext> hibernate) {
        this.hibernate = hibernate;
        this.routes = routes;
        this.configs = configs;
        this.config = configs.get();
        this.guard = guard;
        this.listener = this.config.name();
        this.observers = observers;
    }

    /** Requests held back behind the one in progress, at most; more close the connection. */
    static final int MAX_PIPELINED = 16;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        Sweeper.disarm(bodyWatch);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (overflowed) {
            ReferenceCountUtil.release(msg); // too many pipelined requests: the connection closes after its answer
            return;
        }
        if (guard != null) {
            // The guard times decoding, so it hears of heads and ends as they arrive, held or not.
            if (msg instanceof HttpRequest) {
                guard.headDecoded();
            }
            if (msg instanceof LastHttpContent) {
                guard.nextHead();
            }
        }
        if (!held.isEmpty() || (inExchange && msg instanceof HttpRequest)) {
            // A pipelined request: hold it (and what follows) until the current response has ended.
            if (msg instanceof HttpRequest && ++heldRequests > MAX_PIPELINED) {
                overflow(ctx);
                ReferenceCountUtil.release(msg);
                return;
            }
            held.add(msg);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        dispatch(ctx, msg);
    }

    /** More pipelined requests than we hold: drop them, answer what is in progress, then close. */
    private void overflow(ChannelHandlerContext ctx) {
        log.debug("{}: more than {} pipelined requests; closing after the current response", ctx.channel(), MAX_PIPELINED);
        overflowed = true;
        keepAlive = false;
        held.forEach(ReferenceCountUtil::release);
        held.clear();
        heldRequests = 0;
        ctx.channel().config().setAutoRead(false);
        if (!inExchange) {
            ctx.close();
        }
    }

    private void dispatch(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpContent) {
            bodyRead(msg);
        }
        if (msg instanceof HttpRequest) {
            onRequest(ctx, (HttpRequest) msg);
        } else if (msg instanceof HttpObject && ((HttpObject) msg).decoderResult().isFailure()) {
            // A broken body (bad chunk framing): the connection cannot be resynchronised.
            ReferenceCountUtil.release(msg);
            badBody(ctx, HttpResponseStatus.BAD_REQUEST, "bad_request", "malformed request body");
            return;
        } else if (discarding) {
            countIn(msg);
            if (msg instanceof LastHttpContent) {
                discarding = false;
            }
            ReferenceCountUtil.release(msg);
        } else if (msg instanceof HttpContent && inExchange
                && (bodyBytes += ((HttpContent) msg).content().readableBytes()) > config.maxRequestBody()) {
            ReferenceCountUtil.release(msg);
            badBody(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                    "request body larger than " + config.maxRequestBody() + " bytes");
            return;
        } else {
            countIn(msg);
            ctx.fireChannelRead(msg);
        }
    }

    // ---- the body-read timeout: the longest wait between two reads of a request body ----

    private void startBodyClock(ChannelHandlerContext ctx, HttpRequest req) {
        long timeout = config.bodyTimeout().toNanos();
        if (timeout > 0 && !(req instanceof LastHttpContent)) {
            bodyReads = 0;
            bodyReadsSeen = 0;
            bodyMark = System.nanoTime();
            Sweeper.of(ctx.executor()).arm(bodyWatch, timeout);
        }
    }

    private void bodyRead(Object msg) {
        bodyReads++; // counted, not timed: the sweep reads the clock
        if (msg instanceof LastHttpContent) {
            Sweeper.disarm(bodyWatch);
        }
    }

    private void checkBody(ChannelHandlerContext ctx, long now) {
        if (!ctx.channel().isActive()) {
            Sweeper.disarm(bodyWatch);
            return;
        }
        if (bodyReads != bodyReadsSeen || !ctx.channel().config().isAutoRead()) {
            // Progress, or Sluice itself stopped reading (backpressure, a held request): not the client's delay.
            bodyReadsSeen = bodyReads;
            bodyMark = now;
            return;
        }
        if (now - bodyMark >= config.bodyTimeout().toNanos()) {
            Sweeper.disarm(bodyWatch);
            log.debug("request {}: no body bytes for {}; closing", requestId, config.bodyTimeout());
            badBody(ctx, HttpResponseStatus.REQUEST_TIMEOUT, "body_timeout",
                    "no request body bytes received for " + Durations.format(config.bodyTimeout()));
        }
    }

    /** The body of a request being handled went wrong: answer if nothing was sent yet, then close. */
    private void badBody(ChannelHandlerContext ctx, HttpResponseStatus status, String code, String message) {
        log.debug("request {}: {} {}", requestId, status.code(), message);
        keepAlive = false;
        ctx.fireUserEventTriggered(ProxyHandler.AbortRequest.INSTANCE);
        if (inExchange && current != null && current.responseHeadNanos == 0) {
            write(ctx, GatewayErrors.response(ctx.alloc(), status, code, message), ctx.newPromise());
            ctx.flush();
        } else {
            ctx.close();
        }
    }

    private void countIn(Object msg) {
        if (current != null && msg instanceof HttpContent) {
            current.bytesIn += ((HttpContent) msg).content().readableBytes();
        }
    }

    private void onRequest(ChannelHandlerContext ctx, HttpRequest req) {
        config = configs.get(); // a reload applies to the next request, also on open connections
        if (heldRequests > 0) {
            heldRequests--;
        }
        inExchange = true;
        if (guard != null) {
            guard.exchange(true);
        }
        startBodyClock(ctx, req);
        bodyBytes = 0;
        keepAlive = HttpUtil.isKeepAlive(req) && !draining;
        http10 = req.protocolVersion().equals(HttpVersion.HTTP_1_0);
        HttpHeaders h = req.headers();
        requestId = h.get(Headers.X_REQUEST_ID);
        if (requestId == null || requestId.isEmpty() || requestId.length() > 200) {
            requestId = newRequestId();
            h.set(Headers.X_REQUEST_ID, requestId);
        }
        Exchange ex = new Exchange();
        ex.listener = listener;
        ex.protocol = ctx.channel() instanceof Http2StreamChannel ? "HTTP/2" : req.protocolVersion().text(); // streams arrive converted to 1.1
        // The peer is looked at once per connection (or stream), and again only if a reload changed trusted-proxies.
        ex.clientIp = ClientAddress.of(ctx.channel(), config.trustedProxies()).forRequest(h);
        ex.requestId = requestId;
        ex.method = req.method().name();
        ex.observers = observers;
        current = ex;
        ctx.channel().attr(Exchange.KEY).set(ex);
        if (req.decoderResult().isFailure()) {
            ex.path = "-";
            keepAlive = false; // the byte stream can no longer be trusted
            Throwable cause = req.decoderResult().cause();
            if (cause instanceof TooLongHttpLineException) {
                answer(ctx, req, HttpResponseStatus.REQUEST_URI_TOO_LONG, "uri_too_long",
                        "request line longer than " + config.maxInitialLine() + " bytes");
            } else if (cause instanceof TooLongHttpHeaderException) {
                answer(ctx, req, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large",
                        "request headers larger than " + config.maxHeaderSize() + " bytes");
            } else {
                answer(ctx, req, HttpResponseStatus.BAD_REQUEST, "bad_request", "malformed request: " + cause.getMessage());
            }
            return;
        }
        String uri = req.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        ex.path = path;
        if (h.size() > config.maxHeaders()) {
            keepAlive = false;
            answer(ctx, req, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "too_many_headers",
                    "more than " + config.maxHeaders() + " header fields");
            return;
        }
        String problem = RequestChecks.problem(req, path, guard != null);
        if (problem != null) {
            keepAlive = false;
            answer(ctx, req, HttpResponseStatus.BAD_REQUEST, "bad_request", problem);
            return;
        }
        if (HttpUtil.getContentLength(req, 0L) > config.maxRequestBody()) {
            keepAlive = false; // the body will not be read
            answer(ctx, req, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                    "request body larger than " + config.maxRequestBody() + " bytes");
            return;
        }
        RouteConfig route = routes.current().match(path); // read per request: a reload may have replaced it
        if (route == null) {
            answer(ctx, req, HttpResponseStatus.NOT_FOUND, "route_not_found", "no route for path " + path);
            return;
        }
        ex.route = route.pathPrefix();
        ex.pool = route.pool();
        ctx.channel().attr(Router.ROUTE).set(route);
        if (log.isDebugEnabled()) { // four arguments would allocate a varargs array on every request
            log.debug("request {} {} {} -> {}", requestId, req.method(), path, route.admin() ? "admin" : route.pool());
        }
        ctx.fireChannelRead(req);
    }

    private void answer(ChannelHandlerContext ctx, HttpRequest req, HttpResponseStatus status, String code, String msg) {
        // Debug, not info: a client sending garbage must not be able to flood the log.
        if (log.isDebugEnabled()) {
            log.debug("request {} {} {}: {} {}", requestId, req.method(), req.uri(), status.code(), msg);
        }
        discarding = !(req instanceof LastHttpContent);
        ReferenceCountUtil.release(req);
        // Through our own write(), like every other response, so the exchange is seen to end.
        write(ctx, GatewayErrors.response(ctx.alloc(), status, code, msg), ctx.newPromise());
        ctx.flush();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse) {
            HttpResponse resp = (HttpResponse) msg;
            if (resp.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                ctx.write(msg, promise);
                return;
            }
            HttpHeaders h = resp.headers();
            h.set(Headers.X_REQUEST_ID, requestId);
            if (current != null) {
                current.status = resp.status().code();
                current.responseHeadNanos = System.nanoTime();
                current.gatewayError = h.get(GatewayErrors.ERROR_HEADER);
            }
            if (http10 && HttpUtil.isTransferEncodingChunked(resp)) {
                // HTTP/1.0 has no chunked framing: send the body raw and mark its end by closing.
                h.remove(HttpHeaderNames.TRANSFER_ENCODING);
                keepAlive = false;
            }
            if (!keepAlive) {
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (http10) {
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
        }
        if (current != null && msg instanceof HttpContent) {
            current.bytesOut += ((HttpContent) msg).content().readableBytes();
        }
        ctx.write(msg, promise);
        if (msg instanceof LastHttpContent && inExchange) {
            responseEnded(ctx);
        }
    }

    private void responseEnded(ChannelHandlerContext ctx) {
        inExchange = false;
        if (guard != null) {
            guard.exchange(false);
        }
        ctx.channel().attr(Router.ROUTE).set(null);
        ctx.channel().attr(Exchange.KEY).set(null);
        endExchange(Exchange.Outcome.COMPLETED);
        if (!keepAlive) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (!held.isEmpty()) {
            // Out of the write call first: the writer may still be inside its own handler.
            ctx.executor().execute(() -> releaseHeld(ctx));
        }
    }

    private void releaseHeld(ChannelHandlerContext ctx) {
        Object msg;
        // Release the next request with all of its parts; a further request waits for its turn.
        while ((msg = held.peek()) != null && !(inExchange && msg instanceof HttpRequest)) {
            held.poll();
            dispatch(ctx, msg);
        }
        ctx.fireChannelReadComplete(); // the handlers flush what they wrote, as after a socket read
        if (held.isEmpty()) {
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == Drain.INSTANCE) {
            draining = true;
            if (!inExchange) {
                ctx.close();
            } else {
                keepAlive = false; // close once the response in progress has ended
            }
            return;
        }
        if (evt == IdleTimeout.QUIET) {
            if (hibernate != null && !inExchange && held.isEmpty() && !discarding) {
                hibernate.accept(ctx);
            }
            return;
        }
        if (evt instanceof IdleStateEvent) {
            if (!inExchange) {
                ctx.close(); // idle keep-alive connection; a long prefill is not idleness
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** Tells the observers once; an outcome set earlier (by the proxy) is kept. */
    private void endExchange(Exchange.Outcome outcome) {
        Exchange ex = current;
        if (ex == null) {
            return;
        }
        current = null;
        ex.endNanos = System.nanoTime();
        if (ex.outcome == null) {
            ex.outcome = outcome;
        }
        for (int i = 0; i < observers.size(); i++) {
            try {
                observers.get(i).onExchangeEnd(ex);
            } catch (RuntimeException e) {
                log.warn("exchange observer {} failed", observers.get(i), e);
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Sweeper.disarm(bodyWatch);
        endExchange(Exchange.Outcome.CLIENT_ABORTED);
        held.forEach(ReferenceCountUtil::release);
        held.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("connection {} failed: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    /** Fired at every client connection when the server starts draining for shutdown. */
    enum Drain {
        INSTANCE
    }

    private static String newRequestId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE);
    }

}
