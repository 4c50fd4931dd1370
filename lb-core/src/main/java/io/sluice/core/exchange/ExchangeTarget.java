package io.sluice.core.exchange;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;

/**
 * What serves a request once its target is known (a pool's proxy, the admin API). One instance per
 * client connection or HTTP/2 stream, serving one exchange at a time; driven by the exchange handler,
 * which owns the channel. Responses go out through {@link RequestContext#write}, so every response
 * passes the response phases.
 */
public interface ExchangeTarget {

    /** The request head (a {@code FullHttpRequest} when a filter read the whole body). Owned from here on. */
    void onRequest(RequestContext rc, HttpRequest head);

    /** A further part of the request body. Owned from here on. */
    void onRequestContent(HttpContent content);

    /** The end of a read batch from the client. */
    default void onClientReadComplete() {
    }

    default void onClientWritabilityChanged(boolean writable) {
    }

    /** The client connection (or stream) closed. */
    void onClientClosed();

    /** Forget the current request at once (a malformed body, a response ended by a filter). */
    void abort();
}
