package io.sluice.core.exchange;

import io.netty.handler.codec.http.HttpObject;

/**
 * Stands between an upstream response and the client when the two speak different formats (a
 * provider's stream translated to OpenAI's or Anthropic's): the proxy hands it every upstream part
 * instead of writing it, and it writes what the client gets through {@link RequestContext#write}.
 * Without a relay (the pass-through path) the proxy forwards the parts as they are.
 */
public interface ResponseRelay {

    /** The next part of the upstream response, owned from here on. */
    void onUpstream(RequestContext rc, HttpObject msg);

    /** True once a response head went to the client: from then on a failure can only end it. */
    boolean started();

    /**
     * The upstream failed after {@link #started}: end the response in the client's format (an error
     * event, no end-of-stream marker). The proxy then closes the connection.
     */
    void onUpstreamFailed(RequestContext rc, String why);

    /** The exchange is over, however it ended: release whatever is still held. */
    default void release() {
    }
}
