package io.sluice.sim.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Test-side clients: java.net.http for ordinary exchanges, a raw socket for exact bytes and abrupt closes. */
final class Wire {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration WAIT = Duration.ofSeconds(10);
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Wire() {
    }

    static HttpResponse<String> get(String url, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(WAIT).GET();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String url, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(WAIT)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + s, e);
        }
    }

    /** SSE events of a body: each blank-line-separated block, as its {@code event:} name and {@code data:} JSON text. */
    static List<String[]> sse(String body, String separator) {
        List<String[]> out = new ArrayList<>();
        for (String block : body.split(separator, -1)) {
            if (block.isEmpty()) {
                continue;
            }
            String event = null;
            StringBuilder data = new StringBuilder();
            for (String line : block.split("\r\n|\n")) {
                if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data.append(line.substring(6));
                } else {
                    throw new AssertionError("unexpected SSE line '" + line + "' in " + body);
                }
            }
            out.add(new String[] {event, data.toString()});
        }
        return out;
    }

    /** A hand-rolled HTTP/1.1 exchange: exact bytes, and a socket the test can close mid-response. */
    static final class Raw implements AutoCloseable {
        final Socket socket;
        private final InputStream in;
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();

        private Raw(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
        }

        static Raw send(int port, String method, String path, String json, String... headers) throws IOException {
            Socket s = new Socket("127.0.0.1", port);
            s.setSoTimeout(15_000);
            byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
            StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            for (int i = 0; i < headers.length; i += 2) {
                head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
            }
            if (json != null) {
                head.append("Content-Type: application/json\r\n");
            }
            head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
            OutputStream out = s.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            return new Raw(s);
        }

        /** Reads until the text received so far contains {@code marker}; false on EOF. */
        boolean readUntil(String marker) throws IOException {
            byte[] buf = new byte[8192];
            while (!text().contains(marker)) {
                int n = in.read(buf);
                if (n < 0) {
                    return false;
                }
                received.write(buf, 0, n);
            }
            return true;
        }

        /** Reads to EOF or error; returns the error, if any. */
        IOException readToEnd() {
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    received.write(buf, 0, n);
                }
                return null;
            } catch (IOException e) {
                return e;
            }
        }

        String text() {
            return received.toString(StandardCharsets.UTF_8);
        }

        /** The chunks of a chunked response body, as sent, up to the terminating chunk or what arrived. */
        List<byte[]> chunks() {
            byte[] all = received.toByteArray();
            int i = indexOf(all, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
            if (i < 0) {
                throw new AssertionError("no response head in " + text());
            }
            List<byte[]> out = new ArrayList<>();
            int p = i + 4;
            while (p < all.length) {
                int eol = indexOf(all, "\r\n".getBytes(StandardCharsets.US_ASCII), p);
                if (eol < 0) {
                    break;
                }
                int size = Integer.parseInt(new String(all, p, eol - p, StandardCharsets.US_ASCII).trim(), 16);
                if (size == 0 || eol + 2 + size > all.length) {
                    break;
                }
                byte[] chunk = new byte[size];
                System.arraycopy(all, eol + 2, chunk, 0, size);
                out.add(chunk);
                p = eol + 2 + size + 2;
            }
            return out;
        }

        /** The body the chunks carry, decoded as UTF-8 as a whole. */
        String body() {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            chunks().forEach(c -> b.write(c, 0, c.length));
            return b.toString(StandardCharsets.UTF_8);
        }

        private static int indexOf(byte[] a, byte[] needle, int from) {
            outer:
            for (int i = from; i + needle.length <= a.length; i++) {
                for (int j = 0; j < needle.length; j++) {
                    if (a[i + j] != needle[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** True when some chunk ends inside a multi-byte UTF-8 sequence (its last lead byte lacks continuation bytes). */
    static boolean someChunkEndsInsideACharacter(List<byte[]> chunks) {
        for (byte[] c : chunks) {
            for (int i = c.length - 1; i >= 0 && i >= c.length - 4; i--) {
                int b = c[i] & 0xFF;
                if ((b & 0xC0) == 0x80) {
                    continue; // continuation byte: look further back for the lead
                }
                int need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
                if (c.length - i < need) {
                    return true;
                }
                break;
            }
        }
        return false;
    }
}
