package io.sluice.http.h2;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.sluice.core.config.Http2Config;
import java.util.function.Consumer;

/**
 * An HTTP/2 connection: one frame codec, and one child channel per stream that speaks HttpObjects,
 * so each stream runs the same request chain (dispatch, admin, proxy) as an HTTP/1.1 connection.
 *
 * <p>Each stream has its own flow-control window and its own child channel writability, which the
 * proxy's backpressure watches: a client that stops reading one stream stalls only that stream's
 * upstream. Bodies pass through frame by frame; nothing is aggregated.
 */
public final class Http2Pipeline {
    private Http2Pipeline() {
    }

    /**
     * @param requestChain adds the per-request handlers to a stream's pipeline
     * @param drainEvent   the user event that starts a graceful shutdown: GOAWAY, then close once the open
     *                     streams have ended (up to {@code graceMillis})
     */
    public static void configure(ChannelPipeline p, Http2Config config, Consumer<ChannelPipeline> requestChain,
                                 Object drainEvent, long graceMillis) {
        Http2Settings settings = Http2Settings.defaultSettings()
                .maxConcurrentStreams(config.maxConcurrentStreams())
                .initialWindowSize(config.initialWindowSize())
                .maxHeaderListSize(config.maxHeaderListSize());
        if (config.webSockets()) {
            settings.connectProtocolEnabled(true); // RFC 8441: WebSockets as extended CONNECT streams
        }
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(settings)
                .validateHeaders(true)
                .gracefulShutdownTimeoutMillis(graceMillis)
                .build();
        p.addLast("h2", codec);
        p.addLast("h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast("h2-http", new Http2StreamFrameToHttpObjectCodec(true));
                ch.pipeline().addLast("h2-clean", StreamRequestCleaner.INSTANCE);
                if (config.webSockets()) {
                    ExtendedConnect.install(ch.pipeline());
                }
                requestChain.accept(ch.pipeline());
            }
        }));
        p.addLast("h2-idle", new IdleClose(codec, drainEvent));
    }

    /**
     * Closes an idle connection, unless a stream is open: a long prefill is not idleness. On drain,
     * closes gracefully.
     */
    private static final class IdleClose extends ChannelInboundHandlerAdapter {
        private final Http2FrameCodec codec;
        private final Object drainEvent;

        IdleClose(Http2FrameCodec codec, Object drainEvent) {
            this.codec = codec;
            this.drainEvent = drainEvent;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == drainEvent) {
                // The codec's close is graceful: GOAWAY (no new streams), then it waits for the open ones.
                ctx.close();
                return;
            }
            if (evt instanceof IdleStateEvent) {
                if (codec.connection().numActiveStreams() == 0) {
                    ctx.close();
                }
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }
    }
}
