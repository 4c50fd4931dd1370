package io.sluice.bench.routing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.sluice.core.net.Transport;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * A closed loop of streaming chat completions over real sockets: each virtual user sends a request,
 * reads the whole SSE stream and sends its next one, until the phase's time or request budget runs
 * out. One connection per request, as {@code SseClient} does, so that a connection's first request
 * never queues behind another. TTFT is what the client sees: from starting to connect to the first
 * body bytes of a 200 (vLLM's first event, the role delta, leaves after the prefill).
 */
final class ClosedLoop implements AutoCloseable {
    private final EventLoopGroup group;
    private final Transport transport = Transport.select("auto");

    ClosedLoop(int threads) {
        group = transport.newGroup(threads, "routing-load");
    }

    /** One request's TTFT, stamped with when its first token arrived (ms since the phase began). */
    record Sample(double atMillis, double ttftMillis) {
    }

    record Result(Histogram ttftMicros, ConcurrentLinkedQueue<Sample> samples, long completed, long errors,
                  Map<String, AtomicLong> errorKinds, double seconds) {
    }

    /** Runs {@code users} users against {@code port} for at most {@code seconds} or {@code maxRequests} requests. */
    Result run(Workload workload, int port, int users, double seconds, long maxRequests) throws InterruptedException {
        Phase phase = new Phase(workload, port, users, seconds, maxRequests);
        for (int u = 0; u < users; u++) {
            phase.send(u);
        }
        // Streams started before the deadline are allowed to finish, within a grace period.
        boolean drained = phase.done.await((long) (seconds * 1000) + 30_000, TimeUnit.MILLISECONDS);
        double elapsed = (System.nanoTime() - phase.start) / 1e9;
        if (!drained) {
            phase.errors.addAndGet(phase.done.getCount());
            phase.kinds.computeIfAbsent("unfinished", k -> new AtomicLong()).addAndGet(phase.done.getCount());
        }
        return new Result(phase.ttft, phase.samples, phase.completed.get(), phase.errors.get(), phase.kinds,
                Math.min(elapsed, seconds + 30));
    }

    private final class Phase {
        final Workload workload;
        final int port;
        final long start = System.nanoTime();
        final long deadline;
        final long maxRequests;
        final AtomicLong issued = new AtomicLong();
        final AtomicLong completed = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final Map<String, AtomicLong> kinds = new ConcurrentHashMap<>();
        final Histogram ttft = new ConcurrentHistogram(3_600_000_000L, 3);
        final ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
        final CountDownLatch done;

        Phase(Workload workload, int port, int users, double seconds, long maxRequests) {
            this.workload = workload;
            this.port = port;
            this.deadline = start + (long) (seconds * 1e9);
            this.maxRequests = maxRequests;
            this.done = new CountDownLatch(users);
        }

        /** Starts user {@code u}'s next request, or retires the user when the budget is spent. */
        void send(int u) {
            if (System.nanoTime() >= deadline || issued.incrementAndGet() > maxRequests) {
                done.countDown();
                return;
            }
            byte[] body = workload.next(u);
            Exchange x = new Exchange(this, u, body);
            new Bootstrap().group(group).channel(transport.clientChannel())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(new HttpClientCodec(), x);
                        }
                    })
                    .connect("127.0.0.1", port)
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            x.fail("connect");
                        }
                    });
        }

        void finished(int u, boolean ok, String kind) {
            if (ok) {
                completed.incrementAndGet();
            } else {
                errors.incrementAndGet();
                kinds.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
            }
            send(u);
        }
    }

    private static final class Exchange extends SimpleChannelInboundHandler<HttpObject> {
        private final Phase phase;
        private final int user;
        private final byte[] body;
        private final long began = System.nanoTime();
        private boolean ok;
        private boolean firstSeen;
        private boolean over;

        Exchange(Phase phase, int user, byte[] body) {
            this.phase = phase;
            this.user = user;
            this.body = body;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                    "/v1/chat/completions", ctx.alloc().buffer(body.length).writeBytes(body));
            req.headers().set(HttpHeaderNames.HOST, "127.0.0.1:" + phase.port)
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .set(HttpHeaderNames.ACCEPT, "text/event-stream")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            ctx.writeAndFlush(req);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse r) {
                ok = r.status().code() == 200;
                if (!ok) {
                    fail("status_" + r.status().code());
                    ctx.close();
                    return;
                }
            }
            if (msg instanceof HttpContent c && ok && !firstSeen && c.content().isReadable()) {
                firstSeen = true;
                long now = System.nanoTime();
                long micros = Math.max(1, (now - began) / 1000);
                phase.ttft.recordValue(micros);
                phase.samples.add(new Sample((now - phase.start) / 1e6, micros / 1000.0));
            }
            if (msg instanceof LastHttpContent && ok) {
                end(firstSeen, "no_body");
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail("early_close");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail("exception");
            ctx.close();
        }

        void fail(String kind) {
            end(false, kind);
        }

        private void end(boolean success, String kind) {
            if (!over) {
                over = true;
                phase.finished(user, success, kind);
            }
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
