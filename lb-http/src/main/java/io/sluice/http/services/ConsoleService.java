package io.sluice.http.services;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.core.config.ServicesConfig;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.Json;
import io.sluice.core.ratelimit.RateLimiter;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code service: console}: {@code POST <prefix>} with {@code {level, message, data}} writes one line to
 * the logger {@code sluice.console}, with the client's address. Control characters (CR, LF, ...) are
 * escaped and long values truncated, so a page cannot forge or flood log lines; {@code per-minute}
 * lines per client address (a token bucket; 429 with Retry-After beyond it). Answers 204.
 */
final class ConsoleService extends JsonService {
    static final Logger CONSOLE = LoggerFactory.getLogger("sluice.console");
    static final int MAX_MESSAGE = 2000;
    static final int MAX_DATA = 4000;

    ConsoleService(ChannelHandlerContext ctx, BuiltinServices services) {
        super(ctx, services);
    }

    private ServicesConfig.ConsoleConfig config() {
        return services.config().console();
    }

    @Override
    long maxBytes() {
        ServicesConfig.ConsoleConfig c = config();
        return c == null ? 0 : c.maxBytes();
    }

    @Override
    Answer check(RequestContext rc, HttpRequest req, String rest) {
        ServicesConfig.ConsoleConfig c = config();
        if (c == null) {
            return Answer.error(HttpResponseStatus.NOT_FOUND, "service_not_enabled", "service console is not enabled");
        }
        if (!rest.isEmpty()) {
            return notFound(rc.path());
        }
        if (!HttpMethod.POST.equals(req.method())) {
            return methodNotAllowed("POST", rc.path());
        }
        RateLimiter.Decision d = services.consoleLimits(c.perMinute()).tryAcquire(rc.exchange().clientIp);
        if (!d.allowed()) {
            return new Answer(HttpResponseStatus.TOO_MANY_REQUESTS, null, "rate_limited",
                    "more than " + c.perMinute() + " console lines a minute", Math.max(1, d.retryAfterSeconds()), null);
        }
        return null;
    }

    @Override
    Answer handle(RequestContext rc, HttpRequest req, String rest, byte[] body) {
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            return Answer.error(HttpResponseStatus.BAD_REQUEST, "invalid_json", "the body is not JSON");
        }
        if (n == null || !n.isObject()) {
            return Answer.error(HttpResponseStatus.BAD_REQUEST, "invalid_json", "expected {level, message, data}");
        }
        JsonNode level = n.get("level");
        JsonNode message = n.get("message");
        if (level == null || !level.isTextual() || message == null || !message.isTextual()) {
            return Answer.error(HttpResponseStatus.BAD_REQUEST, "invalid_console_line",
                    "level and message must be strings");
        }
        JsonNode data = n.get("data");
        String client = rc.exchange().clientIp;
        String text = clean(message.asText(), MAX_MESSAGE);
        String extra = data == null || data.isNull() ? "" : " data=" + clean(data.toString(), MAX_DATA);
        switch (level.asText()) {
            case "debug" -> CONSOLE.debug("{}: {}{}", client, text, extra);
            case "info", "log" -> CONSOLE.info("{}: {}{}", client, text, extra);
            case "warn" -> CONSOLE.warn("{}: {}{}", client, text, extra);
            case "error" -> CONSOLE.error("{}: {}{}", client, text, extra);
            default -> {
                return Answer.error(HttpResponseStatus.BAD_REQUEST, "invalid_console_line",
                        "level must be one of debug, info, warn, error, log");
            }
        }
        return Answer.ok(HttpResponseStatus.NO_CONTENT, null);
    }

    /** Control and line-separator characters escaped ({@code \n}, {@code \r}, {@code \t}, {@code \\uXXXX}); at most {@code max} characters kept. */
    static String clean(String s, int max) {
        int keep = Math.min(s.length(), max);
        StringBuilder b = new StringBuilder(keep + 16);
        for (int i = 0; i < keep; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        if (s.length() > max) {
            b.append("...(").append(s.length() - max).append(" more characters)");
        }
        return b.toString();
    }
}
