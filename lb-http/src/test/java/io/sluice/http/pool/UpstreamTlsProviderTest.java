package io.sluice.http.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.UpstreamTlsConfig;
import io.sluice.http.tls.Pem;
import io.sluice.http.tls.SelfSigned;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Both TLS providers verify the chain and the name: a right CA and name pass, a wrong one of either fails with its reason. */
class UpstreamTlsProviderTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"JDK", "OPENSSL_REFCNT"})
    void verifiesChainAndName(SslProvider provider) throws Exception {
        assumeTrue(provider == SslProvider.JDK || OpenSsl.isAvailable(), "netty-tcnative did not load");
        SelfSigned.Certificate server = SelfSigned.create(List.of("backend.test"), Duration.ofDays(1));
        SelfSigned.Certificate stranger = SelfSigned.create(List.of("backend.test"), Duration.ofDays(1));
        Path trusted = Files.writeString(dir.resolve("trusted.pem"), Pem.toPem(server.cert()));
        Path other = Files.writeString(dir.resolve("other.pem"), Pem.toPem(stranger.cert()));
        SslContext serverContext = SslContextBuilder.forServer(server.keys().getPrivate(), server.cert()).build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(serverContext.newHandler(ch.alloc()), new ChannelInboundHandlerAdapter() {
                                @Override
                                public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
                                    ctx.close();
                                }
                            });
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            Backend b = new Backend("b1", "p", "127.0.0.1", port, 1, true);
            assertEquals("ok", handshake(group, provider, b, new UpstreamTlsConfig(trusted.toString(), true, "backend.test",
                    null, null, UpstreamTlsConfig.PROTOCOLS)));
            assertEquals("certificate not trusted", handshake(group, provider, b, new UpstreamTlsConfig(other.toString(), true,
                    "backend.test", null, null, UpstreamTlsConfig.PROTOCOLS)));
            assertEquals("certificate name does not match 'other.test'", handshake(group, provider, b,
                    new UpstreamTlsConfig(trusted.toString(), true, "other.test", null, null, UpstreamTlsConfig.PROTOCOLS)));
            assertEquals("certificate name does not match '127.0.0.1'", handshake(group, provider, b,
                    new UpstreamTlsConfig(trusted.toString(), true, null, null, null, UpstreamTlsConfig.PROTOCOLS)));
            assertEquals("ok", handshake(group, provider, b, new UpstreamTlsConfig(other.toString(), false, "other.test",
                    null, null, UpstreamTlsConfig.PROTOCOLS)));
            listener.close().sync();
        } finally {
            group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
            ReferenceCountUtil.release(serverContext);
        }
    }

    private static String handshake(EventLoopGroup group, SslProvider provider, Backend b, UpstreamTlsConfig c) throws Exception {
        UpstreamTls tls = UpstreamTls.build("p", c, provider);
        SslHandler[] ssl = new SslHandler[1]; // held here: a failed handshake closes the channel, emptying its pipeline
        try {
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ssl[0] = tls.newHandler(ByteBufAllocator.DEFAULT, b, 5000);
                            ch.pipeline().addLast(ssl[0], new ChannelInboundHandlerAdapter() {
                                @Override
                                public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
                                    ctx.close();
                                }
                            });
                        }
                    }).connect("127.0.0.1", b.port()).sync().channel();
            Future<Channel> done = ssl[0].handshakeFuture().await();
            ch.close().sync();
            return done.isSuccess() ? "ok" : UpstreamTls.reason(done.cause(), tls.serverName(b));
        } finally {
            tls.release();
        }
    }
}
