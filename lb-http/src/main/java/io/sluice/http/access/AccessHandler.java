package io.sluice.http.access;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.sluice.admin.GatewayErrors;
import io.sluice.admin.Json;
import io.sluice.core.auth.ApiKeys;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.ratelimit.RateLimiter;
import io.sluice.core.route.Router;
import io.sluice.http.proxy.ClientAddress;
import io.sluice.http.proxy.ProxyHandler;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * API keys, rate limits and CORS for one connection's proxied requests, before they reach the proxy.
 *
 * <p>Tokens are charged while a response streams past (one per SSE event, corrected by the
 * {@code usage} vLLM reports at the end), so a token limit bites in the middle of a long answer rather
 * than on the next request: the stream is ended with an error event and the generation is aborted.
 * Scanning is done in place on the forwarded buffers; nothing is copied.
 */
public final class AccessHandler extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(AccessHandler.class);
    private static final AsciiString X_API_KEY = AsciiString.cached("x-api-key");
    private static final byte[] DELTA = "\"delta\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] PROMPT = "\"prompt_tokens\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] COMPLETION = "\"completion_tokens\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final String EXPOSED = "x-request-id, retry-after, x-ratelimit-limit-requests, "
            + "x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, "
            + "x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens";

    private final Supplier<AccessPolicy> policies;
    private AccessPolicy policy;          // the listener's policy when the current request arrived
    private String origin;
    private boolean dropping;
    private String keyId;
    private String ipId;
    private RateLimiter.Decision limits;
    private RateLimiter limitsFrom;
    private boolean countTokens;
    private boolean sse;
    private long charged;
    private boolean cut;

    /** @param policies the listener's current policy (null: none), read per request so a reload applies at once */
    public AccessHandler(Supplier<AccessPolicy> policies) {
        this.policies = policies;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            onRequest(ctx, (HttpRequest) msg);
            return;
        }
        if (dropping) {
            if (msg instanceof LastHttpContent) {
                dropping = false;
            }
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void onRequest(ChannelHandlerContext ctx, HttpRequest req) {
        HttpHeaders h = req.headers();
        keyId = null;
        ipId = null;
        limits = null;
        limitsFrom = null;
        countTokens = false;
        sse = false;
        charged = 0;
        cut = false;
        policy = policies.get();
        if (policy == null) {
            origin = null;
            ctx.fireChannelRead(req);
            return;
        }
        origin = policy.cors == null ? null : h.get(HttpHeaderNames.ORIGIN);
        RouteConfig route = ctx.channel().attr(Router.ROUTE).get();
        if (route == null || route.admin()) {
            // The proxied routes' CORS rules never open the admin API to a page: no preflight answer,
            // no Access-Control-* headers (the admin handler refuses cross-site requests itself).
            origin = null;
            ctx.fireChannelRead(req);
            return;
        }
        if (origin != null && req.method().equals(HttpMethod.OPTIONS) && h.contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD)) {
            preflight(ctx, req);
            return;
        }
        ApiKeys keys = policy.keysFor(route);
        if (keys != null) {
            keyId = keys.authenticate(bearer(h));
            if (keyId == null) {
                refuse(ctx, req, GatewayErrors.response(ctx.alloc(), HttpResponseStatus.UNAUTHORIZED, "invalid_api_key",
                        h.contains(HttpHeaderNames.AUTHORIZATION) || h.contains(X_API_KEY)
                                ? "Incorrect API key provided." : "No API key provided: send 'Authorization: Bearer <key>'."));
                return;
            }
        }
        long promptEstimate = HttpUtil.getContentLength(req, 0L) / 4; // charged now, corrected by usage later
        if (policy.perKey != null && keyId != null && !admit(ctx, req, policy.perKey, "key:" + keyId)) {
            return;
        }
        if (policy.perIp != null && !admit(ctx, req, policy.perIp, "ip:" + ClientAddress.of(ctx.channel()).limitKey())) {
            return;
        }
        if (countTokens) {
            charge(promptEstimate);
        }
        ctx.fireChannelRead(req);
    }

    private boolean admit(ChannelHandlerContext ctx, HttpRequest req, RateLimiter limiter, String id) {
        RateLimiter.Decision d = limiter.tryAcquire(id);
        limits = d;
        limitsFrom = limiter;
        if (!d.allowed()) {
            FullHttpResponse r = GatewayErrors.response(ctx.alloc(), HttpResponseStatus.TOO_MANY_REQUESTS,
                    "rate_limit_exceeded", "rate limit reached for " + describe(id) + "; retry in " + d.retryAfterSeconds() + "s");
            r.headers().set(HttpHeaderNames.RETRY_AFTER, Math.max(1, d.retryAfterSeconds()));
            refuse(ctx, req, r);
            return false;
        }
        if (limiter.tokensPerMinute() > 0) {
            countTokens = true;
            if (id.startsWith("ip:")) {
                ipId = id.substring(3);
            }
        }
        return true;
    }

    private static String describe(String id) {
        return id.startsWith("key:") ? "API key '" + id.substring(4) + "'" : "client " + id.substring(3);
    }

    private void refuse(ChannelHandlerContext ctx, HttpRequest req, FullHttpResponse response) {
        dropping = !(req instanceof LastHttpContent);
        ReferenceCountUtil.release(req);
        decorate(response);
        ctx.writeAndFlush(response);
    }

    private void preflight(ChannelHandlerContext ctx, HttpRequest req) {
        FullHttpResponse r;
        if (policy.cors.allows(origin)) {
            r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT, ctx.alloc().buffer(0));
            HttpHeaders h = r.headers();
            h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, String.join(", ", policy.cors.methods()));
            h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, String.join(", ", policy.cors.headers()));
            h.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, policy.cors.maxAge().toSeconds());
            h.setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        } else {
            r = GatewayErrors.response(ctx.alloc(), HttpResponseStatus.FORBIDDEN, "origin_not_allowed",
                    "origin " + origin + " is not allowed");
        }
        refuse(ctx, req, r);
    }

    private static String bearer(HttpHeaders h) {
        String auth = h.get(HttpHeaderNames.AUTHORIZATION);
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return auth.substring(7).trim();
        }
        return h.get(X_API_KEY); // what Anthropic-style clients send
    }

    /** CORS and rate-limit headers on every response to a request that passed through here. */
    private void decorate(HttpResponse resp) {
        HttpHeaders h = resp.headers();
        if (origin != null && policy.cors.allows(origin)) {
            h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.add(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
            h.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED);
            if (policy.cors.credentials()) {
                h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
            }
        }
        RateLimiter.Decision d = limits;
        if (d != null) {
            if (limitsFrom.requestsPerMinute() > 0) {
                h.set("x-ratelimit-limit-requests", limitsFrom.requestsPerMinute());
                h.set("x-ratelimit-remaining-requests", d.remainingRequests());
                h.set("x-ratelimit-reset-requests", d.requestsResetSeconds() + "s");
            }
            if (limitsFrom.tokensPerMinute() > 0) {
                h.set("x-ratelimit-limit-tokens", limitsFrom.tokensPerMinute());
                h.set("x-ratelimit-remaining-tokens", d.remainingTokens());
                h.set("x-ratelimit-reset-tokens", d.tokensResetSeconds() + "s");
            }
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (cut && msg instanceof HttpContent) {
            ReferenceCountUtil.release(msg); // the stream was ended for the limit: nothing more goes out
            promise.setSuccess();
            return;
        }
        if (msg instanceof HttpResponse && ((HttpResponse) msg).status().code() >= 200) {
            HttpResponse resp = (HttpResponse) msg;
            decorate(resp);
            String type = resp.headers().get(HttpHeaderNames.CONTENT_TYPE);
            sse = type != null && type.startsWith("text/event-stream");
        }
        boolean exhausted = false;
        if (countTokens && msg instanceof HttpContent) {
            exhausted = account(((HttpContent) msg).content());
        }
        ctx.write(msg, promise);
        if (exhausted && sse && !(msg instanceof LastHttpContent)) {
            cutStream(ctx);
        }
    }

    /** @return true when the token budget is used up */
    private boolean account(ByteBuf buf) {
        long prompt = numberAfter(buf, PROMPT);
        long completion = numberAfter(buf, COMPLETION);
        long tokens;
        if (prompt >= 0 && completion >= 0) {
            tokens = Math.max(0, prompt + completion - charged); // vLLM's own count replaces the estimate
        } else {
            tokens = sse ? count(buf, DELTA) : 0;
        }
        return tokens > 0 && !charge(tokens);
    }

    private boolean charge(long tokens) {
        charged += tokens;
        boolean ok = true;
        if (keyId != null && policy.perKey != null) {
            ok &= policy.perKey.spendTokens("key:" + keyId, tokens);
        }
        if (ipId != null && policy.perIp != null) {
            ok &= policy.perIp.spendTokens("ip:" + ipId, tokens);
        }
        return ok;
    }

    private void cutStream(ChannelHandlerContext ctx) {
        cut = true;
        log.info("token rate limit reached mid-stream ({}); ending the stream", keyId != null ? "key " + keyId : "client " + ipId);
        String event = "data: {\"error\":{\"message\":" + Json.quote("token rate limit reached; the response is incomplete")
                + ",\"type\":\"rate_limit_error\",\"param\":null,\"code\":429}}\n\n";
        ctx.writeAndFlush(new DefaultHttpContent(ByteBufUtil.writeUtf8(ctx.alloc(), event)));
        // Out of the write path: abort the upstream request (frees the GPU), then end the response abnormally.
        ctx.executor().execute(() -> {
            ctx.fireUserEventTriggered(ProxyHandler.AbortRequest.INSTANCE);
            ctx.close();
        });
    }

    private static int count(ByteBuf buf, byte[] needle) {
        int n = 0;
        int from = buf.readerIndex();
        int end = buf.writerIndex();
        while (true) {
            int at = indexOf(buf, needle, from, end);
            if (at < 0) {
                return n;
            }
            n++;
            from = at + needle.length;
        }
    }

    private static long numberAfter(ByteBuf buf, byte[] key) {
        int at = indexOf(buf, key, buf.readerIndex(), buf.writerIndex());
        if (at < 0) {
            return -1;
        }
        long v = 0;
        int digits = 0;
        for (int i = at + key.length; i < buf.writerIndex(); i++) {
            byte b = buf.getByte(i);
            if (b == ' ' && digits == 0) {
                continue;
            }
            if (b < '0' || b > '9') {
                break;
            }
            v = v * 10 + (b - '0');
            digits++;
        }
        return digits == 0 ? -1 : v;
    }

    private static int indexOf(ByteBuf buf, byte[] needle, int from, int end) {
        outer:
        for (int i = buf.indexOf(from, end, needle[0]); i >= 0 && i + needle.length <= end; i = buf.indexOf(i + 1, end, needle[0])) {
            for (int k = 1; k < needle.length; k++) {
                if (buf.getByte(i + k) != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
