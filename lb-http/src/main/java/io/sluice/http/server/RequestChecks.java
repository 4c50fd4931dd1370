package io.sluice.http.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.sluice.http.proxy.Headers;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Refusals an edge makes before routing: targets that are not plain absolute paths, paths that
 * could mean different things to Sluice and to the backend (dot segments, also percent-encoded;
 * invalid UTF-8), and transfer codings other than chunked.
 */
final class RequestChecks {
    private RequestChecks() {
    }

    /**
     * @param http1 the request came on an HTTP/1.x connection (not converted from an HTTP/2 stream)
     * @return why the request must be refused, or null when it may go on
     */
    static String problem(HttpRequest req, String path, boolean http1) {
        if (req.protocolVersion().majorVersion() != 1 || req.protocolVersion().minorVersion() > 1) {
            return "unsupported HTTP version " + req.protocolVersion().text();
        }
        if (http1 && req.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            int hosts = req.headers().getAll(HttpHeaderNames.HOST).size();
            if (hosts != 1) {
                // RFC 9112 §3.2: exactly one Host; two could be read differently by Sluice and the backend.
                return hosts == 0 ? "an HTTP/1.1 request needs a Host header" : "more than one Host header";
            }
        }
        String named = Headers.protectedConnectionOption(req.headers());
        if (named != null) {
            return "the Connection header may not name " + named;
        }
        if (req.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            List<String> te = req.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
            if (req.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
                return "Transfer-Encoding in an HTTP/1.0 request";
            }
            if (te.size() != 1 || !HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(te.get(0).trim())) {
                return "unsupported transfer coding '" + String.join(", ", te) + "' (only chunked)";
            }
        }
        return pathProblem(path);
    }

    static String pathProblem(String path) {
        if (path.isEmpty() || path.charAt(0) != '/') {
            return "the request target must be an absolute path";
        }
        boolean plain = true;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return "invalid character in the path";
            }
            if (c == '%' || c == '.') {
                plain = false;
            }
        }
        if (plain) {
            return null; // the common case: nothing to decode
        }
        byte[] bytes = new byte[path.length()];
        int n = 0;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%') {
                int hi = i + 2 < path.length() ? Character.digit(path.charAt(i + 1), 16) : -1;
                int lo = hi >= 0 ? Character.digit(path.charAt(i + 2), 16) : -1;
                if (lo < 0) {
                    return "malformed percent-escape in the path";
                }
                bytes[n++] = (byte) (hi << 4 | lo);
                i += 2;
            } else {
                bytes[n++] = (byte) c;
            }
        }
        String decoded;
        try {
            decoded = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, n)).toString();
        } catch (CharacterCodingException e) {
            return "the path is not valid UTF-8";
        }
        if (decoded.indexOf('\0') >= 0) {
            return "NUL in the path";
        }
        for (String segment : decoded.split("/", -1)) {
            if (segment.equals("..") || segment.equals(".")) {
                return "dot segments are not allowed in the path";
            }
        }
        return null;
    }
}
