package io.sluice.http.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/** The HTTP/1.1 WebSocket handshake (RFC 6455 §4): recognising, validating, and close frames. */
public final class WebSockets {
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private WebSockets() {
    }

    /** {@code Upgrade: websocket} (any case, among other tokens). */
    public static boolean isUpgrade(HttpHeaders h) {
        return h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }

    /** @return what is wrong with a WebSocket upgrade request, or null when it is a valid one */
    public static String invalid(HttpRequest req) {
        HttpHeaders h = req.headers();
        if (!HttpMethod.GET.equals(req.method())) {
            return "a WebSocket upgrade must be a GET";
        }
        if (!h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
            return "a WebSocket upgrade needs Connection: upgrade";
        }
        if (!"13".equals(h.get(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "").trim())) {
            return "only WebSocket version 13 is supported";
        }
        String key = h.get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        try {
            if (key == null || Base64.getDecoder().decode(key.trim()).length != 16) {
                return "Sec-WebSocket-Key must be 16 bytes in base64";
            }
        } catch (IllegalArgumentException e) {
            return "Sec-WebSocket-Key must be 16 bytes in base64";
        }
        if (h.contains(HttpHeaderNames.CONTENT_LENGTH) && !"0".equals(h.get(HttpHeaderNames.CONTENT_LENGTH).trim())
                || h.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return "a WebSocket upgrade has no body";
        }
        return null;
    }

    /** The {@code Sec-WebSocket-Accept} the server must answer {@code key} with. */
    public static String accept(String key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-1").digest((key.trim() + GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return what is wrong with a backend's 101 to {@code req}, or null when it completes the handshake */
    public static String invalidSwitch(HttpRequest req, HttpResponse resp) {
        HttpHeaders h = resp.headers();
        if (!isUpgrade(h)) {
            return "101 without Upgrade: websocket";
        }
        String key = req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        String accept = h.get(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT);
        if (key == null || accept == null || !accept.trim().equals(accept(key))) {
            return "101 with a wrong Sec-WebSocket-Accept";
        }
        return null;
    }

    /** Close status codes Sluice sends. */
    public static final int GOING_AWAY = 1001;
    public static final int MESSAGE_TOO_BIG = 1009;

    /** A close frame with {@code code}: unmasked (server to client), or masked with a zero key (client to server). */
    public static ByteBuf closeFrame(ByteBufAllocator alloc, int code, boolean masked) {
        ByteBuf b = alloc.buffer(masked ? 8 : 4);
        b.writeByte(0x88);
        b.writeByte(masked ? 0x82 : 0x02);
        if (masked) {
            b.writeInt(0); // a zero masking key leaves the payload as it is
        }
        b.writeShort(code);
        return b;
    }
}
