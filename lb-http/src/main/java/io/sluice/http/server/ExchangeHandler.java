package io.sluice.http.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
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
import io.sluice.core.config.Durations;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.exchange.ExchangeTarget;
import io.sluice.core.exchange.FilterChain;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.GatewayErrors;
import io.sluice.core.net.ClientAddress;
import io.sluice.core.observe.Exchange;
import io.sluice.core.observe.ExchangeObserver;
import io.sluice.core.route.RouteTarget;
import io.sluice.http.h2.ExtendedConnect;
import io.sluice.http.proxy.Headers;
import io.sluice.http.timeout.IdleTimeout;
import io.sluice.http.timeout.Sweeper;
import io.sluice.http.timeout.Watch;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one handler of a request stream (an HTTP/1.1 connection or an HTTP/2 stream): it creates the
 * {@link RequestContext} of each request, runs the listener's {@link FilterChain} phase by phase, and
 * drives the request's {@link ExchangeTarget} (the proxy, the admin API). Every response part a target
 * writes comes back through {@link #write(RequestContext, Object, ChannelPromise)} and so passes the
 * response phases.
 *
 * <p>It also keeps what belongs to the connection rather than to a feature: one exchange at a time so
 * responses leave in request order (pipelined requests are held), keep-alive and {@code Connection:
 * close}, the body-read timeout, the body-size limit, and draining at shutdown.
 */
final class ExchangeHandler extends ChannelDuplexHandler implements RequestContext.Responder {
    private static final Logger log = LoggerFactory.getLogger(ExchangeHandler.class);

    /** Requests held back behind the one in progress, at most; more close the connection. */
    static final int MAX_PIPELINED = 16;

    /** Makes the targets of one request stream; each is created when a request first needs it. */
    interface Targets {
        ExchangeTarget proxy(ChannelHandlerContext ctx);

        ExchangeTarget admin(ChannelHandlerContext ctx);

        /** A {@code static:} route's files (issue 15). */
        default ExchangeTarget staticFiles(ChannelHandlerContext ctx) {
            throw new UnsupportedOperationException("static files");
        }

        /** A built-in service ({@code service: NAME}, one of {@code ServicesConfig.NAMES}). */
        default ExchangeTarget service(ChannelHandlerContext ctx, String name) {
            throw new UnsupportedOperationException("service " + name);
        }
    }

    private final Supplier<ListenerConfig> configs;
    private final Supplier<FilterChain> chains;
    private final Targets targets;
    private ListenerConfig config;              // the listener's settings when the current request arrived
    private final RequestGuard guard;
    private final String listener;
    private final List<ExchangeObserver> observers;
    private final ArrayDeque<Object> held = new ArrayDeque<>(2);
    private final Consumer<ChannelHandlerContext> hibernate;
    private ExchangeTarget proxy;
    private ExchangeTarget admin;
    private ExchangeTarget files;
    private ExchangeTarget active;  // serving the current request
    private RequestContext rc;      // the current request; null between exchanges
    private ClientAddress client;   // this connection's (or stream's) peer, worked out at its first request
    private HttpRequest admitting;  // a request waiting for an admission filter's answer: what follows is held
    private HttpRequest bodyHead;   // a request whose whole body a filter asked for...
    private List<HttpContent> bodyParts; // ...and the parts read so far
    private boolean inExchange;     // a request was dispatched and its response has not ended
    private boolean discarding;     // dropping the body of a request answered here
    private boolean stopped;        // a filter ended the response: later parts are dropped
    private ServerCodec passThroughHead; // set when the next response head's body comes as framed bytes (passThroughBody)
    private boolean keepAlive;
    private boolean http10;
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
    ExchangeHandler(Supplier<ListenerConfig> configs, Supplier<FilterChain> chains, Targets targets, RequestGuard guard,
                    List<ExchangeObserver> observers, Consumer<ChannelHandlerContext> hibernate) {
        this.configs = configs;
        this.chains = chains;
        this.targets = targets;
        this.hibernate = hibernate;
        this.config = configs.get();
        this.guard = guard;
        this.listener = this.config.name();
        this.observers = observers;
    }

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
        if (!held.isEmpty() || admitting != null || (inExchange && msg instanceof HttpRequest)) {
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
        } else if (discarding || !(msg instanceof HttpContent)) {
            countIn(msg);
            if (msg instanceof LastHttpContent) {
                discarding = false;
            }
            ReferenceCountUtil.release(msg);
        } else if (inExchange && (bodyBytes += ((HttpContent) msg).content().readableBytes()) > config.maxRequestBody()) {
            ReferenceCountUtil.release(msg);
            badBody(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                    "request body larger than " + config.maxRequestBody() + " bytes");
        } else {
            countIn(msg);
            requestContent((HttpContent) msg);
        }
    }

    private void requestContent(HttpContent content) {
        if (bodyParts != null) {
            bodyParts.add(content);
            if (content instanceof LastHttpContent) {
                bodyComplete();
            }
        } else if (active != null) {
            active.onRequestContent(content);
        } else {
            content.release();
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
            log.debug("request {}: no body bytes for {}; closing", rc == null ? "-" : rc.requestId(), config.bodyTimeout());
            badBody(ctx, HttpResponseStatus.REQUEST_TIMEOUT, "body_timeout",
                    "no request body bytes received for " + Durations.format(config.bodyTimeout()));
        }
    }

    /** The body of a request being handled went wrong: answer if nothing was sent yet, then close. */
    private void badBody(ChannelHandlerContext ctx, HttpResponseStatus status, String code, String message) {
        log.debug("request {}: {} {}", rc == null ? "-" : rc.requestId(), status.code(), message);
        keepAlive = false;
        dropBody();
        if (active != null) {
            active.abort();
        }
        if (inExchange && current != null && current.responseHeadNanos == 0 && rc != null) {
            write(rc, GatewayErrors.response(ctx.alloc(), status, code, message), ctx.newPromise());
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

    // ---- the request phases ----

    private void onRequest(ChannelHandlerContext ctx, HttpRequest req) {
        config = configs.get(); // a reload applies to the next request, also on open connections
        FilterChain chain = chains.get();
        if (heldRequests > 0) {
            heldRequests--;
        }
        inExchange = true;
        stopped = false;
        if (guard != null) {
            guard.exchange(true);
        }
        startBodyClock(ctx, req);
        bodyBytes = 0;
        keepAlive = HttpUtil.isKeepAlive(req) && !draining;
        http10 = req.protocolVersion().equals(HttpVersion.HTTP_1_0);
        HttpHeaders h = req.headers();
        if (guard != null && io.sluice.http.websocket.WebSockets.isUpgrade(h)) {
            // The decoder reads nothing after an upgrade request (its bytes may be frames): unless the
            // protocol switches, the connection closes after the answer.
            keepAlive = false;
        }
        String requestId = h.get(Headers.X_REQUEST_ID);
        if (requestId == null || requestId.isEmpty() || requestId.length() > 200) {
            requestId = newRequestId();
        }
        String path;
        if (req.decoderResult().isFailure()) {
            path = "-";
        } else {
            String uri = req.uri();
            int q = uri.indexOf('?');
            path = q < 0 ? uri : uri.substring(0, q);
        }
        Exchange ex = new Exchange();
        ex.listener = listener;
        ex.protocol = ctx.channel() instanceof Http2StreamChannel ? "HTTP/2" : req.protocolVersion().text(); // streams arrive converted to 1.1
        // The peer is looked at once per connection (or stream), and again only if a reload changed trusted-proxies.
        ClientAddress client = this.client;
        if (client == null || !client.madeWith(config.trustedProxies())) {
            client = this.client = ClientAddress.of(ctx.channel(), config.trustedProxies());
        }
        ex.clientIp = client.forRequest(h);
        ex.requestId = requestId;
        ex.method = req.method().name();
        ex.path = path;
        ex.observers = observers;
        current = ex;
        RequestContext r = new RequestContext(ctx.channel(), client, chain, this, req, path, requestId, ex);
        rc = r;
        FullHttpResponse answer = chain.requestHead(r);
        if (answer != null) {
            refuse(ctx, req, answer);
            return;
        }
        CompletionStage<FullHttpResponse> admission = chain.admission(r);
        if (admission != null) {
            CompletableFuture<FullHttpResponse> decided = admission.toCompletableFuture();
            if (!decided.isDone()) {
                awaitAdmission(ctx, r, req, decided);
                return;
            }
            answer = admissionAnswer(decided);
            if (answer != null) {
                refuse(ctx, req, answer);
                return;
            }
        }
        proceed(ctx, r, req);
    }

    /**
     * A filter waits for something outside the process (a shared rate-limit store): the request's
     * further parts are held and reading stops until the answer, which comes back on this loop.
     */
    private void awaitAdmission(ChannelHandlerContext ctx, RequestContext r, HttpRequest req,
                                CompletableFuture<FullHttpResponse> decided) {
        admitting = req;
        ctx.channel().config().setAutoRead(false);
        decided.whenComplete((answer, failure) -> {
            try {
                ctx.executor().execute(() -> admitted(ctx, r, req, decided));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                ReferenceCountUtil.release(answer); // the loop is gone, and the connection with it
            }
        });
    }

    private void admitted(ChannelHandlerContext ctx, RequestContext r, HttpRequest req, CompletableFuture<FullHttpResponse> decided) {
        FullHttpResponse answer = admissionAnswer(decided);
        if (admitting != req || rc != r) {
            ReferenceCountUtil.release(answer); // the client left meanwhile; the request was released then
            return;
        }
        admitting = null;
        if (answer != null) {
            refuse(ctx, req, answer);
        } else {
            proceed(ctx, r, req);
        }
        releaseHeld(ctx); // what arrived meanwhile: the body goes on to the target (or is dropped), reading resumes
    }

    private FullHttpResponse admissionAnswer(CompletableFuture<FullHttpResponse> decided) {
        try {
            return decided.join();
        } catch (RuntimeException e) {
            log.warn("request {}: an admission filter failed", rc == null ? "-" : rc.requestId(), e);
            return GatewayErrors.response(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE, "admission_failed",
                    "the request could not be admitted; retry later");
        }
    }

    /** After the head phase and admission: the body phase or the target. */
    private void proceed(ChannelHandlerContext ctx, RequestContext r, HttpRequest req) {
        String path = r.path();
        String requestId = r.requestId();
        boolean wantsBody = r.chain().wantsBody(r); // a target may also be chosen by the body (its model)
        if (r.target() == null && !wantsBody) {
            refuse(ctx, req, GatewayErrors.response(ctx.alloc(), HttpResponseStatus.NOT_FOUND, "route_not_found",
                    "no route for path " + path));
            return;
        }
        if (log.isDebugEnabled()) { // four arguments would allocate a varargs array on every request
            log.debug("request {} {} {} -> {}", requestId, req.method(), path, r.target());
        }
        if (wantsBody) {
            // Only for filters that need the body (routing by model, a rewrite of it): the pass-through path never gets here.
            bodyHead = req;
            bodyParts = new ArrayList<>(4);
            if (req instanceof HttpContent) {
                requestContent(((HttpContent) req).retain());
            }
            return;
        }
        start(r, req);
    }

    private void start(RequestContext r, HttpRequest req) {
        RouteTarget target = r.target();
        if (target instanceof RouteTarget.Pool) {
            active = proxy == null ? proxy = targets.proxy(ctx) : proxy;
        } else if (target instanceof RouteTarget.Admin) {
            active = admin == null ? admin = targets.admin(ctx) : admin;
        } else if (target instanceof RouteTarget.Static) {
            active = files == null ? files = targets.staticFiles(ctx) : files;
        } else if (target instanceof RouteTarget.Service s) {
            active = targets.service(ctx, s.name());
        } else {
            throw new IllegalStateException("no target for " + target); // a new kind of target needs a case here
        }
        active.onRequest(r, req);
    }

    /** The whole body of a request some filter asked for has arrived: run the body phase, then start the target. */
    private void bodyComplete() {
        HttpRequest head = bodyHead;
        List<HttpContent> parts = bodyParts;
        bodyHead = null;
        bodyParts = null;
        CompositeByteBuf body = ctx.alloc().compositeBuffer(Math.max(2, parts.size()));
        for (HttpContent part : parts) {
            body.addComponent(true, part.content()); // the part's reference moves into the composite
        }
        RequestContext r = rc;
        r.body(body);
        FullHttpResponse answer = r.chain().requestBody(r);
        if (answer != null) {
            ReferenceCountUtil.release(head);
            respond(r, answer);
            return;
        }
        if (r.target() == null) {
            ReferenceCountUtil.release(head);
            respond(r, GatewayErrors.response(ctx.alloc(), HttpResponseStatus.NOT_FOUND, "route_not_found",
                    "no target for path " + r.path()));
            return;
        }
        ByteBuf b = r.takeBody();
        HttpHeaders headers = head.headers();
        headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        headers.setInt(HttpHeaderNames.CONTENT_LENGTH, b.readableBytes()); // the body a filter may have rewritten
        DefaultFullHttpRequest full = new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(), b,
                headers, io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
        ReferenceCountUtil.release(head); // a FullHttpRequest head gave its content a reference of its own above
        start(r, full);
    }

    private void dropBody() {
        if (bodyParts != null) {
            bodyParts.forEach(ReferenceCountUtil::release);
            bodyParts = null;
            ReferenceCountUtil.release(bodyHead);
            bodyHead = null;
        }
    }

    /** Answers a request at its head (or after its body) instead of a target; the rest of its body is dropped. */
    private void refuse(ChannelHandlerContext ctx, HttpRequest req, FullHttpResponse answer) {
        if (log.isDebugEnabled()) { // a client sending garbage must not be able to flood the log
            log.debug("request {} {} {}: {}", rc.requestId(), req.method(), req.uri(), answer.status());
        }
        discarding = !(req instanceof LastHttpContent);
        ReferenceCountUtil.release(req);
        respond(rc, answer);
    }

    private void respond(RequestContext r, FullHttpResponse answer) {
        if (r.closesConnection()) {
            keepAlive = false; // the byte stream can no longer be trusted
        }
        write(r, answer, ctx.newPromise());
        ctx.flush();
    }

    // ---- the response phases ----

    @Override
    public void write(RequestContext r, Object msg, ChannelPromise promise) {
        if (r != rc) {
            // A target answering an exchange that is over (the client left meanwhile): nothing to send it to.
            ReferenceCountUtil.release(msg);
            if (!promise.isVoid()) { // failing the channel's void promise would fire exceptionCaught: a close
                promise.tryFailure(new IllegalStateException("exchange is over"));
            }
            return;
        }
        if (msg instanceof HttpResponse) {
            HttpResponse resp = (HttpResponse) msg;
            if (resp.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()
                    && (guard != null || ExtendedConnect.isWebSocket(ctx.channel()))) {
                // The exchange's final answer: the target detaches the connection next.
                r.chain().responseHead(r, resp);
                current.status = 101;
                current.responseHeadNanos = System.nanoTime();
                ctx.write(msg, promise);
                return;
            }
            if (resp.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                ctx.write(msg, promise);
                return;
            }
            HttpHeaders h = resp.headers();
            String type = h.get(HttpHeaderNames.CONTENT_TYPE);
            r.eventStream(type != null && type.startsWith("text/event-stream")); // found once, for every filter
            r.chain().responseHead(r, resp);
            current.status = resp.status().code();
            current.responseHeadNanos = System.nanoTime();
            current.gatewayError = h.get(GatewayErrors.ERROR_HEADER);
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
            if (passThroughHead != null) {
                passThroughHead.passThroughNext();
                passThroughHead = null;
            }
        } else if (msg instanceof ByteBuf raw) {
            current.bytesOut += raw.readableBytes(); // a pass-through body: the bytes as framed upstream
            ctx.write(msg, promise);
            return;
        }
        boolean go = true;
        if (msg instanceof HttpContent) {
            if (stopped) {
                ReferenceCountUtil.release(msg); // a filter ended the response: nothing more goes out
                promise.trySuccess();
                return;
            }
            current.bytesOut += ((HttpContent) msg).content().readableBytes();
            go = r.chain().responseContent(r, (HttpContent) msg);
        } else if (msg instanceof io.netty.channel.FileRegion region) {
            current.bytesOut += region.count(); // a static file's bytes, zero-copy
        }
        ctx.write(msg, promise);
        if (msg instanceof LastHttpContent) {
            responseEnded(ctx);
        } else if (!go) {
            stopResponse(r);
        }
    }

    @Override
    public boolean passThroughBody(RequestContext r) {
        if (r != rc || guard == null || http10 || stopped || r.chain().wantsResponseContent(r)) {
            return false; // HTTP/2 and HTTP/1.0 frame bodies their own way; a content filter reads the parts
        }
        passThroughHead = ctx.pipeline().get(ServerCodec.class);
        return passThroughHead != null;
    }

    /** A filter ended the response mid-way: its last event goes out, the target is aborted, the connection closed. */
    private void stopResponse(RequestContext r) {
        stopped = true;
        ByteBuf event = r.takeStopEvent();
        if (event != null) {
            ctx.write(new io.netty.handler.codec.http.DefaultHttpContent(event));
        }
        ctx.flush();
        // Out of the write path: the target may be inside its own write call.
        ctx.executor().execute(() -> {
            if (active != null && rc == r) {
                active.abort(); // frees the GPU: the upstream request is aborted
            }
            ctx.close();
        });
    }

    @Override
    public void flush() {
        ctx.flush();
    }

    @Override
    public Runnable detach(RequestContext r, io.netty.channel.ChannelHandler handler) {
        boolean h2 = guard == null && ExtendedConnect.isWebSocket(ctx.channel());
        if (r != rc || (guard == null && !h2) || current == null || current.status != 101) {
            throw new IllegalStateException("detach without a 101 on an HTTP/1.1 connection or a WebSocket stream");
        }
        io.netty.channel.ChannelPipeline p = ctx.pipeline();
        Sweeper.disarm(bodyWatch);
        held.forEach(ReferenceCountUtil::release); // none: the decoder stopped after the upgrade request
        held.clear();
        active = null;
        proxy = null;
        p.addLast("drain", DrainCloses.INSTANCE);
        p.addLast("tunnel", handler);
        p.remove(this);
        for (String name : new String[] {"hsts", "guard", "idle"}) {
            if (p.get(name) != null) {
                p.remove(name);
            }
        }
        if (h2) {
            ExtendedConnect.tunnel(ctx.channel()); // the stream's DATA frames carry the WebSocket from here
        } else {
            // Last: the decoder hands what it buffered after the request head to the handler now behind it.
            p.remove(ServerCodec.class);
        }
        return () -> endExchange(Exchange.Outcome.COMPLETED);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ctx.write(msg, promise); // nothing writes from behind this handler; kept for handlers in front
    }

    private void responseEnded(ChannelHandlerContext ctx) {
        inExchange = false;
        if (guard != null) {
            guard.exchange(false);
        }
        active = null;
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
        // A request released here may have to wait for its admission: its parts stay held until then.
        while (admitting == null && (msg = held.peek()) != null && !(inExchange && msg instanceof HttpRequest)) {
            held.poll();
            dispatch(ctx, msg);
        }
        readComplete(); // the targets flush what they wrote, as after a socket read
        if (held.isEmpty() && admitting == null) {
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        readComplete();
        ctx.fireChannelReadComplete();
    }

    private void readComplete() {
        if (active != null) {
            active.onClientReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (active != null) {
            active.onClientWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
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

    /** Tells the filters and observers once; an outcome set earlier (by the proxy) is kept. */
    private void endExchange(Exchange.Outcome outcome) {
        Exchange ex = current;
        RequestContext r = rc;
        if (ex == null) {
            return;
        }
        current = null;
        rc = null;
        passThroughHead = null;
        ex.endNanos = System.nanoTime();
        if (ex.outcome == null) {
            ex.outcome = outcome;
        }
        if (r != null) {
            r.chain().end(r);
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
        dropBody();
        // Every target this stream used hears of it: the proxy closes its upstream, so vLLM aborts the generation.
        if (proxy != null) {
            proxy.onClientClosed();
        }
        if (admin != null) {
            admin.onClientClosed();
        }
        if (files != null) {
            files.onClientClosed();
        }
        if (active != null && active != proxy && active != admin && active != files) {
            active.onClientClosed(); // a service target, made per request
        }
        active = null;
        endExchange(Exchange.Outcome.CLIENT_ABORTED);
        if (admitting != null) {
            ReferenceCountUtil.release(admitting);
            admitting = null;
        }
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

    /** In a detached connection (a WebSocket): draining for shutdown closes it, which closes its other side too. */
    @io.netty.channel.ChannelHandler.Sharable
    private static final class DrainCloses extends io.netty.channel.ChannelInboundHandlerAdapter {
        static final DrainCloses INSTANCE = new DrainCloses();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == Drain.INSTANCE) {
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    private static String newRequestId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE);
    }
}
