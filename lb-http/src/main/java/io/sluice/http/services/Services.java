package io.sluice.http.services;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.core.exchange.ExchangeTarget;
import io.sluice.core.exchange.RequestContext;

/** The targets of {@code service: NAME} routes: one per request. */
public final class Services {
    private Services() {
    }

    /** {@code service: vfs}. */
    public static ExchangeTarget vfs(ChannelHandlerContext ctx, BuiltinServices services) {
        return new VfsService(ctx, services);
    }

    /** {@code service: console}. */
    public static ExchangeTarget console(ChannelHandlerContext ctx, BuiltinServices services) {
        return new ConsoleService(ctx, services);
    }

    /** A 404 answer to every request: a service this build does not implement (or no services at all). */
    public static ExchangeTarget unavailable(ChannelHandlerContext ctx, String name) {
        return new Unknown(ctx, null, name);
    }

    /** Answers 404 to every request: a service name with no implementation here. */
    private static final class Unknown extends JsonService {
        private final String name;

        Unknown(ChannelHandlerContext ctx, BuiltinServices services, String name) {
            super(ctx, services);
            this.name = name;
        }

        @Override
        Answer check(RequestContext rc, HttpRequest req, String rest) {
            return Answer.error(HttpResponseStatus.NOT_FOUND, "service_not_available", "service " + name + " is not available");
        }

        @Override
        long maxBytes() {
            return 0;
        }

        @Override
        Answer handle(RequestContext rc, HttpRequest req, String rest, byte[] body) {
            throw new IllegalStateException("never reached");
        }
    }
}
