package io.sluice.http.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;

/**
 * Header rewriting at the proxy boundary (RFC 9110 §7.6.1): hop-by-hop headers stay on their hop,
 * and the upstream learns who the client was through {@code X-Forwarded-*} and {@code Via}.
 *
 * <p>{@code Transfer-Encoding} is kept: bodies are forwarded as HttpContent and re-framed by the
 * next hop's encoder, which reads that header to decide on chunked framing.
 */
public final class Headers {
    public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    public static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    public static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final String VIA_VALUE = "1.1 sluice";

    private Headers() {
    }

    /** Prepares a client request for the upstream hop. */
    public static void toUpstream(HttpHeaders h, String clientIp, String proto) {
        stripHopByHop(h);
        h.remove(HttpHeaderNames.PROXY_AUTHORIZATION);
        String prior = h.get(X_FORWARDED_FOR);
        h.set(X_FORWARDED_FOR, prior == null ? clientIp : prior + ", " + clientIp);
        h.set(X_FORWARDED_PROTO, proto);
        String host = h.get(HttpHeaderNames.HOST);
        if (host != null) {
            h.set(X_FORWARDED_HOST, host);
        }
        appendVia(h);
    }

    /** Prepares an upstream response for the client hop. */
    public static void toClient(HttpHeaders h) {
        stripHopByHop(h);
        h.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
        appendVia(h);
    }

    private static void appendVia(HttpHeaders h) {
        String via = h.get(HttpHeaderNames.VIA);
        h.set(HttpHeaderNames.VIA, via == null ? VIA_VALUE : via + ", " + VIA_VALUE);
    }

    static void stripHopByHop(HttpHeaders h) {
        List<String> connection = h.getAll(HttpHeaderNames.CONNECTION);
        if (!connection.isEmpty()) {
            // Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
            List<String> named = new ArrayList<>(2);
            for (String value : connection) {
                for (String token : value.split(",")) {
                    String t = token.trim();
                    if (!t.isEmpty() && !HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(t)) {
                        named.add(t);
                    }
                }
            }
            for (String n : named) {
                h.remove(n);
            }
            h.remove(HttpHeaderNames.CONNECTION);
        }
        h.remove(KEEP_ALIVE);
        h.remove(PROXY_CONNECTION);
        h.remove(HttpHeaderNames.TE);
        h.remove(HttpHeaderNames.TRAILER);
        h.remove(HttpHeaderNames.UPGRADE);
    }
}
