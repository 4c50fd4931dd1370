package io.sluice.http.proxy;

import io.sluice.core.net.ClientAddress;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;

/**
 * Header rewriting at the proxy boundary (RFC 9110 §7.6.1): hop-by-hop headers stay on their hop,
 * and the upstream learns who the client was through {@code X-Forwarded-*} and {@code Via}.
 *
 * <p>Framing is always Sluice's own: whatever the client's {@code Connection} header names,
 * {@code Content-Length} and {@code Transfer-Encoding} are removed and set again from what the
 * decoder found, so the next hop's encoder frames the body exactly as it was read (a body that lost
 * its length would be parsed upstream as a second request on a pooled connection). A request whose
 * {@code Connection} names a framing or routing header is refused before it gets here
 * ({@link #protectedConnectionOption}).
 */
public final class Headers {
    public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    public static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    public static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    public static final AsciiString X_REAL_IP = AsciiString.cached("x-real-ip");
    private static final AsciiString FORWARDED = AsciiString.cached("forwarded");
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final String VIA_VALUE = "1.1 sluice";

    private Headers() {
    }

    /**
     * Headers a client's {@code Connection} header may not name: removing them would change how the
     * body is framed or where and how the request is routed.
     */
    private static final List<AsciiString> PROTECTED = List.of(HttpHeaderNames.CONTENT_LENGTH,
            HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.HOST, HttpHeaderNames.CONTENT_TYPE,
            HttpHeaderNames.TRAILER, X_REQUEST_ID, HttpHeaderNames.AUTHORIZATION, AsciiString.cached("x-api-key"));

    /** @return the first protected header named by a {@code Connection} option, or null */
    public static String protectedConnectionOption(HttpHeaders h) {
        for (String value : h.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                String t = token.trim();
                for (AsciiString p : PROTECTED) {
                    if (p.contentEqualsIgnoreCase(t)) {
                        return p.toString();
                    }
                }
            }
        }
        return null;
    }

    /** Prepares a client request for the upstream hop. */
    public static void toUpstream(HttpHeaders h, ClientAddress client, String proto) {
        long length = framing(h);
        stripHopByHop(h);
        reframe(h, length);
        h.remove(HttpHeaderNames.PROXY_AUTHORIZATION);
        forwarding(h, client, proto);
        appendVia(h);
    }

    /**
     * Who asked, for the upstream. From a trusted proxy its chain is kept and its peer appended; from
     * anyone else Sluice is the edge, and whatever the client claimed about itself is replaced.
     */
    static void forwarding(HttpHeaders h, ClientAddress client, String proto) {
        String host = h.get(HttpHeaderNames.HOST);
        if (client.peerTrusted()) {
            List<String> chain = h.getAll(X_FORWARDED_FOR);
            h.set(X_FORWARDED_FOR, chain.isEmpty() ? client.peer() : String.join(", ", chain) + ", " + client.peer());
            if (!h.contains(X_FORWARDED_PROTO)) {
                h.set(X_FORWARDED_PROTO, proto); // the proxy in front knows the client's scheme better
            }
            if (host != null && !h.contains(X_FORWARDED_HOST)) {
                h.set(X_FORWARDED_HOST, host);
            }
        } else {
            h.remove(FORWARDED);
            h.set(X_FORWARDED_FOR, client.peer());
            h.set(X_FORWARDED_PROTO, proto);
            if (host != null) {
                h.set(X_FORWARDED_HOST, host);
            } else {
                h.remove(X_FORWARDED_HOST);
            }
        }
        h.set(X_REAL_IP, client.client());
    }

    /** Prepares an upstream response for the client hop. */
    public static void toClient(HttpHeaders h) {
        long length = framing(h);
        stripHopByHop(h);
        reframe(h, length);
        h.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
        appendVia(h);
    }

    private static void appendVia(HttpHeaders h) {
        String via = h.get(HttpHeaderNames.VIA);
        h.set(HttpHeaderNames.VIA, via == null ? VIA_VALUE : via + ", " + VIA_VALUE);
    }

    private static final long CHUNKED = -2;
    private static final long NO_BODY_FRAMING = -1;

    /** How the decoder framed the body: {@link #CHUNKED}, a length, or {@link #NO_BODY_FRAMING}. */
    private static long framing(HttpHeaders h) {
        if (h.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            // The front end admits only "chunked" alone; an upstream's other codings were read until close
            // and are framed again for the client by the proxy.
            return h.containsValue(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED, true)
                    ? CHUNKED : NO_BODY_FRAMING;
        }
        String cl = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (cl == null) {
            return NO_BODY_FRAMING;
        }
        try {
            return Long.parseLong(cl.trim()); // the decoder already refused malformed or conflicting values
        } catch (NumberFormatException e) {
            return NO_BODY_FRAMING;
        }
    }

    private static void reframe(HttpHeaders h, long length) {
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        if (length == CHUNKED) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else if (length >= 0) {
            h.set(HttpHeaderNames.CONTENT_LENGTH, length);
        }
    }

    static void stripHopByHop(HttpHeaders h) {
        List<String> connection = h.getAll(HttpHeaderNames.CONNECTION);
        if (!connection.isEmpty()) {
            // Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
            List<String> named = new ArrayList<>(2);
            for (String value : connection) {
                for (String token : value.split(",")) {
                    String t = token.trim();
                    if (!t.isEmpty()) {
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
