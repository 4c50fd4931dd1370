package io.sluice.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A keep-alive HTTP/1.1 server that parses strictly, as a careful backend would, and records every
 * request it reads: which connection, in which order, its head and its exact body bytes. What it
 * cannot parse without doubt (bare LF, both or conflicting framing headers, an unknown coding) is
 * recorded as a {@link Request#problem} and the connection closed. It answers 200 with the request's
 * {@code X-Case} header echoed and a JSON body, or whatever {@link #respond} is set to.
 */
final class RecordingBackend implements AutoCloseable {
    record Request(int connection, int seq, String method, String target, Map<String, List<String>> headers,
                   byte[] body, String problem) {
        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null || v.isEmpty() ? null : v.get(0);
        }
    }

    /** Writes the raw response to a recorded request; null after a problem. */
    interface Responder {
        byte[] respond(Request r);
    }

    private final ServerSocket server;
    private final Thread acceptor;
    private final AtomicInteger connections = new AtomicInteger();
    final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    private final List<Socket> open = new ArrayList<>();
    volatile Responder respond = RecordingBackend::echo;
    /** Close the connection after each answer other than a health check's (a backend dying mid-response). */
    volatile boolean closeAfterAnswer;

    RecordingBackend() throws IOException {
        server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::accept, "recording-backend");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    int connectionsOpened() {
        return connections.get();
    }

    /** Requests other than health checks. */
    List<Request> recorded() {
        List<Request> out = new ArrayList<>();
        for (Request r : requests) {
            if (!"/health".equals(r.target())) {
                out.add(r);
            }
        }
        return out;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                synchronized (open) {
                    open.add(s);
                }
                int id = connections.incrementAndGet();
                Thread t = new Thread(() -> serve(s, id), "recording-backend-" + id);
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s, int id) {
        try (s) {
            InputStream in = new java.io.BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            for (int seq = 0; ; seq++) {
                Request r = read(in, id, seq);
                if (r == null) {
                    return;
                }
                requests.add(r);
                if (r.problem() != null) {
                    return;
                }
                byte[] answer = "/health".equals(r.target())
                        ? "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII)
                        : respond.respond(r);
                if (answer == null) {
                    return;
                }
                out.write(answer);
                out.flush();
                if (closeAfterAnswer && !"/health".equals(r.target())) {
                    return;
                }
            }
        } catch (IOException e) {
            // the peer went away
        }
    }

    /** Answers every request with {@code raw}, except those whose target contains "good", which are echoed. */
    void respondExceptGood(String raw) {
        respond = r -> r.target().contains("good") ? echo(r) : raw.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The last recorded request for {@code target}, or null. */
    Request last(String target) {
        Request found = null;
        for (Request r : recorded()) {
            if (target.equals(r.target())) {
                found = r;
            }
        }
        return found;
    }

    static byte[] echo(Request r) {
        String c = r.header("x-case");
        String body = "{\"case\":\"" + c + "\",\"bytes\":" + r.body().length + "}";
        return ("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-case: " + c + "\r\ncontent-length: "
                + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
    }

    /** One request, null at a clean end of stream; a request with a problem ends the connection. */
    private static Request read(InputStream in, int conn, int seq) throws IOException {
        String line = line(in);
        if (line == null) {
            return null;
        }
        if (line.endsWith("\n")) {
            return problem(conn, seq, "bare LF in the request line");
        }
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
            return problem(conn, seq, "bad request line: " + line);
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String h;
        while ((h = line(in)) != null && !h.isEmpty()) {
            if (h.endsWith("\n")) {
                return problem(conn, seq, "bare LF in a header line");
            }
            if (h.startsWith(" ") || h.startsWith("\t")) {
                return problem(conn, seq, "line folding");
            }
            int c = h.indexOf(':');
            if (c <= 0) {
                return problem(conn, seq, "bad header line: " + h);
            }
            headers.computeIfAbsent(h.substring(0, c).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(h.substring(c + 1).trim());
        }
        if (h == null) {
            return problem(conn, seq, "end of stream in the head");
        }
        List<String> te = headers.get("transfer-encoding");
        List<String> cl = headers.get("content-length");
        byte[] body;
        if (te != null && cl != null) {
            return problem(conn, seq, "both Content-Length and Transfer-Encoding");
        } else if (te != null) {
            if (te.size() != 1 || !te.get(0).equals("chunked")) {
                return problem(conn, seq, "transfer coding " + te);
            }
            try {
                body = chunked(in);
            } catch (java.io.EOFException e) {
                return problem(conn, seq, "aborted: end of stream in the body");
            }
            if (body == null) {
                return problem(conn, seq, "bad chunked body");
            }
        } else if (cl != null) {
            if (cl.size() != 1 || !cl.get(0).matches("[0-9]{1,9}")) {
                return problem(conn, seq, "content-length " + cl);
            }
            int n = Integer.parseInt(cl.get(0));
            body = in.readNBytes(n);
            if (body.length < n) {
                return problem(conn, seq, "aborted: body cut short");
            }
        } else {
            body = new byte[0];
        }
        return new Request(conn, seq, parts[0], parts[1], headers, body, null);
    }

    private static Request problem(int conn, int seq, String what) {
        return new Request(conn, seq, null, null, Map.of(), new byte[0], what);
    }

    private static byte[] chunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = line(in);
            if (size == null) {
                throw new java.io.EOFException();
            }
            if (size.endsWith("\n") || !size.matches("[0-9a-fA-F]{1,8}")) {
                return null; // Sluice sends no chunk extensions
            }
            int n = Integer.parseInt(size, 16);
            if (n == 0) {
                String t;
                while ((t = line(in)) != null && !t.isEmpty()) {
                    return null; // Sluice forwards no request trailers
                }
                return t == null ? null : body.toByteArray();
            }
            byte[] data = in.readNBytes(n);
            if (data.length < n) {
                throw new java.io.EOFException();
            }
            if (!"".equals(line(in))) {
                return null;
            }
            body.write(data);
        }
    }

    /** A line without its CRLF; a line that ended in a bare LF keeps it, so the caller can tell. */
    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64);
        int prev = -1;
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.ISO_8859_1);
                return prev == '\r' ? s.substring(0, s.length() - 1) : s + "\n";
            }
            b.write(c);
            prev = c;
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (open) {
            for (Socket s : open) {
                try {
                    s.close();
                } catch (SocketException ignored) {
                    // already closed
                }
            }
        }
    }
}
