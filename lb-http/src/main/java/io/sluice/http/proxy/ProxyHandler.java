package io.sluice.http.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.core.http.GatewayErrors;
import io.sluice.core.http.Json;
import io.sluice.core.backend.Backend;
import io.sluice.core.net.LocalResources;
import io.sluice.core.config.PoolConfig;
import io.sluice.core.observe.Exchange;
import io.sluice.core.exchange.ExchangeTarget;
import io.sluice.core.exchange.Fallback;
import io.sluice.core.exchange.ResponseRelay;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.observe.LogThrottle;
import io.sluice.core.pool.BackendPool;
import io.sluice.core.pool.FairQueue;
import io.sluice.core.route.RouteTarget;
import io.sluice.http.h2.StreamBudget;
import io.sluice.http.pool.UpstreamCodec;
import io.sluice.http.pool.UpstreamHandler;
import io.sluice.http.pool.UpstreamPool;
import io.sluice.http.pool.UpstreamTlsException;
import io.sluice.http.pool.Upstreams;
import io.sluice.http.timeout.Sweeper;
import io.sluice.http.timeout.Watch;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proxies one client channel's requests to a pool, one exchange at a time, without aggregating:
 * request and response parts are forwarded as the decoder produced them (retained buffers, no copy)
 * and flushed at the end of each read batch, so every SSE event leaves as soon as it arrived.
 *
 * <p>As in Netty's HexDumpProxy, the two channels are paired for the exchange: each side stops
 * reading while the other cannot take more (autoRead follows writability), and closing one side
 * closes the other. The upstream connection lives on this channel's event loop, so everything here
 * runs on one thread. A client that goes away closes its upstream connection at once, so vLLM
 * aborts the generation, whether it is streaming tokens or still in prefill.
 *
 * <p>A request is held until it is complete or larger than the replay limit (an LLM request is one
 * small JSON body, usually in the same read as its head), so a failed attempt can be replayed on
 * another backend: always after a connect failure, and after a reset before any response byte when
 * the method (or the pool's config) says a replay is safe. Nothing is retried once a response started.
 */
public final class ProxyHandler implements ExchangeTarget, UpstreamHandler.Listener {
    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);
    /** Per-request warnings that come in floods under overload: one line per kind per 10s, then a count. */
    private static final LogThrottle WARNINGS = new LogThrottle(Duration.ofSeconds(10), 64);
    /** On every proxied response: the backend, the policy and what the policy said ({@code prefix-blocks=12/16}). */
    public static final io.netty.util.AsciiString ROUTE_HEADER = io.netty.util.AsciiString.cached("x-sluice-route");

    private final Upstreams upstreams;
    private final String proto;
    private final StreamBudget streams;
    private boolean streamSlot;           // this HTTP/2 stream holds a slot of the budget
    private final ChannelHandlerContext ctx; // the exchange handler's: writes go through rc, which runs the response phases
    private RequestContext rc;            // the current request's; kept after a failure (a late write is recognised), dropped once answered

    // The current request; all null/false between exchanges.
    private BackendPool pool;
    private PoolConfig config;
    private HttpRequest request;
    private Exchange exchange;
    private String requestId;
    private List<HttpObject> pending;     // parts not yet written upstream (we own them)
    private List<HttpObject> replay;      // the whole request, kept until a response starts
    private long heldBytes;
    private boolean holding;              // still collecting the request before choosing a backend
    private ResponseRelay relay;          // the context's when the request started: released with the request
    private boolean requestDone;
    private boolean headRequest;
    private List<Backend> tried;
    private int retries;
    private boolean retryBudgetTaken;
    private Runnable waiter;
    private ScheduledFuture<?> queueTimeout;
    private boolean spilled;              // moved to the queue's spill pool once: never again, so two pools cannot bounce it
    private long requestDeadline;         // System.nanoTime() values; 0: none
    private long headDeadline;
    private final Watch deadlines = new Watch() {
        @Override
        protected void check(long now) {
            checkDeadlines(now);
        }
    };

    // The current attempt on one backend.
    private Backend.Lease lease;
    private UpstreamPool upstreamPool;
    private Channel upstream;
    private boolean responseStarted;
    private String routeHeader; // of the current attempt
    private UpstreamCodec passThrough;    // the upstream's codec while the response body passes through as framed bytes
    private boolean informational;
    private boolean upstreamKeepAlive;
    private boolean websocket;            // the request is a WebSocket upgrade: a fresh connection, a tunnel after 101
    private java.util.concurrent.atomic.AtomicInteger websocketSlot; // the pool's tunnel count, while this request holds a slot

    /**
     * @param ctx     the context of the exchange handler that drives this target
     * @param streams the bound on upstream connections of HTTP/2 streams; null on an HTTP/1.1 connection
     */
    public ProxyHandler(ChannelHandlerContext ctx, Upstreams upstreams, String proto, StreamBudget streams) {
        this.ctx = ctx;
        this.upstreams = upstreams;
        this.proto = proto;
        this.streams = streams;
    }

    @Override
    public void onRequest(RequestContext rc, HttpRequest head) {
        start(rc, head);
        if (head instanceof HttpContent) {
            forwardRequestContent((HttpContent) head, true);
        }
    }

    @Override
    public void onRequestContent(HttpContent content) {
        forwardRequestContent(content, false);
    }

    private void start(RequestContext rc, HttpRequest req) {
        this.rc = rc;
        String name = rc.pool();
        pool = name == null ? null : upstreams.pool(name);
        requestId = rc.requestId();
        exchange = rc.exchange();
        if (pool == null) {
            // Only reachable through a misconfiguration the loader prevents; answer rather than hang.
            ReferenceCountUtil.release(req);
            request = null;
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "no_healthy_backend", "no pool for " + req.uri(), false);
            return;
        }
        config = pool.config();
        request = req;
        relay = rc.relay();
        headRequest = HttpMethod.HEAD.equals(req.method());
        if (HttpUtil.is100ContinueExpected(req)) {
            // Sluice reads the whole body itself (to hold it for a replay), so it answers the
            // expectation here, once the request has passed routing and access checks.
            req.headers().remove(HttpHeaderNames.EXPECT);
            rc.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        websocket = (streams == null || io.sluice.http.h2.ExtendedConnect.isWebSocket(ctx.channel()))
                && io.sluice.http.websocket.WebSockets.isUpgrade(req.headers());
        if (websocket && !admitWebSocket(req)) {
            return;
        }
        io.netty.handler.codec.http.HttpHeaders wsHeaders = websocket ? webSocketHeaders(req.headers()) : null;
        Headers.toUpstream(req.headers(), rc.client(), proto);
        if (wsHeaders != null) {
            // Kept for this hop only: every other hop-by-hop header is still stripped.
            for (String n : wsHeaders.names()) {
                req.headers().remove(n);
            }
            req.headers().add(wsHeaders);
        }
        rc.chain().upstreamRequest(rc, req); // rewrites, header rules, the request id
        requestDone = false;
        pending = new ArrayList<>(4);
        heldBytes = 0;
        holding = true;
        retries = 0;
        tried = null;
        spilled = false;
        long whole = config.requestTimeout().toNanos();
        if (whole > 0) {
            requestDeadline = System.nanoTime() + whole;
            Sweeper.of(ctx.executor()).arm(deadlines, whole);
        }
        if (!(req instanceof HttpContent)) {
            pending.add(req);
        }
    }

    /** Validates a WebSocket upgrade and takes a tunnel slot of the pool; false when it was answered instead. */
    private boolean admitWebSocket(HttpRequest req) {
        String wrong = io.sluice.http.websocket.WebSockets.invalid(req);
        if (wrong != null) {
            ReferenceCountUtil.release(req);
            request = null;
            websocket = false;
            fail(HttpResponseStatus.BAD_REQUEST, "bad_request", wrong, false);
            return false;
        }
        java.util.concurrent.atomic.AtomicInteger open = upstreams.websockets(pool.name());
        int max = config.websocket().maxConnections();
        if (open.incrementAndGet() > max && max > 0) {
            open.decrementAndGet();
            ReferenceCountUtil.release(req);
            request = null;
            websocket = false;
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "websocket_limit", "pool '" + pool.name() + "' has its "
                    + max + " WebSocket connections open; retry later", true);
            return false;
        }
        websocketSlot = open;
        return true;
    }

    /** The handshake headers of an upgrade, for the upstream hop. */
    private static io.netty.handler.codec.http.HttpHeaders webSocketHeaders(io.netty.handler.codec.http.HttpHeaders h) {
        io.netty.handler.codec.http.HttpHeaders kept = new io.netty.handler.codec.http.DefaultHttpHeaders();
        for (java.util.Map.Entry<String, String> e : h) {
            if (e.getKey().regionMatches(true, 0, "sec-websocket-", 0, 14)) {
                kept.add(e.getKey(), e.getValue());
            }
        }
        kept.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        kept.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        return kept;
    }

    private void forwardRequestContent(HttpContent content, boolean isHead) {
        boolean last = content instanceof LastHttpContent;
        if (request == null) {
            // Answered already (the exchange handler drops the rest of the body once the answer is out).
            if (!isHead) {
                content.release();
            }
            return;
        }
        if (last) {
            requestDone = true;
            LastHttpContent end = (LastHttpContent) content;
            if (!end.trailingHeaders().isEmpty()) {
                // Request trailers are not forwarded (as nginx): some backends merge them into the head.
                end.trailingHeaders().clear();
            }
        }
        if (holding) {
            pending.add(content);
            heldBytes += content.content().readableBytes();
            if (last || heldBytes > config.retry().replayBodyLimit()) {
                holding = false;
                if (last && heldBytes <= config.retry().replayBodyLimit()) {
                    replay = pending; // the whole request is here: keep it for a replay
                }
                attempt();
            }
            return;
        }
        if (upstream == null) {
            pending.add(content); // connecting (or queued)
            return;
        }
        upstream.write(content, upstream.voidPromise()); // a failed write closes the upstream: onUpstreamClosed
        if (!last && !upstream.isWritable()) {
            // Not after the last part: nothing more is to be read for this request, and the writability
            // event that would resume reading is ignored once the request is done.
            ctx.channel().config().setAutoRead(false);
        }
    }

    /** Picks a backend and sends the request to it; may queue when every backend is full. */
    private void attempt() {
        if (streams != null && !streamSlot) {
            if (!streams.tryTake(ctx.channel())) {
                endRequest();
                fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "stream_limit",
                        "too many streams of this connection are waiting for a backend; retry later", true);
                return;
            }
            streamSlot = true;
        }
        rc.explain(null); // a reason from an earlier attempt (or another policy before a reload) is not this one's
        Backend.Lease taken = pool.lease(rc, tried); // choice and slot in one step: the limit holds across loops
        if (taken == null) {
            if (pool.allFull() && config.queueSize() > 0 && waiter == null) {
                if (config.queue().spillTo() != null && !spilled && spill()) {
                    return;
                }
                enqueue();
                return;
            }
            String why = pool.allFull() ? "every backend of pool '" + pool.name() + "' is at its in-flight limit"
                    : "no healthy backend in pool '" + pool.name() + "'";
            long left = WARNINGS.admit(why); // the reason names the pool: one pool's outage does not hide another's
            if (left >= 0) {
                log.warn("request {} {} {}: 503 {}{}", requestId, request.method(), request.uri(), why, WARNINGS.summary(left));
            }
            endRequest();
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "no_healthy_backend", why, true);
            return;
        }
        Backend backend = taken.backend();
        String reason = rc.routeReason();
        routeHeader = "backend=" + backend.id() + "; policy=" + config.balancer() + (reason == null ? "" : "; " + reason);
        if (exchange != null) {
            exchange.backend = backend.id();
            exchange.pool = pool.name();
            exchange.routeReason = routeHeader;
        }
        lease = taken;
        responseStarted = false;
        upstreamPool = upstreams.connections(backend).on(ctx.channel().eventLoop());
        Channel ch = websocket ? null : upstreamPool.acquireIdle(this); // an upgrade gets a connection of its own
        if (ch != null) {
            attach(ch);
            return;
        }
        ctx.channel().config().setAutoRead(false);
        if (exchange != null) {
            exchange.connectStartNanos = System.nanoTime();
        }
        ChannelFuture connect = upstreamPool.connect();
        Backend.Lease forAttempt = lease;
        connect.addListener(f -> onConnected(connect, forAttempt));
    }

    private void onConnected(ChannelFuture connect, Backend.Lease forAttempt) {
        Channel ch = connect.channel();
        if (lease != forAttempt) {
            if (connect.isSuccess()) {
                ch.close(); // the client left, or the exchange moved on, while we were connecting
            }
            return;
        }
        if (!connect.isSuccess()) {
            Backend b = lease.backend();
            Throwable cause = connect.cause();
            if (LocalResources.exhausted(cause)) {
                // Sluice's own limit, not the backend's fault: no failure recorded, no retry elsewhere.
                long left = WARNINGS.admit("gateway_overloaded");
                if (left >= 0) {
                    log.warn("request {}: 503, no socket for an upstream connection: {}{}", requestId, cause.toString(),
                            WARNINGS.summary(left));
                }
                endAttempt(false);
                endRequest();
                fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "gateway_overloaded",
                        "the gateway is out of connections; retry later", true);
                return;
            }
            b.recordFailure();
            outcome(b, false);
            if (cause instanceof UpstreamTlsException tls) {
                // Counted as a failure (outlier ejection, health checks over TLS fail too) but not marked down at
                // once, as Envoy and HAProxy: a CA or name mistake fails every backend, and the client is better
                // served by this 502 and its reason than by "no healthy backend". Nothing was sent: a retry is safe,
                // if another backend is left to try (else the retry's 503 would hide the reason).
                long left = WARNINGS.admit("upstream_tls_failed " + pool.name() + " " + b.id());
                if (left >= 0) {
                    log.warn("request {}: {}{}", requestId, tls.getMessage(), WARNINGS.summary(left));
                }
                boolean another = pool.backends().stream()
                        .anyMatch(x -> x != b && x.isAvailable() && (tried == null || !tried.contains(x)));
                retryOrFail(another, HttpResponseStatus.BAD_GATEWAY, "upstream_tls_failed", tls.getMessage());
                return;
            }
            if (cause instanceof ConnectException || cause instanceof ConnectTimeoutException) {
                b.markDown("connect failed: " + cause.getMessage());
            }
            long left = WARNINGS.admit("upstream_connect_failed " + b.id());
            if (left >= 0) {
                log.warn("request {}: connect to {} failed: {}{}", requestId, b, cause.toString(), WARNINGS.summary(left));
            }
            retryOrFail(true, HttpResponseStatus.BAD_GATEWAY, "upstream_connect_failed",
                    "could not connect to backend " + b.id() + " in pool '" + pool.name() + "'");
            return;
        }
        if (exchange != null) {
            exchange.connectedNanos = System.nanoTime();
        }
        UpstreamPool.bind(ch, this);
        attach(ch);
    }

    private void attach(Channel ch) {
        upstream = ch;
        upstreamKeepAlive = true;
        List<HttpObject> parts = pending;
        pending = null;
        for (HttpObject part : parts) {
            // A kept request is written as duplicates so that the originals can be sent again.
            upstream.write(replay != null && part instanceof HttpContent ? ((HttpContent) part).retainedDuplicate() : part,
                    upstream.voidPromise());
        }
        upstream.flush();
        long now = System.nanoTime();
        if (exchange != null) {
            exchange.upstreamSentNanos = now;
        }
        long wait = config.responseTimeout().toNanos();
        headDeadline = now + wait;
        Sweeper.of(ctx.executor()).arm(deadlines, wait);
        ctx.channel().config().setAutoRead(upstream.isWritable());
    }

    @Override
    public void onClientReadComplete() {
        if (upstream != null) {
            upstream.flush();
        }
    }

    // ---- upstream side ----

    @Override
    public void onUpstreamRead(Object msg) {
        if (msg instanceof ByteBuf) {
            passThroughBytes((ByteBuf) msg);
            return;
        }
        if (msg instanceof HttpObject && ((HttpObject) msg).decoderResult().isFailure()
                || msg instanceof HttpResponse && !validStatus(((HttpResponse) msg).status().code())) {
            String what = ((HttpObject) msg).decoderResult().isFailure()
                    ? String.valueOf(((HttpObject) msg).decoderResult().cause())
                    : "status " + ((HttpResponse) msg).status().code();
            ReferenceCountUtil.release(msg);
            onMalformedResponse(what);
            return;
        }
        if (msg instanceof HttpResponse) {
            HttpResponse resp = (HttpResponse) msg;
            if (resp.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
                String wrong = websocket ? io.sluice.http.websocket.WebSockets.invalidSwitch(request, resp)
                        : "101 to a request that asked for no protocol switch";
                if (wrong != null) {
                    ReferenceCountUtil.release(msg);
                    onMalformedResponse(wrong);
                    return;
                }
                switchProtocols(resp);
                return;
            }
            if (resp.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                // 100 Continue and friends: pass on, the real response follows.
                informational = true;
                ReferenceCountUtil.release(msg);
                rc.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, resp.status()));
                return;
            }
            headDeadline = 0;
            int code = resp.status().code();
            Fallback fallback = rc.fallback();
            if (fallback != null && Fallback.movesOn(code) && (rc.relay() == null || !rc.relay().started())) {
                HttpRequest next = fallback.next(rc, code, "HTTP " + code);
                if (next != null) {
                    // Nothing of this answer reached the client: it is dropped with its connection, the next member tried.
                    ReferenceCountUtil.release(msg);
                    outcome(lease.backend(), code < 500);
                    log.info("request {}: {} answered {}; trying the next member", requestId, pool.name(), code);
                    endAttempt(false);
                    endRequest();
                    onRequest(rc, next);
                    return;
                }
            }
            responseStarted = true;
            dropReplay();
            outcome(lease.backend(), resp.status().code() < 500);
            upstreamKeepAlive = HttpUtil.isKeepAlive(resp) && !websocket; // asked to upgrade: never pooled
            if (!(msg instanceof HttpContent) && !headRequest && mayHaveBody(resp.status()) && rc.relay() == null
                    && UpstreamCodec.framed(resp)) {
                // Before the headers change: the body's framing as the backend sent it.
                UpstreamCodec codec = upstream.pipeline().get(UpstreamCodec.class);
                if (codec != null && rc.passThroughBody()) {
                    codec.passThrough(resp);
                    passThrough = codec;
                }
            }
            Headers.toClient(resp.headers());
            resp.headers().set(ROUTE_HEADER, routeHeader); // why this backend: the operator sees the router think
            if (!(msg instanceof LastHttpContent) && !headRequest && mayHaveBody(resp.status())
                    && !HttpUtil.isContentLengthSet(resp) && !HttpUtil.isTransferEncodingChunked(resp)) {
                // Read-until-close upstream body: frame it for a keep-alive client.
                resp.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        }
        if (informational) {
            if (msg instanceof LastHttpContent) {
                informational = false;
            }
            ReferenceCountUtil.release(msg);
            return;
        }
        if (exchange != null && msg instanceof HttpContent && ((HttpContent) msg).content().isReadable()) {
            exchange.contentForwarded(System.nanoTime()); // time to first token, gaps between chunks
        }
        ResponseRelay relay = rc.relay();
        if (relay != null) {
            relay.onUpstream(rc, (HttpObject) msg); // translated for the client (a provider's format to OpenAI's)
        } else {
            rc.write((HttpObject) msg); // no promise per chunk: a failed write closes the client channel
        }
        if (msg instanceof LastHttpContent) {
            completeExchange();
        } else if (!ctx.channel().isWritable() && upstream != null) {
            upstream.config().setAutoRead(false);
        }
    }

    /** A pass-through body's bytes, framed as the backend sent them: to the client as they are. */
    private void passThroughBytes(ByteBuf bytes) {
        if (passThrough == null) {
            // Only a codec told to pass a body through hands on bytes; anything else is not HTTP.
            bytes.release();
            onMalformedResponse("bytes outside an HTTP response");
            return;
        }
        int chunks = passThrough.takeChunks();
        if (exchange != null && chunks > 0) {
            exchange.contentForwarded(System.nanoTime(), chunks);
        }
        rc.writeRaw(bytes);
        if (!ctx.channel().isWritable() && upstream != null) {
            upstream.config().setAutoRead(false);
        }
    }

    /**
     * The backend accepted the upgrade: the 101 goes to the client, then both connections leave HTTP
     * and become a {@link io.sluice.http.websocket.WebSocketTunnel}, which from here on holds the
     * backend's lease, the pool's tunnel slot and the exchange. This target is done with them.
     */
    private void switchProtocols(HttpResponse resp) {
        headDeadline = 0;
        responseStarted = true; // nothing is retried from here on
        dropReplay();
        Backend.Lease l = lease;
        outcome(l.backend(), true);
        io.netty.handler.codec.http.HttpHeaders h = resp.headers();
        Headers.toClient(h);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        h.set(ROUTE_HEADER, routeHeader);
        Channel up = upstream;
        Runnable streamSlotRelease = null;
        if (streamSlot) { // an HTTP/2 stream's upstream connection stays counted while the tunnel holds it
            Channel stream = ctx.channel();
            streamSlotRelease = () -> streams.release(stream);
            streamSlot = false;
        }
        io.sluice.http.websocket.WebSocketTunnel tunnel = new io.sluice.http.websocket.WebSocketTunnel(ctx.channel(), up,
                l, websocketSlot, streamSlotRelease, config.websocket(), exchange, requestId);
        // Ownership moves to the tunnel: this target must not release or close any of it.
        lease = null;
        upstream = null;
        upstreamPool = null;
        websocketSlot = null;
        RequestContext r = rc;
        UpstreamPool.handOver(up, tunnel.backendHandler());
        r.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS,
                io.netty.buffer.Unpooled.EMPTY_BUFFER, h, io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE));
        Runnable end = r.detach(tunnel.clientHandler());
        endRequest();
        log.debug("request {}: WebSocket tunnel to {}", requestId, l.backend().id());
        tunnel.start(end);
    }

    private static boolean validStatus(int code) {
        return code >= 100 && code <= 599;
    }

    /**
     * The backend's bytes are not a valid HTTP/1.1 response: its connection can no longer be trusted
     * and is closed, never pooled. Before the head, the client gets a 502; after it, the response is
     * cut off like one whose backend died.
     */
    private void onMalformedResponse(String what) {
        if (lease == null) {
            return;
        }
        Backend b = lease.backend();
        b.recordFailure();
        if (!responseStarted && !informational) {
            outcome(b, false);
            log.warn("request {}: malformed response head from {}: {}", requestId, b, what);
            endAttempt(false);
            endRequest();
            fail(HttpResponseStatus.BAD_GATEWAY, "upstream_bad_response",
                    "backend " + b.id() + " sent a malformed response", false);
            return;
        }
        abortMidResponse("backend " + b.id() + " sent a malformed response body (" + what + ")");
    }

    private static boolean mayHaveBody(HttpResponseStatus status) {
        int c = status.code();
        return c != 204 && c != 304;
    }

    @Override
    public void onUpstreamReadComplete() {
        ctx.flush();
    }

    @Override
    public void onUpstreamWritabilityChanged(boolean writable) {
        if (lease != null && (!requestDone || writable)) {
            ctx.channel().config().setAutoRead(writable);
        }
    }

    @Override
    public void onUpstreamIdle() {
        if (lease != null && responseStarted) {
            // Before the head, the response timeout is the judge (a long prefill is normal).
            abortMidResponse("backend " + lease.backend().id() + " sent nothing for "
                    + io.sluice.core.config.Durations.format(config.streamIdleTimeout()));
        }
    }

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (lease == null) {
            return;
        }
        Backend b = lease.backend();
        b.recordFailure();
        upstream = null; // already closed; never pooled
        if (!responseStarted) {
            outcome(b, false);
            log.warn("request {}: backend {} closed before responding{}", requestId, b,
                    cause == null ? "" : ": " + cause);
            boolean replayable = replay != null && (isIdempotent(request.method()) || config.retry().nonIdempotent());
            retryOrFail(replayable, HttpResponseStatus.BAD_GATEWAY, "upstream_reset",
                    "backend " + b.id() + " closed the connection before responding");
        } else {
            abortMidResponse("backend " + b.id() + " closed the connection mid-response");
        }
    }

    private static boolean isIdempotent(HttpMethod m) {
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)
                || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE);
    }

    /** The sweeper's check: a deadline passed fires once, then it is cleared. */
    private void checkDeadlines(long now) {
        if (headDeadline != 0 && now - headDeadline >= 0) {
            onHeadTimeout();
        }
        if (requestDeadline != 0 && now - requestDeadline >= 0) {
            onRequestTimeout();
        }
        if (headDeadline == 0 && requestDeadline == 0) {
            Sweeper.disarm(deadlines);
        }
    }

    private void onHeadTimeout() {
        headDeadline = 0;
        if (lease == null || responseStarted) {
            return;
        }
        Backend b = lease.backend();
        b.recordFailure();
        outcome(b, false);
        log.warn("request {}: no response head from {} within {}", requestId, b,
                io.sluice.core.config.Durations.format(config.responseTimeout()));
        // Not retried: a slow backend is usually a loaded one, and a replay would double the load.
        endAttempt(false);
        endRequest();
        fail(HttpResponseStatus.GATEWAY_TIMEOUT, "upstream_timeout",
                "backend " + b.id() + " did not start responding within "
                        + io.sluice.core.config.Durations.format(config.responseTimeout()), false);
    }

    private void onRequestTimeout() {
        requestDeadline = 0;
        if (request == null) {
            return;
        }
        String why = "request took longer than " + io.sluice.core.config.Durations.format(config.requestTimeout());
        if (responseStarted) {
            abortMidResponse(why);
            return;
        }
        log.warn("request {}: {}", requestId, why);
        endAttempt(false);
        endRequest();
        fail(HttpResponseStatus.GATEWAY_TIMEOUT, "request_timeout", why, false);
    }

    /**
     * The response started but cannot be finished. The client must be able to tell the answer was
     * cut off: an SSE stream gets an error event in vLLM's in-band shape (which OpenAI SDKs raise),
     * then the response ends abnormally (no terminating chunk on HTTP/1.1, RST_STREAM on HTTP/2).
     */
    private void abortMidResponse(String why) {
        ResponseRelay relay = rc.relay();
        if (relay != null && !relay.started()) {
            // A relay reading a whole answer before it responds: the client has nothing yet and gets a 502.
            log.warn("request {}: {}", requestId, why);
            endAttempt(false);
            endRequest();
            fail(HttpResponseStatus.BAD_GATEWAY, "upstream_reset", why, false);
            return;
        }
        log.warn("request {}: {}; aborting the response", requestId, why);
        if (exchange != null) {
            exchange.outcome = Exchange.Outcome.UPSTREAM_ABORTED;
        }
        if (relay != null) {
            if (ctx.channel().isActive()) {
                relay.onUpstreamFailed(rc, why + "; the response is incomplete");
            }
        } else if (rc.eventStream() && ctx.channel().isActive() && (passThrough == null || passThrough.atChunkBoundary())) {
            String event = "data: {\"error\":{\"message\":" + Json.quote(why + "; the response is incomplete")
                    + ",\"type\":\"gateway_error\",\"param\":null,\"code\":502}}\n\n";
            if (passThrough != null) {
                // The client's encoder is passing the backend's chunks through: this one is framed here.
                byte[] data = event.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                ByteBuf chunk = ctx.alloc().buffer(data.length + 12);
                chunk.writeCharSequence(Integer.toHexString(data.length) + "\r\n", java.nio.charset.StandardCharsets.US_ASCII);
                chunk.writeBytes(data).writeByte('\r').writeByte('\n');
                rc.writeRaw(chunk);
            } else {
                rc.write(new DefaultHttpContent(ByteBufUtil.writeUtf8(ctx.alloc(), event)));
            }
        }
        endAttempt(false);
        endRequest();
        ctx.flush();
        ctx.close();
    }

    /**
     * Whether a backend this request has not tried is in rotation: without one a retry could only
     * report {@code no_healthy_backend}, hiding the failure that happened (a lone backend refusing).
     */
    private boolean untriedLeft(Backend failed) {
        for (Backend b : pool.backends()) {
            if (b != failed && b.isAvailable() && (tried == null || !tried.contains(b))) {
                return true;
            }
        }
        return false;
    }

    private void retryOrFail(boolean retryable, HttpResponseStatus status, String code, String message) {
        Backend failed = lease == null ? null : lease.backend();
        endAttempt(false);
        if (retryable && retries < config.retry().attempts() && ctx.channel().isActive() && untriedLeft(failed)
                && (retryBudgetTaken || pool.tryStartRetry())) {
            retryBudgetTaken = true;
            retries++;
            if (tried == null) {
                tried = new ArrayList<>(2); // only a retry needs to know which backends were tried
            }
            if (failed != null) {
                tried.add(failed);
            }
            if (replay != null) {
                pending = replay; // same list: attach() writes duplicates, the originals stay owned by replay
            }
            log.info("request {}: retry {} of {} on another backend", requestId, retries, config.retry().attempts());
            attempt();
            return;
        }
        endRequest();
        fail(status, code, message, false);
    }

    private void completeExchange() {
        ctx.flush(); // the upstream may go back to the pool before its read batch completes
        endAttempt(requestDone && upstreamKeepAlive);
        if (!requestDone) {
            ctx.channel().config().setAutoRead(true); // answered before the body was all sent: the rest is dropped
        }
        endRequest();
        // Answered in full: nothing writes for this request again. A keep-alive connection waiting for its
        // next request (up to a second before it turns dormant) need not keep the request's head and record.
        rc = null;
        requestId = null;
        routeHeader = null;
    }

    /** Ends the attempt on the current backend: the lease (in-flight count) is released here only. */
    private void endAttempt(boolean reuseConnection) {
        headDeadline = 0;
        if (lease != null) {
            lease.release();
            lease = null;
        }
        Channel ch = upstream;
        upstream = null;
        if (ch != null) {
            if (reuseConnection) {
                upstreamPool.release(ch);
            } else {
                UpstreamPool.discard(ch);
            }
        }
        upstreamPool = null;
        passThrough = null;
        informational = false;
    }

    /** Ends the request: everything it held is released. Call after {@link #endAttempt}. */
    private void endRequest() {
        if (websocketSlot != null) {
            websocketSlot.decrementAndGet(); // the upgrade did not happen
            websocketSlot = null;
        }
        websocket = false;
        if (streamSlot) {
            streamSlot = false;
            streams.release(ctx.channel());
        }
        requestDeadline = 0;
        Sweeper.disarm(deadlines);
        cancelWait();
        if (pending != null) {
            if (pending != replay) {
                pending.forEach(ReferenceCountUtil::release);
            }
            pending = null;
        }
        dropReplay();
        if (retryBudgetTaken) {
            retryBudgetTaken = false;
            pool.endRetry();
        }
        request = null;
        exchange = null;
        tried = null;
        holding = false;
        if (relay != null) {
            relay.release();
            relay = null;
        }
    }

    private void dropReplay() {
        if (replay != null) {
            List<HttpObject> r = replay;
            replay = null;
            if (pending == r) {
                pending = null;
            }
            r.forEach(ReferenceCountUtil::release);
        }
    }

    private void outcome(Backend b, boolean ok) {
        Duration ejected = b.recordOutcome(ok, config.outlier());
        if (ejected != null && !config.health().enabled()) {
            ctx.executor().schedule(b::readmitIfEjectionOver, ejected.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    // ---- waiting for a free backend ----

    /**
     * Sends the request to the queue's spill pool instead of waiting, when the predicted wait is over
     * the bound. Nothing went upstream yet, so the parts held for this attempt go there as they are
     * (the header rules applied on arrival stay those of the first pool).
     *
     * @return false to queue here after all (no estimate is over the bound, or the spill pool is gone)
     */
    private boolean spill() {
        if (pool.predictedWaitNanos() <= config.queue().spillAfter().toNanos()) {
            return false;
        }
        BackendPool to = upstreams.pool(config.queue().spillTo());
        if (to == null) {
            return false;
        }
        log.debug("request {}: pool '{}' is saturated; spilling to '{}'", requestId, pool.name(), to.name());
        spilled = true;
        rc.target(new RouteTarget.Pool(to.name()));
        rc.chain().upstreamPoolChanged(rc, request); // e.g. a provider's pool: its key instead of the client's
        pool = to;
        config = to.config();
        tried = null;
        attempt();
        return true;
    }

    private void enqueue() {
        EventLoop loop = ctx.channel().eventLoop();
        Runnable w = pool.waiter(rc, () -> loop.execute(this::onWake));
        if (!pool.enqueue(w)) {
            endRequest();
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "queue_full", "every backend of pool '" + pool.name()
                    + "' is busy and the wait queue is full" + (w instanceof FairQueue.Waiter ? " (or this client holds its share of it)" : ""), true);
            return;
        }
        waiter = w;
        ctx.channel().config().setAutoRead(false);
        queueTimeout = ctx.executor().schedule(this::onQueueTimeout, config.queueTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void onWake() {
        if (waiter == null || request == null) {
            return;
        }
        Backend b = pool.choose();
        if (b == null && pool.allFull()) {
            pool.requeueFirst(waiter); // another request took the slot first
            return;
        }
        cancelWait();
        attempt();
    }

    private void onQueueTimeout() {
        queueTimeout = null;
        if (waiter == null || !pool.dequeue(waiter)) {
            return;
        }
        waiter = null;
        endRequest();
        fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "queue_timeout", "no backend of pool '" + pool.name()
                + "' became free within " + io.sluice.core.config.Durations.format(config.queueTimeout()), true);
    }

    private void cancelWait() {
        if (waiter != null) {
            pool.dequeue(waiter);
            waiter = null;
        }
        cancel(queueTimeout);
        queueTimeout = null;
    }

    private static void cancel(ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }

    private void fail(HttpResponseStatus status, String code, String message, boolean retryAfter) {
        ctx.channel().config().setAutoRead(true);
        if (!ctx.channel().isActive()) {
            return;
        }
        Fallback fallback = rc.fallback();
        if (fallback != null && Fallback.movesOn(status.code())) {
            HttpRequest next = fallback.next(rc, status.code(), code);
            if (next != null) {
                log.info("request {}: {} ({}); trying the next member", requestId, code, message);
                onRequest(rc, next);
                return;
            }
        }
        FullHttpResponse r = GatewayErrors.response(ctx.alloc(), status, code, message);
        if (retryAfter) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        }
        rc.writeAndFlush(r);
    }

    // ---- client side ----

    @Override
    public void onClientWritabilityChanged(boolean writable) {
        if (upstream != null) {
            upstream.config().setAutoRead(writable);
        }
    }

    @Override
    public void onClientClosed() {
        if (lease != null) {
            // Closing the upstream connection is how vLLM learns to abort the generation.
            log.debug("request {}: client went away; aborting upstream request", requestId);
        }
        endAttempt(false);
        endRequest();
    }

    @Override
    public void abort() {
        endAttempt(false); // the request turned out malformed, or a filter ended the response: forget it silently
        endRequest();
    }
}
