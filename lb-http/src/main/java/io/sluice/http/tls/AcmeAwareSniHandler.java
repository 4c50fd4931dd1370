package io.sluice.http.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.Mapping;
import io.netty.util.concurrent.Future;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * SNI as usual, except that a ClientHello offering only ALPN {@code acme-tls/1} (an ACME CA
 * validating TLS-ALPN-01, RFC 8737) gets the challenge certificate for its name, when one is pending.
 */
final class AcmeAwareSniHandler extends SniHandler {
    static final String ACME_TLS_1 = "acme-tls/1";
    private final Function<String, SslContext> challenges;
    private boolean acme;

    AcmeAwareSniHandler(Mapping<String, SslContext> mapping, Function<String, SslContext> challenges) {
        super(mapping, 16 * 1024, 10_000);
        this.challenges = challenges;
    }

    @Override
    protected Future<SslContext> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) throws Exception {
        acme = offersOnlyAcmeTls(clientHello);
        return super.lookup(ctx, clientHello);
    }

    @Override
    protected Future<SslContext> lookup(ChannelHandlerContext ctx, String hostname) throws Exception {
        SslContext challenge = acme && hostname != null ? challenges.apply(hostname) : null;
        return challenge != null ? ctx.executor().newSucceededFuture(challenge) : super.lookup(ctx, hostname);
    }

    /** Walks the ClientHello (RFC 8446 §4.1.2) to its ALPN extension (type 16). */
    static boolean offersOnlyAcmeTls(ByteBuf in) {
        int offset = in.readerIndex() + 34; // legacy_version, random
        int end = in.writerIndex();
        if (end - offset < 6) {
            return false;
        }
        offset += in.getUnsignedByte(offset) + 1;        // session id
        if (end - offset < 2) {
            return false;
        }
        offset += in.getUnsignedShort(offset) + 2;       // cipher suites
        if (end - offset < 1) {
            return false;
        }
        offset += in.getUnsignedByte(offset) + 1;        // compression methods
        if (end - offset < 2) {
            return false;
        }
        int limit = Math.min(end, offset + 2 + in.getUnsignedShort(offset));
        offset += 2;
        while (limit - offset >= 4) {
            int type = in.getUnsignedShort(offset);
            int length = in.getUnsignedShort(offset + 2);
            offset += 4;
            if (limit - offset < length) {
                return false;
            }
            if (type == 16 && length >= 2) {
                int listEnd = offset + 2 + Math.min(in.getUnsignedShort(offset), length - 2);
                int p = offset + 2;
                int count = 0;
                boolean acmeTls = false;
                while (p < listEnd) {
                    int n = in.getUnsignedByte(p);
                    if (p + 1 + n > listEnd) {
                        return false;
                    }
                    acmeTls |= in.toString(p + 1, n, StandardCharsets.US_ASCII).equals(ACME_TLS_1);
                    count++;
                    p += 1 + n;
                }
                return acmeTls && count == 1;
            }
            offset += length;
        }
        return false;
    }
}
