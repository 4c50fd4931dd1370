package io.sluice.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
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
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.sluice.core.net.Transport;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The load generator: Netty event loops, keep-alive connections, one request in flight per
 * connection. With a target rate it is open-loop: each request has an intended send time, and its
 * latency is counted from then, so a stall delays the schedule and is charged to the server instead of
 * being hidden (coordinated omission). With rate 0 it is closed-loop, for the maximum throughput.
 */
public final class LoadClient implements AutoCloseable {
    private final EventLoopGroup group;
    private final Transport transport;

    public LoadClient(int threads) {
        transport = Transport.select("auto");
        group = transport.newGroup(threads, "load");
    }

    /** What one run measured. */
    public record Result(long requests, long errors, double seconds, Histogram latencyMicros) {
        public double throughput() {
            return requests / seconds;
        }
    }

    public Result run(int port, String path, int connections, double seconds, double ratePerSecond) throws Exception {
        return run(new int[] {port}, path, connections, seconds, ratePerSecond);
    }

    /**
     * GETs {@code path} over {@code connections} connections spread round-robin over {@code ports}, for
     * {@code seconds}; {@code ratePerSecond} 0 means as fast as the servers answer.
     */
    public Result run(int[] ports, String path, int connections, double seconds, double ratePerSecond) throws Exception {
        Recorder recorder = new Recorder(3);
        AtomicLong ok = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long intervalNanos = ratePerSecond > 0 ? (long) (connections * 1e9 / ratePerSecond) : 0;
        CountDownLatch done = new CountDownLatch(connections);
        List<Channel> channels = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            long firstAt = start + (intervalNanos > 0 ? intervalNanos * i / connections : 0);
            int port = ports[i % ports.length];
            Conn conn = new Conn(path, port, end, intervalNanos, firstAt, recorder, ok, errors, done);
            Channel ch = new Bootstrap().group(group).channel(transport.clientChannel())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(new HttpClientCodec(), conn);
                        }
                    })
                    .connect("127.0.0.1", port).sync().channel();
            channels.add(ch);
        }
        if (!done.await((long) seconds + 60, TimeUnit.SECONDS)) {
            errors.addAndGet(done.getCount());
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        for (Channel ch : channels) {
            ch.close();
        }
        return new Result(ok.get(), errors.get(), elapsed, recorder.getIntervalHistogram());
    }

    private static final class Conn extends SimpleChannelInboundHandler<HttpObject> {
        private final String path;
        private final String host;
        private final long end;
        private final long interval;
        private final Recorder recorder;
        private final AtomicLong ok;
        private final AtomicLong errors;
        private final CountDownLatch done;
        private long intended;
        private long sentAt;
        private boolean finished;

        Conn(String path, int port, long end, long interval, long firstAt, Recorder recorder, AtomicLong ok,
             AtomicLong errors, CountDownLatch done) {
            this.path = path;
            this.host = "127.0.0.1:" + port;
            this.end = end;
            this.interval = interval;
            this.intended = firstAt;
            this.recorder = recorder;
            this.ok = ok;
            this.errors = errors;
            this.done = done;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            schedule(ctx);
        }

        private void schedule(ChannelHandlerContext ctx) {
            long now = System.nanoTime();
            if (now >= end) {
                finish();
                return;
            }
            long wait = intended - now;
            if (interval > 0 && wait > 0) {
                ctx.executor().schedule(() -> send(ctx), wait, TimeUnit.NANOSECONDS);
            } else {
                send(ctx);
            }
        }

        private void send(ChannelHandlerContext ctx) {
            sentAt = System.nanoTime();
            if (interval == 0) {
                intended = sentAt;
            }
            DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
            req.headers().set(HttpHeaderNames.HOST, host);
            ctx.writeAndFlush(req);
        }

        private int status;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse) {
                status = ((HttpResponse) msg).status().code();
            }
            if (msg instanceof LastHttpContent) {
                long now = System.nanoTime();
                if (status == 200) {
                    ok.incrementAndGet();
                    recorder.recordValue(Math.max(1, (now - intended) / 1000));
                } else {
                    errors.incrementAndGet();
                }
                intended += interval;
                schedule(ctx);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!finished) {
                errors.incrementAndGet();
                finish();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        private void finish() {
            if (!finished) {
                finished = true;
                done.countDown();
            }
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }


}
