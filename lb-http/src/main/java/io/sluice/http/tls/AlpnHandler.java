package io.sluice.http.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** After the handshake, builds the HTTP/2 or HTTP/1.1 pipeline ALPN agreed on (HTTP/1.1 without ALPN). */
public final class AlpnHandler extends ApplicationProtocolNegotiationHandler {
    private static final Logger log = LoggerFactory.getLogger(AlpnHandler.class);
    private final Consumer<ChannelPipeline> http1;
    private final Consumer<ChannelPipeline> http2;

    public AlpnHandler(Consumer<ChannelPipeline> http1, Consumer<ChannelPipeline> http2) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.http1 = http1;
        this.http2 = http2;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        if (AcmeAwareSniHandler.ACME_TLS_1.equals(protocol)) {
            ctx.close(); // a TLS-ALPN-01 validation: the handshake was all the CA wanted
        } else if (ApplicationProtocolNames.HTTP_2.equals(protocol) && http2 != null) {
            http2.accept(ctx.pipeline());
        } else {
            http1.accept(ctx.pipeline());
        }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
