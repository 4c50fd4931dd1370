package io.sluice.http.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.sluice.core.observe.LogThrottle;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** After the handshake, builds the HTTP/2 or HTTP/1.1 pipeline ALPN agreed on (HTTP/1.1 without ALPN). */
public final class AlpnHandler extends ApplicationProtocolNegotiationHandler {
    private static final Logger log = LoggerFactory.getLogger(AlpnHandler.class);
    private static final LogThrottle UNEXPECTED = new LogThrottle(Duration.ofSeconds(10), 16);
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

    /**
     * Before ALPN has picked a protocol only the handshake runs, so what fails here is the client's
     * connection (a reset mid-handshake, bytes that are not TLS), not the gateway: one debug line and a
     * close, instead of Netty's WARN with a stack trace per connection (twice: here, then the tail).
     * Anything else is logged once per interval, without a trace.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (cause instanceof DecoderException && cause.getCause() instanceof SSLException) {
            super.exceptionCaught(ctx, cause); // handshakeFailure, below
            return;
        }
        if (cause instanceof IOException || cause instanceof DecoderException) {
            log.debug("TLS connection from {} failed during the handshake: {}", ctx.channel().remoteAddress(), cause.toString());
        } else {
            long left = UNEXPECTED.admit(cause.getClass().getName());
            if (left >= 0) {
                log.warn("TLS connection from {} failed during the handshake: {}{}", ctx.channel().remoteAddress(), cause,
                        UNEXPECTED.summary(left));
            }
        }
        ctx.close();
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
