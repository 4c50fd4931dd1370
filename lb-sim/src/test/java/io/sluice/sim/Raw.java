package io.sluice.sim;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A hand-rolled HTTP/1.1 client: exact bytes, and a socket the test can close mid-response. */
final class Raw implements AutoCloseable {
    final Socket socket;
    private final InputStream in;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();

    private Raw(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
    }

    static Raw post(int port, String path, String json) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(15_000);
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        OutputStream out = s.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
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

    static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) {
            n++;
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
