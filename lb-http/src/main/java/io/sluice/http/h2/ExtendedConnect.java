package io.sluice.http.h2;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.AsciiString;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.sluice.core.http.GatewayErrors;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * WebSockets over HTTP/2 (RFC 8441) on one stream. It sits in front of the frame-to-HttpObject
 * conversion and turns an extended CONNECT with {@code :protocol websocket} into the HTTP/1.1 upgrade
 * it stands for (GET, a {@code Sec-WebSocket-Key} of its own, and {@code Upgrade}/{@code Connection}
 * from {@link StreamRequestCleaner}), so
 * routing, access checks, the proxy's handshake with an HTTP/1.1 backend and the built-in services
 * need no HTTP/2 case. The exchange's {@code 101} leaves as the {@code 200} RFC 8441 answers with.
 * After the exchange detaches ({@link #tunnel}), this handler frames the WebSocket's bytes: DATA
 * frames in become buffers, buffers out become DATA frames, and the stream's own flow control is the
 * backpressure (the tunnel turns the stream's autoRead off, so no window update goes out).
 */
public final class ExtendedConnect extends ChannelDuplexHandler {
    static final String NAME = "h2-connect";
    static final String ANSWER = "h2-ws-answer";
    private static final AttributeKey<ExtendedConnect> KEY = AttributeKey.valueOf("sluice.h2.websocket");
    private static final AsciiString PROTOCOL = AsciiString.cached(":protocol");
    /** DATA a client sends before the handshake's answer is held up to this much; more resets the stream. */
    private static final int MAX_EARLY_BYTES = 64 * 1024;
    /**
     * After one side ended the stream (END_STREAM, RFC 8441's TCP FIN), how long the other has to end
     * its own before the stream is reset. A stream closed before both sides ended it is reset
     * (RST_STREAM, a TCP reset): Chromium 156 ends its side with its close frame, and the stream used to
     * be closed there, before the backend's answering close frame, so the page saw 1006, not its code.
     */
    static final long END_GRACE_MILLIS = 2000;
    /** Headers of the HTTP/1.1 101 that do not exist in HTTP/2, or that RFC 8441 leaves out. */
    private static final Set<AsciiString> NOT_IN_ANSWER = Set.of(HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE,
            HttpHeaderNames.SEC_WEBSOCKET_ACCEPT, HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.TRANSFER_ENCODING,
            HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.TE);

    private enum State { HEAD, HANDSHAKE, TUNNEL }

    private State state = State.HEAD;
    private ChannelHandlerContext ctx;
    private ArrayDeque<Http2DataFrame> early;
    private int earlyBytes;
    private boolean endSent;
    private boolean remoteEnded;           // the client's END_STREAM was read
    private ChannelPromise closeWhenEnded;  // a close waiting for it

    /** Adds the handler in front of a new stream's conversion codec (named {@code h2-http}). */
    static void install(io.netty.channel.ChannelPipeline p) {
        p.addFirst(NAME, new ExtendedConnect());
    }

    /** Whether {@code ch} is an HTTP/2 stream whose request is a WebSocket's extended CONNECT. */
    public static boolean isWebSocket(Channel ch) {
        return ch.hasAttr(KEY) && ch.attr(KEY).get() != null;
    }

    /**
     * The stream leaves HTTP: the conversion handlers go, and the WebSocket's bytes flow as buffers to
     * and from the handlers behind this one, starting with any DATA that arrived early.
     */
    public static void tunnel(Channel ch) {
        ExtendedConnect c = ch.attr(KEY).get();
        io.netty.channel.ChannelPipeline p = ch.pipeline();
        for (String name : new String[] {ANSWER, "h2-clean", "h2-http"}) {
            if (p.get(name) != null) {
                p.remove(name);
            }
        }
        c.state = State.TUNNEL;
        ArrayDeque<Http2DataFrame> held = c.early;
        c.early = null;
        if (held != null) {
            Http2DataFrame d;
            while ((d = held.poll()) != null) {
                c.data(d);
            }
            c.ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (state) {
            case HEAD -> head(ctx, msg);
            case HANDSHAKE -> hold(ctx, msg);
            default -> {
                if (msg instanceof Http2DataFrame d) {
                    data(d);
                } else {
                    ReferenceCountUtil.release(msg); // trailers or other frames mean nothing inside a tunnel
                }
            }
        }
    }

    private void head(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Http2HeadersFrame hf) || hf.headers().get(PROTOCOL) == null) {
            ctx.pipeline().remove(this); // an ordinary request: this stream never needs the handler
            ctx.fireChannelRead(msg);
            return;
        }
        Http2Headers h = hf.headers();
        if (!HttpMethod.CONNECT.asciiName().contentEquals(h.method())) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, ":protocol is only allowed on a CONNECT request");
            return;
        }
        if (!AsciiString.contentEqualsIgnoreCase(h.get(PROTOCOL), HttpHeaderValues.WEBSOCKET)) {
            refuse(ctx, HttpResponseStatus.NOT_IMPLEMENTED, "extended CONNECT supports only :protocol websocket");
            return;
        }
        if (h.path() == null || h.scheme() == null || h.authority() == null) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "an extended CONNECT needs :scheme, :path and :authority");
            return;
        }
        if (hf.isEndStream()) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "an extended CONNECT leaves its stream open");
            return;
        }
        Http2Headers upgrade = new DefaultHttp2Headers(false);
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            if (!PROTOCOL.contentEqualsIgnoreCase(e.getKey())
                    && !HttpHeaderNames.SEC_WEBSOCKET_KEY.contentEqualsIgnoreCase(e.getKey())) {
                upgrade.add(e.getKey(), e.getValue());
            }
        }
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce); // a nonce for the HTTP/1.1 hop's handshake, not a secret
        // Upgrade and Connection are set after the conversion, which drops connection headers (StreamRequestCleaner).
        upgrade.method(HttpMethod.GET.asciiName())
                .set(HttpHeaderNames.SEC_WEBSOCKET_KEY, Base64.getEncoder().encodeToString(nonce));
        state = State.HANDSHAKE;
        ctx.channel().attr(KEY).set(this);
        ctx.pipeline().addAfter("h2-http", ANSWER, new Answer());
        // Complete for the request chain (a GET has no body); the WebSocket's bytes come after the answer.
        ctx.fireChannelRead(new DefaultHttp2HeadersFrame(upgrade, true).stream(hf.stream()));
    }

    private void hold(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Http2DataFrame d)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        earlyBytes += d.content().readableBytes();
        if (earlyBytes > MAX_EARLY_BYTES) {
            d.release();
            ctx.close(); // a reset: the client did not wait for the answer
            return;
        }
        if (early == null) {
            early = new ArrayDeque<>(2);
        }
        early.add(d);
    }

    private void data(Http2DataFrame d) {
        boolean end = d.isEndStream();
        ByteBuf b = d.content();
        if (b.isReadable()) {
            ctx.fireChannelRead(b); // the frame's buffer, owned from here by the tunnel
        } else {
            d.release();
        }
        if (end) {
            remoteEnded = true;
            ChannelPromise waiting = closeWhenEnded;
            closeWhenEnded = null;
            if (waiting != null) {
                ctx.close(waiting); // both sides ended: closed without a reset
                return;
            }
            ctx.fireChannelReadComplete(); // on to the backend
            // The client ended its side, RFC 8441's TCP FIN (Chromium sends it with its close frame). The backend
            // still answers, normally with its close frame and a close, which closes the tunnel and ends our side
            // without a reset; a backend that does not is cut off after the grace.
            ctx.executor().schedule(() -> {
                if (ctx.channel().isActive()) {
                    ctx.channel().close();
                }
            }, END_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseEarly();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseEarly();
    }

    private void releaseEarly() {
        ArrayDeque<Http2DataFrame> held = early;
        early = null;
        if (held != null) {
            held.forEach(ReferenceCountUtil::release);
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (state != State.TUNNEL) {
            ctx.write(msg, promise);
            return;
        }
        if (msg instanceof ByteBuf b) {
            if (b.isReadable()) {
                ctx.write(new DefaultHttp2DataFrame(b, false), promise);
            } else {
                // The tunnel's last write before it closes: the end of our side of the stream.
                b.release();
                end(ctx, promise);
            }
        } else if (msg instanceof HttpObject) {
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new IllegalStateException("the stream carries a WebSocket"));
        } else {
            ctx.write(msg, promise);
        }
    }

    /**
     * The tunnel closes: our side ends (END_STREAM, the TCP FIN of RFC 8441), and the stream closes
     * once the client has ended its side too, or after {@link #END_GRACE_MILLIS} with a reset.
     */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (state != State.TUNNEL || !ctx.channel().isActive()) {
            ctx.close(promise);
            return;
        }
        if (!endSent) {
            end(ctx, ctx.voidPromise());
            ctx.flush();
        }
        if (remoteEnded || closeWhenEnded != null) {
            ctx.close(promise);
            return;
        }
        closeWhenEnded = promise;
        ctx.channel().config().setAutoRead(true); // the tunnel stopped reading; its END_STREAM must be read (the tunnel drops data now)
        ctx.read();
        ctx.executor().schedule(() -> {
            ChannelPromise waiting = closeWhenEnded;
            closeWhenEnded = null;
            if (waiting != null) {
                ctx.close(waiting);
            }
        }, END_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void end(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (endSent) {
            promise.trySuccess();
            return;
        }
        endSent = true;
        ctx.write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true), promise);
    }

    /** Answers the stream with one of Sluice's own errors (status, JSON body, {@code x-sluice-error}). */
    private static void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
        io.netty.handler.codec.http.FullHttpResponse r = GatewayErrors.response(ctx.alloc(), status,
                status.code() == 501 ? "not_implemented" : "bad_request", message);
        Http2Headers h = new DefaultHttp2Headers().status(status.codeAsText());
        for (Map.Entry<String, String> e : r.headers()) {
            h.add(AsciiString.of(e.getKey()).toLowerCase(), e.getValue());
        }
        ctx.write(new DefaultHttp2HeadersFrame(h, false));
        ctx.writeAndFlush(new DefaultHttp2DataFrame(r.content(), true));
    }

    /** Behind the conversion codec: the exchange's 101 becomes RFC 8441's 200, with the handshake's other headers. */
    private static final class Answer extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (!(msg instanceof HttpResponse resp) || resp.status().code() != HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
                ctx.write(msg, promise);
                return;
            }
            Http2Headers h = new DefaultHttp2Headers().status(HttpResponseStatus.OK.codeAsText());
            for (Map.Entry<String, String> e : resp.headers()) {
                AsciiString name = AsciiString.of(e.getKey()).toLowerCase();
                if (!NOT_IN_ANSWER.contains(name)) {
                    h.add(name, e.getValue());
                }
            }
            ReferenceCountUtil.release(msg);
            ctx.write(new DefaultHttp2HeadersFrame(h, false), promise);
        }
    }
}
