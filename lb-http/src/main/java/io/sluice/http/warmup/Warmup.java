package io.sluice.http.warmup;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Synthetic traffic for private listeners before the real ones open. A JVM starts cold: measured on
 * two cores, the first seconds of traffic after a start cost twice the CPU of later ones and the first
 * thousand streams waited ~250 ms for their first token, while C2 compiled on the cores the requests
 * needed. Over TLS a cold gateway spent 1.2 ms per new connection where a warm one spent 0.45, and
 * HTTP/2 took some 20 s of load to fall from 0.5 ms to 0.08 ms per stream. Driving the same paths
 * first (accept, both HTTP codecs, TLS handshakes, HTTP/2 streams, routing, the upstream pool, SSE
 * forwarding, connection churn) moves that cost before the process takes traffic. The private listeners
 * accept through the accept thread, not per event loop as native listeners do; the classes compiled
 * are the same.
 *
 * <p>The mix is what an OpenAI client sends: model listing, chat completions with and without
 * streaming. Plain connections make a few requests each and close, so the accept and connect paths
 * warm up too; TLS connections make fewer, so most of their cost is the handshake; HTTP/2 connections
 * keep several streams in flight.
 */
public final class Warmup {
    public static final int CONNECTIONS = 32;
    /** An adaptive warm-up runs at least this long, so that the JIT has had traffic to compile. */
    static final Duration MIN_ADAPTIVE = Duration.ofSeconds(5);
    static final long SETTLE_WINDOW_MILLIS = 1_000;
    static final int REQUESTS_PER_CONNECTION = 12;
    static final int REQUESTS_PER_TLS_CONNECTION = 2;
    static final int STREAMS_IN_FLIGHT = 8;
    static final int STREAMS_PER_CONNECTION = 64;
    private static final byte[] CHAT = ("{\"model\":\"warmup\",\"messages\":[{\"role\":\"user\",\"content\":\"warm up\"}],"
            + "\"max_tokens\":8}").getBytes(StandardCharsets.UTF_8);
    private static final byte[] STREAM = ("{\"model\":\"warmup\",\"messages\":[{\"role\":\"user\",\"content\":\"warm up\"}],"
            + "\"max_tokens\":16,\"stream\":true}").getBytes(StandardCharsets.UTF_8);
    private static final io.netty.buffer.ByteBuf DONE = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer("data: [DONE]".getBytes(StandardCharsets.US_ASCII)));

    /**
     * A TLS listener to warm up as well: its address and two client contexts trusting its certificate,
     * one offering only {@code http/1.1} over ALPN and one only {@code h2}.
     */
    public record TlsTarget(InetSocketAddress address, SslContext http1, SslContext http2) {
    }

    /**
     * What the warm-up did: answered requests (of which SSE streams, and of which over HTTP/2), failures,
     * connections opened, and of those the ones over TLS; whether an adaptive one ended because the JIT
     * had settled (rather than at its cap).
     */
    public record Result(long requests, long streams, long http2Streams, long failures, long connections,
                         long tlsConnections, boolean settled) {
    }

    private enum Kind { PLAIN, TLS_HTTP1, HTTP2 }

    private Warmup() {
    }

    /** {@link #drive(EventLoopGroup, Class, InetSocketAddress, TlsTarget, Duration)} without TLS. */
    public static Result drive(EventLoopGroup group, Class<? extends Channel> channelClass, InetSocketAddress target,
                               Duration duration) throws InterruptedException {
        return drive(group, channelClass, target, null, duration);
    }

    /**
     * Sends requests over {@link #CONNECTIONS} concurrent connections for {@code duration}, then lets the
     * requests in flight finish (bounded). With a {@code tls} target, half the connections go to it: a
     * quarter as HTTP/1.1 with a new handshake every {@value #REQUESTS_PER_TLS_CONNECTION} requests, a
     * quarter as HTTP/2 with {@value #STREAMS_IN_FLIGHT} streams in flight. A connection still open after
     * that is closed by the caller with the listener's accepted channels.
     */
    public static Result drive(EventLoopGroup group, Class<? extends Channel> channelClass, InetSocketAddress plain,
                               TlsTarget tls, Duration duration) throws InterruptedException {
        return drive(group, channelClass, plain, tls, duration, null);
    }

    /**
     * As above; with {@code settling}, {@code duration} is only the cap: after {@link #MIN_ADAPTIVE} the
     * warm-up ends as soon as the JIT has settled.
     */
    public static Result drive(EventLoopGroup group, Class<? extends Channel> channelClass, InetSocketAddress plain,
                               TlsTarget tls, Duration duration, JitSettling settling) throws InterruptedException {
        long start = System.nanoTime();
        Run run = new Run(group, channelClass, plain, tls, start + duration.toNanos());
        for (int i = 0; i < CONNECTIONS; i++) {
            run.connect(i);
        }
        boolean settled = false;
        if (settling != null) {
            while (!run.over() && !run.finished.await(SETTLE_WINDOW_MILLIS, TimeUnit.MILLISECONDS)) {
                if (settling.settledAfter(SETTLE_WINDOW_MILLIS) && System.nanoTime() - start >= MIN_ADAPTIVE.toNanos()) {
                    settled = true;
                    run.end();
                    break;
                }
            }
        }
        // Each connection stops at the deadline after its current request; the slack covers a stalled one.
        if (!run.finished.await(duration.toMillis() + 10_000, TimeUnit.MILLISECONDS)) {
            run.failures.addAndGet(run.open.get());
        }
        return new Result(run.requests.get(), run.streams.get(), run.http2Streams.get(), run.failures.get(),
                run.connections.get(), run.tlsConnections.get(), settled);
    }

    private static final class Run {
        final EventLoopGroup group;
        final Class<? extends Channel> channelClass;
        final InetSocketAddress plain;
        final TlsTarget tls;
        final long deadline;
        volatile boolean ended;
        final AtomicLong requests = new AtomicLong();
        final AtomicLong streams = new AtomicLong();
        final AtomicLong http2Streams = new AtomicLong();
        final AtomicLong failures = new AtomicLong();
        final AtomicLong connections = new AtomicLong();
        final AtomicLong tlsConnections = new AtomicLong();
        final AtomicInteger open = new AtomicInteger(CONNECTIONS); // connection slots still running
        final CountDownLatch finished = new CountDownLatch(1);

        Run(EventLoopGroup group, Class<? extends Channel> channelClass, InetSocketAddress plain, TlsTarget tls,
            long deadline) {
            this.group = group;
            this.channelClass = channelClass;
            this.plain = plain;
            this.tls = tls;
            this.deadline = deadline;
        }

        boolean over() {
            return ended || System.nanoTime() - deadline >= 0;
        }

        /** Ends the run before its deadline: each connection stops after its current request. */
        void end() {
            ended = true;
        }

        Kind kind(int slot) {
            if (tls == null || slot % 2 == 0) {
                return Kind.PLAIN;
            }
            return slot % 4 == 1 ? Kind.TLS_HTTP1 : Kind.HTTP2;
        }

        /** Opens a connection for slot {@code slot}; when it closes, the slot reconnects or retires. */
        void connect(int slot) {
            Kind kind = kind(slot);
            InetSocketAddress target = kind == Kind.PLAIN ? plain : tls.address();
            connections.incrementAndGet();
            if (kind != Kind.PLAIN) {
                tlsConnections.incrementAndGet();
            }
            new Bootstrap().group(group).channel(channelClass)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ChannelPipeline p = ch.pipeline();
                            p.addLast(new Closed(Run.this, slot));
                            switch (kind) {
                                case PLAIN -> p.addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                                        new Client(Run.this, target, REQUESTS_PER_CONNECTION));
                                case TLS_HTTP1 -> p.addLast(tls.http1().newHandler(ch.alloc(), target.getHostString(),
                                        target.getPort()), new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                                        new Client(Run.this, target, REQUESTS_PER_TLS_CONNECTION));
                                case HTTP2 -> p.addLast(tls.http2().newHandler(ch.alloc(), target.getHostString(),
                                        target.getPort()), new Http2Start(Run.this, target));
                            }
                        }
                    })
                    .connect(target)
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            failures.incrementAndGet();
                            retire(); // a listener that cannot be reached will not become reachable by retrying
                        }
                    });
        }

        void closed(int slot) {
            if (!over() && failures.get() < 100) {
                connect(slot);
            } else {
                retire();
            }
        }

        void retire() {
            if (open.decrementAndGet() == 0) {
                finished.countDown();
            }
        }

        /** One of the mix's requests, the {@code n}th on its connection. */
        FullHttpRequest request(ChannelHandlerContext ctx, InetSocketAddress target, int n) {
            int kind = n % 3;
            FullHttpRequest req;
            if (kind == 0) {
                req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v1/models", Unpooled.EMPTY_BUFFER);
            } else {
                byte[] body = kind == 1 ? CHAT : STREAM;
                req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions",
                        ctx.alloc().buffer(body.length).writeBytes(body));
                req.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            }
            req.headers().set(HttpHeaderNames.HOST, target.getHostString() + ":" + target.getPort());
            return req;
        }

        /** Counts an answer; false when it was not a 200. */
        boolean answered(FullHttpResponse resp) {
            if (resp.status().code() != 200) {
                failures.incrementAndGet();
                return false;
            }
            requests.incrementAndGet();
            if (ByteBufUtil.indexOf(DONE, resp.content()) >= 0) {
                streams.incrementAndGet();
            }
            return true;
        }
    }

    /** First in every connection's pipeline: reports its end to the run once, whatever came after it. */
    private static final class Closed extends ChannelInboundHandlerAdapter {
        private final Run run;
        private final int slot;

        Closed(Run run, int slot) {
            this.run = run;
            this.slot = slot;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            run.closed(slot);
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            run.failures.incrementAndGet();
            ctx.close();
        }
    }

    /** HTTP/1.1, plain or over TLS: one request at a time, {@code perConnection} of them, then close. */
    private static final class Client extends SimpleChannelInboundHandler<FullHttpResponse> {
        private final Run run;
        private final InetSocketAddress target;
        private final int perConnection;
        private int sent;

        Client(Run run, InetSocketAddress target, int perConnection) {
            this.run = run;
            this.target = target;
            this.perConnection = perConnection;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            send(ctx); // over TLS the SslHandler holds it until the handshake is done
            ctx.fireChannelActive();
        }

        private void send(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(run.request(ctx, target, sent++));
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse resp) {
            if (!run.answered(resp) || sent >= perConnection || run.over()) {
                ctx.close();
            } else {
                send(ctx);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            run.failures.incrementAndGet();
            ctx.close();
        }
    }

    /** After the handshake chose {@code h2}: the HTTP/2 codec, then streams as child channels. */
    private static final class Http2Start extends ApplicationProtocolNegotiationHandler {
        private final Run run;
        private final InetSocketAddress target;

        Http2Start(Run run, InetSocketAddress target) {
            super(ApplicationProtocolNames.HTTP_1_1);
            this.run = run;
            this.target = target;
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            run.failures.incrementAndGet();
            ctx.close();
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            if (!ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                run.failures.incrementAndGet(); // the private listener always offers h2
                ctx.close();
                return;
            }
            Streams streams = new Streams(run, target, ctx.channel());
            ctx.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                    new Http2MultiplexHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext c, Object msg) {
                            ReferenceCountUtil.release(msg); // no pushes are asked for
                        }
                    }),
                    new ChannelInboundHandlerAdapter() {
                        @Override
                        public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
                            run.failures.incrementAndGet();
                            c.close();
                        }
                    });
            streams.start();
        }
    }

    /**
     * One HTTP/2 connection's streams: {@value #STREAMS_IN_FLIGHT} at a time, each answered one
     * replaced by the next, until {@value #STREAMS_PER_CONNECTION} or the deadline; then the connection
     * closes. Everything runs on the connection's event loop.
     */
    private static final class Streams {
        private final Run run;
        private final InetSocketAddress target;
        private final Channel connection;
        private int opened;
        private int active;

        Streams(Run run, InetSocketAddress target, Channel connection) {
            this.run = run;
            this.target = target;
            this.connection = connection;
        }

        void start() {
            for (int i = 0; i < STREAMS_IN_FLIGHT; i++) {
                open();
            }
        }

        private void open() {
            int n = opened++;
            active++;
            new Http2StreamChannelBootstrap(connection).handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), new HttpObjectAggregator(1 << 20),
                            new SimpleChannelInboundHandler<FullHttpResponse>() {
                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    ctx.writeAndFlush(run.request(ctx, target, n));
                                    ctx.fireChannelActive();
                                }

                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse resp) {
                                    if (run.answered(resp)) {
                                        run.http2Streams.incrementAndGet();
                                    }
                                    ctx.close();
                                }

                                @Override
                                public void channelInactive(ChannelHandlerContext ctx) {
                                    ended();
                                }

                                @Override
                                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                    run.failures.incrementAndGet();
                                    ctx.close();
                                }
                            });
                }
            }).open().addListener(f -> {
                if (!f.isSuccess()) {
                    run.failures.incrementAndGet();
                    connection.close();
                }
            });
        }

        private void ended() {
            active--;
            if (!connection.isActive()) {
                return;
            }
            if (opened < STREAMS_PER_CONNECTION && !run.over()) {
                open();
            } else if (active == 0) {
                connection.close();
            }
        }
    }
}
