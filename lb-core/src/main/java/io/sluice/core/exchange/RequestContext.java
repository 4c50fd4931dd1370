package io.sluice.core.exchange;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.sluice.core.balance.BalanceRequest;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.net.ClientAddress;
import io.sluice.core.observe.Exchange;
import io.sluice.core.route.RouteTarget;

/**
 * One request, from its head to the end of its response: created once by the exchange handler and
 * passed to every filter and to the target as an argument. Everything a feature needs to know about
 * the request is here, worked out once: the client's address, the request id, the route and target,
 * the model, the body when a filter asked for it.
 *
 * <p>Not thread-safe, by design: an exchange lives on one event loop.
 */
public final class RequestContext implements BalanceRequest {

    /** How responses leave: through the exchange handler, which runs the response phases. */
    public interface Responder {
        void write(RequestContext rc, Object msg, ChannelPromise promise);

        void flush();

        /**
         * Hands the connection over after a {@code 101 Switching Protocols} was written: see
         * {@link RequestContext#detach}.
         */
        default Runnable detach(RequestContext rc, io.netty.channel.ChannelHandler handler) {
            throw new UnsupportedOperationException("this request stream cannot switch protocols");
        }

        /** See {@link RequestContext#passThroughBody}. */
        default boolean passThroughBody(RequestContext rc) {
            return false;
        }
    }

    private final Channel channel;
    private final ClientAddress client;
    private final FilterChain chain;
    private final Responder responder;
    private final HttpRequest request;
    private final String path;
    private final Exchange exchange;
    private final String requestId;
    private Object[] state;
    private RouteConfig route;
    private RouteTarget target;
    private String model;
    private String requestedModel;
    private ByteBuf body;
    private String apiKeyId;
    private boolean closeConnection;
    private ByteBuf stopEvent;
    private boolean eventStream;
    private ResponseRelay relay;
    private Fallback fallback;
    private long[] prefixBlocks;
    private String sessionKey;
    private String routeReason;

    public RequestContext(Channel channel, ClientAddress client, FilterChain chain, Responder responder,
                          HttpRequest request, String path, String requestId, Exchange exchange) {
        this.channel = channel;
        this.client = client;
        this.chain = chain;
        this.responder = responder;
        this.request = request;
        this.path = path;
        this.requestId = requestId;
        this.exchange = exchange;
    }

    /** The client connection, or the HTTP/2 stream. */
    public Channel channel() {
        return channel;
    }

    /** The client, worked out once per connection: the peer, or behind a trusted proxy the forwarded address. */
    public ClientAddress client() {
        return client;
    }

    public FilterChain chain() {
        return chain;
    }

    /** The head as received; the proxy rewrites its headers for the upstream in place. */
    public HttpRequest request() {
        return request;
    }

    /** The request path, without the query. */
    public String path() {
        return path;
    }

    public String requestId() {
        return requestId;
    }

    public Exchange exchange() {
        return exchange;
    }

    public RouteConfig route() {
        return route;
    }

    public void route(RouteConfig r) {
        route = r;
        exchange.route = r == null ? null : r.pathPrefix();
    }

    public RouteTarget target() {
        return target;
    }

    public void target(RouteTarget t) {
        target = t;
        exchange.pool = t instanceof RouteTarget.Pool p ? p.name() : null;
    }

    /** The pool this request goes to, or null when it is not proxied (or not yet decided). */
    public String pool() {
        return target instanceof RouteTarget.Pool p ? p.name() : null;
    }

    @Override
    public String model() {
        return model;
    }

    /** The model as the client named it (before an alias or a route's forced model), or null. */
    public String requestedModel() {
        return requestedModel;
    }

    public void model(String requested, String real) {
        requestedModel = requested;
        model = real;
        exchange.model = real;
        exchange.requestedModel = requested;
    }

    @Override
    public String header(CharSequence name) {
        return request.headers().get(name);
    }

    /** The whole request body, when a filter asked for it; owned by this context until the target takes it. */
    public ByteBuf body() {
        return body;
    }

    /** Replaces the body (the old one is released). */
    public void body(ByteBuf b) {
        if (body != null && body != b) {
            body.release();
        }
        body = b;
    }

    /** Hands the body over to the caller, who then owns it. */
    public ByteBuf takeBody() {
        ByteBuf b = body;
        body = null;
        return b;
    }

    @Override
    public long[] prefixBlocks() {
        return prefixBlocks;
    }

    /** Set by the filter that hashes the prompt's leading blocks, for pools whose policy uses them. */
    public void prefixBlocks(long[] blocks) {
        prefixBlocks = blocks;
    }

    @Override
    public String sessionKey() {
        return sessionKey;
    }

    /** Set by the filter that reads the session header or the body's {@code user}, for pools whose policy uses it. */
    public void sessionKey(String key) {
        sessionKey = key;
    }

    /** What the balance policy said about its latest choice for this request, or null. */
    @Override
    public void explain(String reason) {
        routeReason = reason;
    }

    public String routeReason() {
        return routeReason;
    }

    /** The id of the API key the request authenticated with, or null. */
    public String apiKeyId() {
        return apiKeyId;
    }

    public void apiKeyId(String id) {
        apiKeyId = id;
        exchange.apiKeyId = id;
    }

    /** True once the response head said {@code text/event-stream} (SSE): set by the exchange handler, read by all. */
    public boolean eventStream() {
        return eventStream;
    }

    public void eventStream(boolean sse) {
        eventStream = sse;
    }

    /** What translates the upstream response for the client, or null to forward it as it is. */
    public ResponseRelay relay() {
        return relay;
    }

    public void relay(ResponseRelay r) {
        relay = r;
    }

    /** Where to go when an attempt fails before the client got anything, or null. */
    public Fallback fallback() {
        return fallback;
    }

    public void fallback(Fallback f) {
        fallback = f;
    }

    /** Close the connection after this response (the byte stream can no longer be trusted). */
    public void closeConnection() {
        closeConnection = true;
    }

    public boolean closesConnection() {
        return closeConnection;
    }

    @SuppressWarnings("unchecked")
    public <T> T get(StateKey<T> key) {
        Object[] s = state;
        return s == null || key.index >= s.length ? null : (T) s[key.index];
    }

    public <T> void set(StateKey<T> key, T value) {
        if (state == null || key.index >= state.length) {
            Object[] grown = new Object[Math.max(StateKey.count(), key.index + 1)];
            if (state != null) {
                System.arraycopy(state, 0, grown, 0, state.length);
            }
            state = grown;
        }
        state[key.index] = value;
    }

    /** Sends a response part towards the client, through the response phases. */
    public void write(HttpObject msg) {
        responder.write(this, msg, channel.voidPromise());
    }

    public void write(HttpObject msg, ChannelPromise promise) {
        responder.write(this, msg, promise);
    }

    /**
     * Sends a file's bytes without copying them ({@link io.netty.channel.FileRegion}, owned from here on), between
     * a response head without its end and the {@code LastHttpContent} that ends it. Only on plain HTTP/1.1
     * connections: TLS and HTTP/2 streams need the bytes in buffers. The response content phase does not see it.
     */
    public void write(io.netty.channel.FileRegion region, ChannelPromise promise) {
        responder.write(this, region, promise);
    }

    /**
     * Asks to send the body of the response head written next as the upstream framed it (HTTP/1.1
     * chunks or a counted length): that head, then the body's bytes through {@link #writeRaw}, then a
     * {@code LastHttpContent} that ends the exchange. True if this request stream and the filters allow it
     * (plain HTTP/1.1 on both sides, no response content filter wants this response); the head must be the
     * next thing written. The response content phase does not see the bytes.
     */
    public boolean passThroughBody() {
        return responder.passThroughBody(this);
    }

    /** Bytes of a pass-through body (owned from here on): see {@link #passThroughBody}. */
    public void writeRaw(ByteBuf bytes) {
        responder.write(this, bytes, channel.voidPromise());
    }

    public void flush() {
        responder.flush();
    }

    public void writeAndFlush(HttpObject msg) {
        write(msg);
        flush();
    }

    /**
     * Takes the connection out of HTTP after the 101 written through {@link #write}: the HTTP codec and
     * Sluice's HTTP handlers leave the pipeline, {@code handler} goes last and from then on reads the
     * raw bytes, beginning with any the decoder had buffered after the request head. No further request
     * is parsed. The exchange stays open (status 101) until the returned action runs, once, when the
     * new protocol ends; it then reaches the filters' end phase and the observers.
     */
    public Runnable detach(io.netty.channel.ChannelHandler handler) {
        return responder.detach(this, handler);
    }

    /**
     * For a filter whose {@code onResponseContent} returns false: {@code event} (owned from here on)
     * is sent after the current part, as the last bytes of the response.
     */
    public void stopResponseWith(ByteBuf event) {
        if (stopEvent != null) {
            stopEvent.release();
        }
        stopEvent = event;
    }

    public ByteBuf takeStopEvent() {
        ByteBuf e = stopEvent;
        stopEvent = null;
        return e;
    }

    /** Releases what the context still owns. */
    void release() {
        if (body != null) {
            body.release();
            body = null;
        }
        if (stopEvent != null) {
            stopEvent.release();
            stopEvent = null;
        }
    }
}
