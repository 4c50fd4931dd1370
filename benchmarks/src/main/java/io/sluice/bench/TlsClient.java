package io.sluice.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.sluice.core.net.Transport;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Issue 17's S4 load: every request on a new TLS 1.3 connection ({@code Connection: close}), as
 * {@code wrk -H "Connection: close"} does in {@code peers.sh}, so the proxy pays a full handshake per
 * request. C slots run closed-loop; each connects, sends one GET, reads the whole response and closes,
 * then reconnects. Latency runs from connect to the response's end (handshake included). BoringSSL
 * through tcnative when available, as on the server side; no session resumption.
 */
final class TlsClient implements AutoCloseable {
    private final EventLoopGroup group;
    private final Transport transport;
    private final SslContext ssl;

    TlsClient(int threads) throws Exception {
        transport = Transport.select("auto");
        group = transport.newGroup(threads, "tls-load");
        ssl = SslContextBuilder.forClient()
                .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                .trustManager(InsecureTrustManagerFactory.INSTANCE) // the fixture's throwaway certificate
                .protocols("TLSv1.3")
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_1_1))
                .build();
    }

    record Result(long requests, long errors, double seconds, Histogram latencyMicros) {
        double throughput() {
            return requests / seconds;
        }
    }

    Result run(int port, String path, int concurrency, double seconds) throws InterruptedException {
        Recorder recorder = new Recorder(3);
        AtomicLong ok = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        CountDownLatch done = new CountDownLatch(concurrency);
        for (int i = 0; i < concurrency; i++) {
            new Slot(port, path, end, recorder, ok, errors, done).connect();
        }
        if (!done.await((long) seconds + 60, TimeUnit.SECONDS)) {
            errors.addAndGet(done.getCount());
        }
        return new Result(ok.get(), errors.get(), (System.nanoTime() - start) / 1e9, recorder.getIntervalHistogram());
    }

    /** One closed-loop client: a connection per request until the deadline. */
    private final class Slot {
        final int port;
        final String path;
        final long end;
        final Recorder recorder;
        final AtomicLong ok;
        final AtomicLong errors;
        final CountDownLatch done;

        Slot(int port, String path, long end, Recorder recorder, AtomicLong ok, AtomicLong errors, CountDownLatch done) {
            this.port = port;
            this.path = path;
            this.end = end;
            this.recorder = recorder;
            this.ok = ok;
            this.errors = errors;
            this.done = done;
        }

        void connect() {
            if (System.nanoTime() >= end) {
                done.countDown();
                return;
            }
            long connectAt = System.nanoTime();
            Exchange exchange = new Exchange(connectAt);
            new Bootstrap().group(group).channel(transport.clientChannel())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(ssl.newHandler(c.alloc(), "127.0.0.1", port), new HttpClientCodec(), exchange);
                        }
                    })
                    .connect("127.0.0.1", port)
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            errors.incrementAndGet();
                            connect();
                        }
                    });
        }

        /** One request on one connection; the next connection starts when this one has closed. */
        private final class Exchange extends SimpleChannelInboundHandler<HttpObject> {
            private final long connectAt;
            private int status;
            private boolean answered;

            Exchange(long connectAt) {
                this.connectAt = connectAt;
            }

            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                // The SslHandler holds the request until the handshake is done.
                DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
                req.headers().set(HttpHeaderNames.HOST, "127.0.0.1:" + port)
                        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(req);
            }

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                if (msg instanceof HttpResponse) {
                    status = ((HttpResponse) msg).status().code();
                }
                if (msg instanceof LastHttpContent && !answered) {
                    answered = true;
                    if (status == 200) {
                        ok.incrementAndGet();
                        recorder.recordValue(Math.max(1, (System.nanoTime() - connectAt) / 1000));
                    } else {
                        errors.incrementAndGet();
                    }
                    ctx.close();
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                if (!answered) {
                    errors.incrementAndGet();
                }
                connect();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
