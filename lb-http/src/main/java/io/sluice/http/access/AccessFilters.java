package io.sluice.http.access;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
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
import io.sluice.core.auth.ApiKeys;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.exchange.StateKey;
import io.sluice.core.http.GatewayErrors;
import io.sluice.core.http.Json;
import io.sluice.core.ratelimit.Limiter;
import io.sluice.core.ratelimit.RateLimiter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener's access rules as exchange filters: CORS, API keys, and rate limits with token metering.
 * They apply to proxied routes (and the public endpoints answered on them); the admin API has its own
 * access control, and the proxied routes' CORS rules never open it to a page.
 */
public final class AccessFilters {
    private static final Logger log = LoggerFactory.getLogger(AccessFilters.class);
    private static final AsciiString X_API_KEY = AsciiString.cached("x-api-key");
    private static final String EXPOSED = "x-request-id, retry-after, x-ratelimit-limit-requests, "
            + "x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, "
            + "x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens";

    private AccessFilters() {
    }

    /** The filters a policy needs, in order; none without a policy. */
    public static List<ExchangeFilter> of(AccessPolicy policy) {
        List<ExchangeFilter> out = new ArrayList<>(3);
        if (policy == null) {
            return out;
        }
        if (policy.cors != null) {
            out.add(new Cors(policy));
        }
        if (policy.listenerKeys != null || !policy.routeKeys.isEmpty()) {
            out.add(new Keys(policy));
        }
        if (policy.perKey != null || policy.perIp != null) {
            out.add(new Limits(policy));
        }
        return out;
    }

    private static boolean proxied(RequestContext rc) {
        RouteConfig r = rc.route();
        return r != null && !r.admin();
    }

    /** Set on requests whose {@code Origin} the listener's CORS settings allow. */
    public static final StateKey<Boolean> ORIGIN_ALLOWED = StateKey.of("cors.allowed");

    /** Preflights answered here; {@code Access-Control-*} on every response to an allowed origin. */
    static final class Cors implements ExchangeFilter {
        private static final StateKey<String> ORIGIN = StateKey.of("cors.origin");
        private final AccessPolicy policy;

        Cors(AccessPolicy policy) {
            this.policy = policy;
        }

        @Override
        public FullHttpResponse onRequestHead(RequestContext rc) {
            HttpRequest req = rc.request();
            String origin = req.headers().get(HttpHeaderNames.ORIGIN);
            if (origin == null || !proxied(rc)) {
                return null;
            }
            rc.set(ORIGIN, origin);
            if (policy.cors.allows(origin)) {
                rc.set(ORIGIN_ALLOWED, Boolean.TRUE);
            }
            if (!req.method().equals(HttpMethod.OPTIONS) || !req.headers().contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD)) {
                return null;
            }
            if (!policy.cors.allows(origin)) {
                return GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.FORBIDDEN, "origin_not_allowed",
                        "origin " + origin + " is not allowed");
            }
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT,
                    rc.channel().alloc().buffer(0));
            HttpHeaders h = r.headers();
            h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, String.join(", ", policy.cors.methods()));
            h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, String.join(", ", policy.cors.headers()));
            h.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, policy.cors.maxAge().toSeconds());
            h.setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            return r;
        }

        @Override
        public void onResponseHead(RequestContext rc, HttpResponse resp) {
            String origin = rc.get(ORIGIN);
            if (origin != null && policy.cors.allows(origin)) {
                HttpHeaders h = resp.headers();
                h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                h.add(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
                h.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED);
                if (policy.cors.credentials()) {
                    h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
                }
            }
        }
    }

    /** API keys: the route's or the listener's; the authenticated key's id goes into the context. */
    static final class Keys implements ExchangeFilter {
        private final AccessPolicy policy;

        Keys(AccessPolicy policy) {
            this.policy = policy;
        }

        @Override
        public FullHttpResponse onRequestHead(RequestContext rc) {
            if (!proxied(rc)) {
                return null;
            }
            ApiKeys keys = policy.keysFor(rc.route());
            if (keys == null) {
                return null;
            }
            HttpHeaders h = rc.request().headers();
            String id = keys.authenticate(bearer(h));
            if (id == null) {
                return GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.UNAUTHORIZED, "invalid_api_key",
                        h.contains(HttpHeaderNames.AUTHORIZATION) || h.contains(X_API_KEY)
                                ? "Incorrect API key provided." : "No API key provided: send 'Authorization: Bearer <key>'.");
            }
            rc.apiKeyId(id);
            return null;
        }

        private static String bearer(HttpHeaders h) {
            String auth = h.get(HttpHeaderNames.AUTHORIZATION);
            if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
                return auth.substring(7).trim();
            }
            return h.get(X_API_KEY); // what Anthropic-style clients send
        }
    }

    /**
     * Request and token rate limits per API key and per client address. Tokens are charged while a
     * response streams past (one per SSE event, corrected by the {@code usage} vLLM reports at the end),
     * so a token limit bites in the middle of a long answer rather than on the next request: the stream
     * is ended with an error event and the generation is aborted. Scanning is done in place on the
     * forwarded buffers; nothing is copied.
     */
    static final class Limits implements ExchangeFilter {
        private static final StateKey<Meter> METER = StateKey.of("limits.meter");
        private static final byte[] DELTA = "\"delta\":".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] PROMPT = "\"prompt_tokens\":".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] COMPLETION = "\"completion_tokens\":".getBytes(StandardCharsets.US_ASCII);
        private final AccessPolicy policy;

        /** One request's limits: the decision to report, and the tokens charged so far. */
        private static final class Meter {
            RateLimiter.Decision decision;
            Limiter from;
            String keyId;
            String ipId;
            boolean countTokens;
            long charged;
            long promptEstimate;
            CompletableFuture<FullHttpResponse> pending; // a shared store's answer, awaited in the admission phase
        }

        Limits(AccessPolicy policy) {
            this.policy = policy;
        }

        /**
         * Local buckets decide here, at once. A shared store's answer is awaited in the admission phase,
         * without blocking the loop; the per-address check follows the per-key one only if that let the request through.
         */
        @Override
        public FullHttpResponse onRequestHead(RequestContext rc) {
            if (!proxied(rc)) {
                return null;
            }
            Meter m = new Meter();
            rc.set(METER, m);
            m.keyId = rc.apiKeyId();
            m.promptEstimate = HttpUtil.getContentLength(rc.request(), 0L) / 4; // charged now, corrected by usage later
            CompletableFuture<FullHttpResponse> refused = CompletableFuture.completedFuture(null);
            if (policy.perKey != null && m.keyId != null) {
                refused = check(rc, m, policy.perKey, "key:" + m.keyId);
            }
            if (policy.perIp != null) {
                String ip = "ip:" + rc.client().limitKey();
                refused = refused.isDone() && refused.join() != null ? refused
                        : refused.thenCompose(r -> r != null ? CompletableFuture.completedFuture(r) : check(rc, m, policy.perIp, ip));
            }
            refused = refused.thenApply(r -> {
                if (r == null && m.countTokens) {
                    charge(m, m.promptEstimate);
                }
                return r;
            });
            if (refused.isDone()) {
                return refused.join();
            }
            m.pending = refused;
            return null;
        }

        @Override
        public CompletionStage<FullHttpResponse> onAdmission(RequestContext rc) {
            Meter m = rc.get(METER);
            return m == null ? null : m.pending;
        }

        /** One limiter's check; its answer is built on the exchange's loop. */
        private CompletableFuture<FullHttpResponse> check(RequestContext rc, Meter m, Limiter limiter, String id) {
            CompletableFuture<RateLimiter.Decision> d = limiter.acquire(id).toCompletableFuture();
            if (d.isDone()) {
                return CompletableFuture.completedFuture(admit(rc, m, limiter, id, d.join()));
            }
            return d.thenApplyAsync(decision -> admit(rc, m, limiter, id, decision), rc.channel().eventLoop());
        }

        private FullHttpResponse admit(RequestContext rc, Meter m, Limiter limiter, String id, RateLimiter.Decision d) {
            m.decision = d;
            m.from = limiter;
            if (d.storeUnavailable()) {
                FullHttpResponse r = GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
                        "rate_limit_unavailable", "rate limits cannot be checked now (their shared store is unreachable); retry later");
                r.headers().set(HttpHeaderNames.RETRY_AFTER, 1);
                m.decision = null; // no x-ratelimit-* figures to report
                return r;
            }
            if (!d.allowed()) {
                FullHttpResponse r = GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.TOO_MANY_REQUESTS,
                        "rate_limit_exceeded", "rate limit reached for " + describe(id) + "; retry in " + d.retryAfterSeconds() + "s");
                r.headers().set(HttpHeaderNames.RETRY_AFTER, Math.max(1, d.retryAfterSeconds()));
                return r;
            }
            if (limiter.tokensPerMinute() > 0) {
                m.countTokens = true;
                if (id.startsWith("ip:")) {
                    m.ipId = id.substring(3);
                }
            }
            return null;
        }

        private static String describe(String id) {
            return id.startsWith("key:") ? "API key '" + id.substring(4) + "'" : "client " + id.substring(3);
        }

        @Override
        public void onResponseHead(RequestContext rc, HttpResponse resp) {
            Meter m = rc.get(METER);
            if (m == null) {
                return;
            }
            RateLimiter.Decision d = m.decision;
            if (d == null) {
                return;
            }
            HttpHeaders h = resp.headers();
            if (m.from.requestsPerMinute() > 0) {
                h.set("x-ratelimit-limit-requests", m.from.requestsPerMinute());
                h.set("x-ratelimit-remaining-requests", d.remainingRequests());
                h.set("x-ratelimit-reset-requests", d.requestsResetSeconds() + "s");
            }
            if (m.from.tokensPerMinute() > 0) {
                h.set("x-ratelimit-limit-tokens", m.from.tokensPerMinute());
                h.set("x-ratelimit-remaining-tokens", d.remainingTokens());
                h.set("x-ratelimit-reset-tokens", d.tokensResetSeconds() + "s");
            }
        }

        @Override
        public boolean wantsResponseContent(RequestContext rc) {
            Meter m = rc.get(METER);
            return m != null && m.countTokens;
        }

        @Override
        public boolean onResponseContent(RequestContext rc, HttpContent content) {
            Meter m = rc.get(METER);
            if (m == null || !m.countTokens) {
                return true;
            }
            boolean exhausted = account(rc, m, content.content());
            if (exhausted && rc.eventStream() && !(content instanceof LastHttpContent)) {
                log.info("token rate limit reached mid-stream ({}); ending the stream",
                        m.keyId != null ? "key " + m.keyId : "client " + m.ipId);
                String event = "data: {\"error\":{\"message\":" + Json.quote("token rate limit reached; the response is incomplete")
                        + ",\"type\":\"rate_limit_error\",\"param\":null,\"code\":429}}\n\n";
                rc.stopResponseWith(ByteBufUtil.writeUtf8(rc.channel().alloc(), event));
                return false;
            }
            return true;
        }

        /**
         * A provider's answer (through the gateway's relay) reports its usage in the exchange, also when
         * the format the client gets has other names for it, or the client left mid-stream: what the
         * scan of the response did not charge is charged now.
         */
        @Override
        public void onEnd(RequestContext rc) {
            Meter m = rc.get(METER);
            if (m == null || !m.countTokens) {
                return;
            }
            long prompt = rc.exchange().promptTokens;
            long completion = rc.exchange().completionTokens;
            long reported = Math.max(0, prompt) + Math.max(0, completion);
            if (reported > m.charged) {
                charge(m, reported - m.charged);
            }
        }

        /** @return true when the token budget is used up */
        private boolean account(RequestContext rc, Meter m, ByteBuf buf) {
            boolean sse = rc.eventStream();
            long prompt = numberAfter(buf, PROMPT);
            long completion = numberAfter(buf, COMPLETION);
            long tokens;
            if (prompt >= 0 && completion >= 0) {
                // A pool's usage, read here anyway: kept for the access log and the metrics, unless a number
                // may go on in the next read (best effort: a usage object split across two reads is missed).
                if (rc.exchange().promptTokens < 0 && !endsInNumber(buf)) {
                    rc.exchange().promptTokens = prompt;
                    rc.exchange().completionTokens = completion;
                }
                tokens = Math.max(0, prompt + completion - m.charged); // vLLM's own count replaces the estimate
            } else {
                tokens = sse ? count(buf, DELTA) : 0;
            }
            return tokens > 0 && !charge(m, tokens);
        }

        private boolean charge(Meter m, long tokens) {
            m.charged += tokens;
            boolean ok = true;
            if (m.keyId != null && policy.perKey != null) {
                ok &= policy.perKey.spendTokens("key:" + m.keyId, tokens);
            }
            if (m.ipId != null && policy.perIp != null) {
                ok &= policy.perIp.spendTokens("ip:" + m.ipId, tokens);
            }
            return ok;
        }
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

    private static boolean endsInNumber(ByteBuf buf) {
        int last = buf.writerIndex() - 1;
        return last >= buf.readerIndex() && buf.getByte(last) >= '0' && buf.getByte(last) <= '9';
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
