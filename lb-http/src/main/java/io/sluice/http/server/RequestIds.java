package io.sluice.http.server;

import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.RequestContext;
import io.sluice.http.proxy.Headers;

/**
 * {@code X-Request-Id} on the upstream request and on every response: the client's own (up to 200
 * characters), or one made when the request arrived, so logs of client, Sluice and vLLM line up.
 */
final class RequestIds implements ExchangeFilter {
    static final RequestIds INSTANCE = new RequestIds();

    @Override
    public void onUpstreamRequest(RequestContext rc, HttpRequest upstream) {
        upstream.headers().set(Headers.X_REQUEST_ID, rc.requestId());
    }

    @Override
    public void onResponseHead(RequestContext rc, HttpResponse response) {
        response.headers().set(Headers.X_REQUEST_ID, rc.requestId());
    }
}
