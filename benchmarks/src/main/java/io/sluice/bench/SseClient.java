package io.sluice.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
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
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * K concurrent SSE streams, one connection each, opened on a bounded ramp; measures what a chat client
 * sees: time to first chunk (from connect), the gap between events, how many gaps are under 1 ms
 * (chunks glued together: the sign of a buffering proxy), events and errors.
 */
public final class SseClient implements AutoCloseable {
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]".getBytes(StandardCharsets.US_ASCII);
    static final java.util.concurrent.ConcurrentHashMap<String, AtomicLong> KINDS = new java.util.concurrent.ConcurrentHashMap<>();
    private final EventLoopGroup group;
    private final Transport transport = Transport.select("auto");

    public SseClient(int threads) {
        group = transport.newGroup(threads, "sse-load");
    }

    public record Result(int streams, long completed, long events, long errors, String errorKinds, long gapsUnder1ms, long gaps,
                         org.HdrHistogram.Histogram ttfcMicros, org.HdrHistogram.Histogram gapMicros, double seconds) {
    }

    public Result run(int[] ports, int streams, int tokens, int openPerSecond, double timeoutSeconds) throws Exception {
        KINDS.clear();
        Recorder ttfc = new Recorder(3);
        Recorder gaps = new Recorder(3);
        AtomicLong completed = new AtomicLong();
        AtomicLong events = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong glued = new AtomicLong();
        AtomicLong gapCount = new AtomicLong();
        CountDownLatch done = new CountDownLatch(streams);
        byte[] body = ("{\"model\":\"demo\",\"messages\":[{\"role\":\"user\",\"content\":\"Say something long.\"}],"
                + "\"stream\":true,\"max_tokens\":" + tokens + "}").getBytes(StandardCharsets.UTF_8);
        long start = System.nanoTime();
        long spacing = (long) (1e9 / Math.max(1, openPerSecond));
        for (int i = 0; i < streams; i++) {
            long due = start + i * spacing;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            int port = ports[i % ports.length];
            Stream s = new Stream(body, port, ttfc, gaps, completed, events, errors, glued, gapCount, done);
            ChannelFuture f = new Bootstrap().group(group).channel(transport.clientChannel())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(new HttpClientCodec(), s);
                        }
                    })
                    .connect("127.0.0.1", port);
            f.addListener(x -> {
                if (!x.isSuccess()) {
                    kind("connect");
                    errors.incrementAndGet();
                    s.finish();
                }
            });
        }
        boolean all = done.await((long) timeoutSeconds, TimeUnit.SECONDS);
        if (!all) {
            errors.addAndGet(done.getCount());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(streams, completed.get(), events.get(), errors.get(), KINDS.toString(), glued.get(), gapCount.get(),
                ttfc.getIntervalHistogram(), gaps.getIntervalHistogram(), seconds);
    }

    private static final class Stream extends SimpleChannelInboundHandler<HttpObject> {
        private final byte[] body;
        private final String host;
        private final Recorder ttfc;
        private final Recorder gaps;
        private final AtomicLong completed;
        private final AtomicLong events;
        private final AtomicLong errors;
        private final AtomicLong glued;
        private final AtomicLong gapCount;
        private final CountDownLatch done;
        private final long connectAt = System.nanoTime();
        private long lastEvent;
        private final byte[] tail = new byte[DONE.length - 1]; // the previous part's last bytes: events may straddle parts
        private int tailLength;
        private boolean sawDone;
        private boolean finished;
        private boolean failed;

        Stream(byte[] body, int port, Recorder ttfc, Recorder gaps, AtomicLong completed, AtomicLong events,
               AtomicLong errors, AtomicLong glued, AtomicLong gapCount, CountDownLatch done) {
            this.body = body;
            this.host = "127.0.0.1:" + port;
            this.ttfc = ttfc;
            this.gaps = gaps;
            this.completed = completed;
            this.events = events;
            this.errors = errors;
            this.glued = glued;
            this.gapCount = gapCount;
            this.done = done;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                    "/v1/chat/completions", ctx.alloc().buffer(body.length).writeBytes(body));
            req.headers().set(HttpHeaderNames.HOST, host)
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            ctx.writeAndFlush(req);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse && ((HttpResponse) msg).status().code() != 200) {
                failed = true;
                kind("status_" + ((HttpResponse) msg).status().code());
            }
            if (msg instanceof HttpContent) {
                ByteBuf b = ((HttpContent) msg).content();
                long now = System.nanoTime();
                if (!sawDone && straddles(b)) {
                    sawDone = true;
                }
                int n = count(b);
                if (n > 0) {
                    if (lastEvent == 0) {
                        ttfc.recordValue(Math.max(1, (now - connectAt) / 1000));
                    } else {
                        long gap = now - lastEvent;
                        gaps.recordValue(Math.max(1, gap / 1000));
                        gapCount.incrementAndGet();
                        if (gap < 1_000_000) {
                            glued.incrementAndGet();
                        }
                    }
                    // events after the first in the same read arrived glued: gap 0
                    for (int k = 1; k < n; k++) {
                        gaps.recordValue(1);
                        gapCount.incrementAndGet();
                        glued.incrementAndGet();
                    }
                    lastEvent = now;
                    events.addAndGet(n);
                    if (contains(b, DONE)) {
                        sawDone = true;
                    }
                }
                keepTail(b);
            }
            if (msg instanceof LastHttpContent) {
                if (sawDone && !failed) {
                    completed.incrementAndGet();
                } else {
                    kind(failed ? "status" : "no_done");
                    errors.incrementAndGet();
                }
                finish();
                ctx.close();
            }
        }

        /** Whether "data: [DONE]" spans the previous part's end and this part's start. */
        private boolean straddles(ByteBuf b) {
            int head = Math.min(b.readableBytes(), DONE.length - 1);
            byte[] seam = new byte[tailLength + head];
            System.arraycopy(tail, 0, seam, 0, tailLength);
            b.getBytes(b.readerIndex(), seam, tailLength, head);
            return indexOf(io.netty.buffer.Unpooled.wrappedBuffer(seam), DONE, 0) >= 0;
        }

        private void keepTail(ByteBuf b) {
            int n = Math.min(b.readableBytes(), tail.length);
            if (n == tail.length) {
                b.getBytes(b.writerIndex() - n, tail, 0, n);
                tailLength = n;
            } else {
                int keep = Math.min(tailLength, tail.length - n);
                System.arraycopy(tail, tailLength - keep, tail, 0, keep);
                b.getBytes(b.writerIndex() - n, tail, keep, n);
                tailLength = keep + n;
            }
        }

        private static int count(ByteBuf b) {
            int n = 0;
            int from = b.readerIndex();
            while (true) {
                int at = indexOf(b, DATA, from);
                if (at < 0) {
                    return n;
                }
                n++;
                from = at + DATA.length;
            }
        }

        private static boolean contains(ByteBuf b, byte[] needle) {
            return indexOf(b, needle, b.readerIndex()) >= 0;
        }

        private static int indexOf(ByteBuf b, byte[] needle, int from) {
            int end = b.writerIndex();
            outer:
            for (int i = from; i + needle.length <= end; i++) {
                for (int k = 0; k < needle.length; k++) {
                    if (b.getByte(i + k) != needle[k]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!finished) {
                kind("early_close");
                errors.incrementAndGet(); // closed before the end of the response
                finish();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        void finish() {
            if (!finished) {
                finished = true;
                done.countDown();
            }
        }
    }

    static void kind(String k) {
        KINDS.computeIfAbsent(k, x -> new AtomicLong()).incrementAndGet();
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
