package io.sluice.http.provider;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.QueryStringEncoder;
import io.netty.util.AsciiString;
import io.sluice.core.config.ProviderConfig;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.provider.WireFormat;
import java.util.List;
import java.util.Map;

/**
 * Keeps provider keys server-side: a request to a provider never carries the client's credentials
 * ({@code Authorization}, {@code x-api-key}, {@code x-goog-api-key}, a Gemini {@code key=} query), and
 * gets the provider's key the way that provider expects it. A provider that needs a key and has none
 * is refused before (by {@link ProviderGateway}), never called with an empty one. Runs after the header
 * rules, so no rule can put a client's credentials back.
 *
 * <p>A request that a queue's {@code spill-to} sends on to a provider's pool ({@code @name}) is treated
 * the same way, in the pool-changed phase: the pool says which provider it is.
 */
public final class ProviderKeys implements ExchangeFilter {
    static final AsciiString X_API_KEY = AsciiString.cached("x-api-key");
    static final AsciiString X_GOOG_API_KEY = AsciiString.cached("x-goog-api-key");
    static final AsciiString ANTHROPIC_VERSION = AsciiString.cached("anthropic-version");

    private final java.util.function.Supplier<Providers> providers;

    public ProviderKeys(java.util.function.Supplier<Providers> providers) {
        this.providers = providers;
    }

    @Override
    public void onUpstreamPoolChanged(RequestContext rc, HttpRequest upstream) {
        String pool = rc.pool();
        ProviderConfig p = pool != null && pool.startsWith("@") ? providers.get().byPool(pool) : null;
        if (p == null) {
            return;
        }
        // It came for OpenAI's API root (/v1/...) of a pool; this provider's root may be elsewhere (Groq: /openai/v1).
        String uri = upstream.uri();
        if (uri.startsWith("/v1/") && !p.basePath().equals("/v1")) {
            upstream.setUri(p.basePath() + uri.substring(3));
        }
        rc.set(Providers.CHOSEN, p);
        onUpstreamRequest(rc, upstream);
    }

    @Override
    public void onUpstreamRequest(RequestContext rc, HttpRequest upstream) {
        ProviderConfig p = rc.get(Providers.CHOSEN);
        if (p == null) {
            return;
        }
        HttpHeaders h = upstream.headers();
        h.remove(HttpHeaderNames.AUTHORIZATION);
        h.remove(X_API_KEY);
        h.remove(X_GOOG_API_KEY);
        h.remove(HttpHeaderNames.COOKIE); // a browser's cookies for the gateway are not the provider's business
        if (h.contains(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL)) {
            withoutKeyProtocols(h); // a browser's WebSocket (the Realtime API) can send its key only as a subprotocol
        }
        if (p.format() == WireFormat.GEMINI && upstream.uri().contains("key=")) {
            upstream.setUri(withoutKeyParam(upstream.uri()));
        }
        String key = p.apiKey();
        switch (p.format()) {
            case ANTHROPIC -> {
                if (!key.isEmpty()) {
                    h.set(X_API_KEY, key);
                }
                if (!h.contains(ANTHROPIC_VERSION)) {
                    h.set(ANTHROPIC_VERSION, p.version());
                }
            }
            case GEMINI -> {
                if (!key.isEmpty()) {
                    h.set(X_GOOG_API_KEY, key);
                }
            }
            default -> {
                if (!key.isEmpty()) {
                    h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + key);
                }
            }
        }
    }

    /** Subprotocols that carry credentials ({@code openai-insecure-api-key.<key>}), as the Realtime API's browser clients send them. */
    static void withoutKeyProtocols(HttpHeaders h) {
        List<String> kept = new java.util.ArrayList<>();
        for (String value : h.getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL)) {
            for (String token : value.split(",")) {
                String t = token.trim();
                if (!t.isEmpty() && !t.regionMatches(true, 0, "openai-insecure-api-key", 0, 23)) {
                    kept.add(t);
                }
            }
        }
        h.remove(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        if (!kept.isEmpty()) {
            h.set(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, String.join(", ", kept));
        }
    }

    /** The URI without its {@code key} query parameters (the Gemini SDKs' other way of sending a key). */
    static String withoutKeyParam(String uri) {
        QueryStringDecoder d = new QueryStringDecoder(uri);
        QueryStringEncoder e = new QueryStringEncoder(d.rawPath());
        for (Map.Entry<String, List<String>> p : d.parameters().entrySet()) {
            if (!p.getKey().equals("key")) {
                for (String v : p.getValue()) {
                    e.addParam(p.getKey(), v);
                }
            }
        }
        return e.toString();
    }
}
