package io.sluice.http.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
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
import io.sluice.admin.GatewayErrors;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.observe.Exchange;
import io.sluice.core.pool.BackendPool;
import io.sluice.core.route.Router;
import io.sluice.http.pool.UpstreamHandler;
import io.sluice.http.pool.UpstreamPool;
import io.sluice.http.pool.Upstreams;
import java.net.ConnectException;
import java.net.InetSocketAddress;
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
 */
public final class ProxyHandler extends ChannelInboundHandlerAdapter implements UpstreamHandler.Listener {
    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);

    private final Upstreams upstreams;
    private final String proto;
    private ChannelHandlerContext ctx;
    private String clientIp;

    // The current exchange; all null/false between exchanges.
    private Backend.Lease lease;
    private UpstreamPool upstreamPool;
    private Channel upstream;
    private List<HttpObject> pending;     // request parts read while the upstream connection opens
    private ScheduledFuture<?> headTimeout;
    private String requestId;
    private Exchange exchange;
    private boolean requestDone;
    private boolean responseStarted;
    private boolean informational;
    private boolean headRequest;
    private boolean upstreamKeepAlive;
    private boolean discarding;           // dropping the rest of a request that got an early answer

    public ProxyHandler(Upstreams upstreams, String proto) {
        this.upstreams = upstreams;
        this.proto = proto;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            start((HttpRequest) msg); // takes ownership, also of a FullHttpRequest's body
            if (msg instanceof LastHttpContent) {
                requestDone = true;
                discarding = false;
            }
        } else if (msg instanceof HttpContent) {
            forwardRequestContent((HttpContent) msg);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void start(HttpRequest req) {
        discarding = false;
        RouteConfig route = ctx.channel().attr(Router.ROUTE).get();
        BackendPool pool = route == null ? null : upstreams.pool(route.pool());
        requestId = req.headers().get(Headers.X_REQUEST_ID);
        Backend backend = pool == null ? null : pool.choose();
        if (backend == null) {
            String why = pool == null ? "no route to a pool for " + req.uri()
                    : "no healthy backend in pool '" + pool.name() + "'";
            log.warn("request {} {} {}: 503 {}", requestId, req.method(), req.uri(), why);
            ReferenceCountUtil.release(req);
            ctx.writeAndFlush(GatewayErrors.response(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "no_healthy_backend", why));
            discarding = true;
            return;
        }
        headRequest = HttpMethod.HEAD.equals(req.method());
        Headers.toUpstream(req.headers(), clientIp(), proto);
        exchange = ctx.channel().attr(Exchange.KEY).get();
        if (exchange != null) {
            exchange.backend = backend.id();
        }
        lease = backend.lease();
        requestDone = false;
        responseStarted = false;
        upstreamPool = upstreams.connections(backend).on(ctx.channel().eventLoop());
        Channel ch = upstreamPool.acquireIdle(this);
        if (ch != null) {
            attach(ch);
            upstream.write(req);
            sent();
            armHeadTimeout(pool);
            return;
        }
        pending = new ArrayList<>(4);
        pending.add(req);
        ctx.channel().config().setAutoRead(false);
        if (exchange != null) {
            exchange.connectStartNanos = System.nanoTime();
        }
        ChannelFuture connect = upstreamPool.connect();
        connect.addListener(f -> onConnected(connect, pool));
    }

    private void onConnected(ChannelFuture connect, BackendPool pool) {
        Channel ch = connect.channel();
        if (lease == null || pending == null) {
            // The client left while we were connecting: nothing to send.
            ch.close();
            return;
        }
        if (!connect.isSuccess()) {
            Backend b = lease.backend();
            Throwable cause = connect.cause();
            b.recordFailure();
            if (cause instanceof ConnectException || cause instanceof ConnectTimeoutException) {
                b.markDown("connect failed: " + cause.getMessage());
            }
            log.warn("request {}: connect to {} failed: {}", requestId, b, cause.toString());
            endExchange();
            fail(HttpResponseStatus.BAD_GATEWAY, "upstream_connect_failed",
                    "could not connect to backend " + b.id() + " in pool '" + pool.name() + "'");
            ctx.channel().config().setAutoRead(true);
            return;
        }
        if (exchange != null) {
            exchange.connectedNanos = System.nanoTime();
        }
        UpstreamPool.bind(ch, this);
        attach(ch);
        List<HttpObject> parts = pending;
        pending = null;
        for (HttpObject part : parts) {
            upstream.write(part);
        }
        upstream.flush();
        sent();
        armHeadTimeout(pool);
        ctx.channel().config().setAutoRead(upstream.isWritable());
    }

    private void sent() {
        if (exchange != null) {
            exchange.upstreamSentNanos = System.nanoTime();
        }
    }

    private void attach(Channel ch) {
        upstream = ch;
        upstreamKeepAlive = true;
    }

    private void armHeadTimeout(BackendPool pool) {
        long ms = pool.config().responseTimeout().toMillis();
        if (ms > 0) {
            headTimeout = ctx.executor().schedule(this::onHeadTimeout, ms, TimeUnit.MILLISECONDS);
        }
    }

    private void forwardRequestContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (discarding || lease == null) {
            content.release();
            if (last) {
                discarding = false;
            }
            return;
        }
        if (last) {
            requestDone = true;
        }
        if (pending != null) {
            pending.add(content);
            return;
        }
        upstream.write(content);
        if (!upstream.isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (upstream != null) {
            upstream.flush();
        }
        ctx.fireChannelReadComplete();
    }

    // ---- upstream side ----

    @Override
    public void onUpstreamRead(Object msg) {
        if (msg instanceof HttpResponse) {
            HttpResponse resp = (HttpResponse) msg;
            if (resp.status().codeClass() == HttpStatusClass.INFORMATIONAL
                    && resp.status().code() != HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
                // 100 Continue and friends: pass on, the real response follows.
                informational = true;
                ReferenceCountUtil.release(msg);
                ctx.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, resp.status()));
                return;
            }
            cancelHeadTimeout();
            responseStarted = true;
            upstreamKeepAlive = HttpUtil.isKeepAlive(resp);
            Headers.toClient(resp.headers());
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
        ctx.write(msg);
        if (msg instanceof LastHttpContent) {
            completeExchange();
        } else if (!ctx.channel().isWritable() && upstream != null) {
            upstream.config().setAutoRead(false);
        }
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
        if (!requestDone && lease != null) {
            ctx.channel().config().setAutoRead(writable);
        }
    }

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (lease == null) {
            return;
        }
        Backend b = lease.backend();
        b.recordFailure();
        upstream = null; // already closed; do not return it to the pool
        if (!responseStarted) {
            log.warn("request {}: backend {} closed before responding{}", requestId, b,
                    cause == null ? "" : ": " + cause);
            endExchange();
            fail(HttpResponseStatus.BAD_GATEWAY, "upstream_reset",
                    "backend " + b.id() + " closed the connection before responding");
        } else {
            // Mid-response: the only honest signal left on HTTP/1.1 is to end the connection
            // without the terminating chunk, so the client knows the answer was cut off.
            log.warn("request {}: backend {} closed mid-response; aborting client connection", requestId, b);
            if (exchange != null) {
                exchange.outcome = Exchange.Outcome.UPSTREAM_ABORTED;
            }
            endExchange();
            ctx.flush();
            ctx.close();
        }
    }

    private void onHeadTimeout() {
        headTimeout = null;
        if (lease == null || responseStarted) {
            return;
        }
        Backend b = lease.backend();
        b.recordFailure();
        log.warn("request {}: no response head from {} within the response timeout", requestId, b);
        Channel ch = upstream;
        upstream = null;
        if (ch != null) {
            UpstreamPool.discard(ch);
        }
        endExchange();
        fail(HttpResponseStatus.GATEWAY_TIMEOUT, "upstream_timeout",
                "backend " + b.id() + " did not start responding within the response timeout");
    }

    private void completeExchange() {
        ctx.flush(); // the upstream may go back to the pool before its read batch completes
        Channel ch = upstream;
        upstream = null;
        if (ch != null) {
            if (requestDone && upstreamKeepAlive) {
                upstreamPool.release(ch);
            } else {
                UpstreamPool.discard(ch);
            }
        }
        if (!requestDone) {
            discarding = true; // answered before the body was all sent: drop the rest of it
            ctx.channel().config().setAutoRead(true);
        }
        endExchange();
    }

    /** Ends the exchange exactly once: the lease (in-flight count) is released here and only here. */
    private void endExchange() {
        cancelHeadTimeout();
        if (lease != null) {
            lease.release();
            lease = null;
        }
        if (pending != null) {
            pending.forEach(ReferenceCountUtil::release);
            pending = null;
        }
        Channel ch = upstream;
        upstream = null;
        if (ch != null) {
            UpstreamPool.discard(ch);
        }
        upstreamPool = null;
        informational = false;
        exchange = null;
    }

    private void cancelHeadTimeout() {
        if (headTimeout != null) {
            headTimeout.cancel(false);
            headTimeout = null;
        }
    }

    private void fail(HttpResponseStatus status, String code, String message) {
        if (!ctx.channel().isActive()) {
            return;
        }
        if (!requestDone) {
            discarding = true;
        }
        ctx.writeAndFlush(GatewayErrors.response(ctx.alloc(), status, code, message));
    }

    // ---- client side ----

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (upstream != null) {
            upstream.config().setAutoRead(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (lease != null) {
            // Closing the upstream connection is how vLLM learns to abort the generation.
            log.debug("request {}: client went away; aborting upstream request", requestId);
        }
        endExchange();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client channel {} failed: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    private String clientIp() {
        if (clientIp == null) {
            clientIp = ctx.channel().remoteAddress() instanceof InetSocketAddress
                    ? ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress().getHostAddress()
                    : "unknown";
        }
        return clientIp;
    }
}
