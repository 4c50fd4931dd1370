package io.sluice.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately plain HTTP/1.1 client on a blocking socket, so tests see the wire as it is:
 * each chunk with the time it arrived, exact bodies and headers, and the ability to hang up at any point.
 */
final class RawHttp implements AutoCloseable {
    final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawHttp(int port) throws IOException {
        this("127.0.0.1", port);
    }

    RawHttp(String host, int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress(host, port), 5000);
        socket.setSoTimeout(30_000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    static String chatBody(String model, boolean stream, int maxTokens) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}],"
                + "\"stream\":" + stream + ",\"max_tokens\":" + maxTokens + "}";
    }

    RawHttp post(String path, String json, String... headers) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\nHost: localhost\r\n")
                .append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        sb.append("\r\n");
        out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        return this;
    }

    RawHttp get(String path, String... headers) throws IOException {
        StringBuilder sb = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: localhost\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        sb.append("\r\n");
        return sendRaw(sb.toString());
    }

    RawHttp sendRaw(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return this;
    }

    /** Status line and headers of the next response. */
    Head readHead() throws IOException {
        String status = line();
        if (status == null) {
            throw new IOException("connection closed before a response");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        String l;
        while ((l = line()) != null && !l.isEmpty()) {
            int c = l.indexOf(':');
            headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
        }
        return new Head(Integer.parseInt(status.split(" ")[1]), headers);
    }

    /** One chunk as received, with its arrival time. */
    record Chunk(String text, long nanos) {
    }

    /** Reads a whole response body; for chunked bodies, each chunk with its arrival time. */
    Body readBody(Head head) throws IOException {
        List<Chunk> chunks = new ArrayList<>();
        if (head.status == 204 || head.status == 304) {
            return new Body(chunks, true); // never a body (RFC 9110 §15.3.5, §15.4.5)
        }
        if ("chunked".equalsIgnoreCase(head.headers.get("transfer-encoding"))) {
            while (true) {
                String size = line();
                if (size == null) {
                    return new Body(chunks, false); // cut off: no terminating chunk
                }
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    while (!line().isEmpty()) {
                        // trailers
                    }
                    return new Body(chunks, true);
                }
                byte[] data = in.readNBytes(n);
                if (data.length < n) {
                    return new Body(chunks, false);
                }
                chunks.add(new Chunk(new String(data, StandardCharsets.UTF_8), System.nanoTime()));
                line();
            }
        }
        String cl = head.headers.get("content-length");
        if (cl != null) {
            byte[] data = in.readNBytes(Integer.parseInt(cl));
            chunks.add(new Chunk(new String(data, StandardCharsets.UTF_8), System.nanoTime()));
            return new Body(chunks, data.length == Integer.parseInt(cl));
        }
        byte[] all = in.readAllBytes();
        chunks.add(new Chunk(new String(all, StandardCharsets.UTF_8), System.nanoTime()));
        return new Body(chunks, true);
    }

    /** Reads the next chunk of a chunked body, or null at its end. */
    Chunk readChunk() throws IOException {
        String size = line();
        if (size == null) {
            throw new IOException("closed");
        }
        int n = Integer.parseInt(size.trim(), 16);
        if (n == 0) {
            line();
            return null;
        }
        byte[] data = in.readNBytes(n);
        line();
        return new Chunk(new String(data, StandardCharsets.UTF_8), System.nanoTime());
    }

    /** The next {@code n} bytes as they are on the wire (fewer if the stream ends first). */
    byte[] readBytes(int n) throws IOException {
        return in.readNBytes(n);
    }

    Response exchange() throws IOException {
        Head h = readHead();
        return new Response(h, readBody(h));
    }

    private String line() throws IOException {
        return readLine(in);
    }

    /**
     * One line of an HTTP/1.1 head or chunked body, without its CRLF (a bare LF ends one too); what
     * came before the end of the stream when it ends mid-line; null when it ends first.
     */
    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64);
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    record Head(int status, Map<String, String> headers) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    record Body(List<Chunk> chunks, boolean complete) {
        String text() {
            StringBuilder sb = new StringBuilder();
            chunks.forEach(c -> sb.append(c.text()));
            return sb.toString();
        }

        /** The SSE {@code data:} payloads, in order. */
        List<String> events() {
            List<String> events = new ArrayList<>();
            for (String block : text().split("\n\n")) {
                if (block.startsWith("data: ")) {
                    events.add(block.substring(6));
                }
            }
            return events;
        }
    }

    record Response(Head head, Body body) {
        int status() {
            return head.status();
        }

        String header(String name) {
            return head.header(name);
        }
    }
}
