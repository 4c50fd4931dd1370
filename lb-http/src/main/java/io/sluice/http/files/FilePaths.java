package io.sluice.http.files;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a request path under a {@code static:} route into the names of the file it asks for, or says
 * why it may not ask for one. Pure string work, no file system: what it returns can only name
 * something under the root, and {@link StaticFiles} then checks the real path (symlinks) as well.
 */
final class FilePaths {
    private FilePaths() {
    }

    /** What a request path resolved to. */
    sealed interface Result {
    }

    /**
     * @param segments the decoded path segments below the root (none for the root itself)
     * @param directory the path ended with {@code /} (or was the root)
     */
    record Found(List<String> segments, boolean directory) implements Result {
    }

    /** The path names the route's directory without its slash: answer 301 to {@code location}. */
    record Redirect(String location) implements Result {
    }

    /** @param status 400 (not a path Sluice serves) or 404 (hidden, or not under this route) */
    record Refused(int status, String reason) implements Result {
    }

    /**
     * @param path   the request path, raw (percent-encoded, without the query)
     * @param prefix the route's path prefix
     */
    static Result resolve(String path, String prefix) {
        String rest;
        if (prefix.endsWith("/")) {
            if (path.length() < prefix.length()) {
                return new Redirect(prefix); // "/dist" on a route "/dist/"
            }
            rest = path.substring(prefix.length() - 1);
        } else {
            rest = path.substring(Math.min(prefix.length(), path.length()));
            if (rest.isEmpty()) {
                return new Redirect(prefix + "/");
            }
            if (rest.charAt(0) != '/') {
                return new Refused(404, "not under this route"); // "/distfoo" on a route "/dist"
            }
        }
        // Before decoding: separators hidden in escapes would become path structure after it.
        String lower = rest.toLowerCase(Locale.ROOT);
        if (lower.contains("%2f") || lower.contains("%5c")) {
            return new Refused(400, "encoded path separator");
        }
        if (rest.indexOf('\\') >= 0) {
            return new Refused(400, "backslash in the path");
        }
        String decoded = decodeOnce(rest);
        if (decoded == null) {
            return new Refused(400, "malformed percent-escape or invalid UTF-8 in the path");
        }
        List<String> segments = new ArrayList<>();
        String[] parts = decoded.split("/", -1);
        for (String s : parts) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c < 0x20 || c == 0x7f || c == '\\') { // NUL and other controls; a decoded backslash
                    return new Refused(400, "control character or backslash in the path");
                }
            }
            if (s.equals(".") || s.equals("..")) {
                return new Refused(400, "dot segment in the path");
            }
            if (s.isEmpty()) {
                continue; // "//" and the leading slash
            }
            if (s.charAt(0) == '.') {
                return new Refused(404, "hidden file");
            }
            segments.add(s);
        }
        return new Found(List.copyOf(segments), decoded.endsWith("/"));
    }

    /** Percent-decoding, once (so {@code %252e} stays {@code %2e}); null when malformed or not UTF-8. */
    static String decodeOnce(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
                int lo = hi >= 0 ? Character.digit(s.charAt(i + 2), 16) : -1;
                if (lo < 0) {
                    return null;
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else if (c >= 0x80) {
                return null; // the request line is ASCII
            } else {
                bytes.write(c);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
