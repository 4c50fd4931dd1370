package io.sluice.http.warmup;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
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
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Synthetic traffic for a private listener before the real ones open. A JVM starts cold: measured on
 * two cores, the first seconds of traffic after a start cost twice the CPU of later ones and the first
 * thousand streams waited ~250 ms for their first token, while C2 compiled on the cores the requests
 * needed. Driving the same proxy path first (accept, both HTTP codecs, routing, the upstream pool, SSE
 * forwarding, connection churn) moves that cost before the process takes traffic. The private listener
 * accepts through the accept thread, not per event loop as native listeners do; the classes compiled
 * are the same.
 *
 * <p>The mix is what an OpenAI client sends: model listing, chat completions with and without
 * streaming. Every connection makes a few requests and closes, so the accept and connect paths warm up
 * too.
 */
public final class Warmup {
    public static final int CONNECTIONS = 32;
    static final int REQUESTS_PER_CONNECTION = 12;
    private static final byte[] CHAT = ("{\"model\":\"warmup\",\"messages\":[{\"role\":\"user\",\"content\":\"warm up\"}],"
            + "\"max_tokens\":8}").getBytes(StandardCharsets.UTF_8);
    private static final byte[] STREAM = ("{\"model\":\"warmup\",\"messages\":[{\"role\":\"user\",\"content\":\"warm up\"}],"
            + "\"max_tokens\":16,\"stream\":true}").getBytes(StandardCharsets.UTF_8);
    private static final io.netty.buffer.ByteBuf DONE = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer("data: [DONE]".getBytes(StandardCharsets.US_ASCII)));

    /** What the warm-up did: answered requests, of which SSE streams, failures and connections opened. */
    public record Result(long requests, long streams, long failures, long connections) {
    }

    private Warmup() {
    }

    /**
     * Sends requests to {@code target} over {@link #CONNECTIONS} concurrent connections for
     * {@code duration}, then lets the requests in flight finish (bounded). A connection still open
     * after that is closed by the caller with the listener's accepted channels.
     */
    public static Result drive(EventLoopGroup group, Class<? extends Channel> channelClass, InetSocketAddress target,
                               Duration duration) throws InterruptedException {
        Run run = new Run(group, channelClass, target, System.nanoTime() + duration.toNanos());
        for (int i = 0; i < CONNECTIONS; i++) {
            run.connect(i);
        }
        // Each connection stops at the deadline after its current request; the slack covers a stalled one.
        if (!run.finished.await(duration.toMillis() + 10_000, TimeUnit.MILLISECONDS)) {
            run.failures.addAndGet(run.open.get());
        }
        return new Result(run.requests.get(), run.streams.get(), run.failures.get(), run.connections.get());
    }

    private static final class Run {
        final EventLoopGroup group;
        final Class<? extends Channel> channelClass;
        final InetSocketAddress target;
        final long deadline;
        final AtomicLong requests = new AtomicLong();
        final AtomicLong streams = new AtomicLong();
        final AtomicLong failures = new AtomicLong();
        final AtomicLong connections = new AtomicLong();
        final AtomicInteger open = new AtomicInteger(CONNECTIONS); // connection slots still running
        final CountDownLatch finished = new CountDownLatch(1);

        Run(EventLoopGroup group, Class<? extends Channel> channelClass, InetSocketAddress target, long deadline) {
            this.group = group;
            this.channelClass = channelClass;
            this.target = target;
            this.deadline = deadline;
        }

        /** Opens a connection for slot {@code slot}; when it closes, the slot reconnects or retires. */
        void connect(int slot) {
            connections.incrementAndGet();
            new Bootstrap().group(group).channel(channelClass)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20), new Client(Run.this, slot));
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
            if (System.nanoTime() - deadline < 0 && failures.get() < 100) {
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
    }

    private static final class Client extends SimpleChannelInboundHandler<FullHttpResponse> {
        private final Run run;
        private final int slot;
        private int sent;

        Client(Run run, int slot) {
            this.run = run;
            this.slot = slot;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            send(ctx);
        }

        private void send(ChannelHandlerContext ctx) {
            int kind = (slot + sent++) % 3;
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
            req.headers().set(HttpHeaderNames.HOST, run.target.getHostString() + ":" + run.target.getPort());
            ctx.writeAndFlush(req);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse resp) {
            if (resp.status().code() == 200) {
                run.requests.incrementAndGet();
                if (ByteBufUtil.indexOf(DONE, resp.content()) >= 0) {
                    run.streams.incrementAndGet();
                }
            } else {
                run.failures.incrementAndGet();
            }
            if (sent >= REQUESTS_PER_CONNECTION || System.nanoTime() - run.deadline >= 0) {
                ctx.close();
            } else {
                send(ctx);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            run.closed(slot);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            run.failures.incrementAndGet();
            ctx.close();
        }
    }
}
