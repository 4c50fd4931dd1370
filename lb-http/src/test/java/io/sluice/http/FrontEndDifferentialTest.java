package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A differential harness for the HTTP/1.1 front end: thousands of seeded, mutated client requests
 * (header casing, duplicate and conflicting framing, {@code Connection} options, obsolete folding,
 * bare LF, chunk extensions, trailers, pipelining, missing or doubled Host, bodies that carry a
 * second request inside them) go through Sluice to a strictly parsing {@link RecordingBackend} over
 * pooled keep-alive connections. Whatever Sluice accepts or refuses, these must hold:
 * <ul>
 *   <li>the backend saw at most one request per client request, and none the client did not send
 *       (a request hidden in a body never surfaces);</li>
 *   <li>each request the backend saw carries exactly the body bytes the client framed; a request
 *       whose framing is ambiguous never reaches it;</li>
 *   <li>the backend never had to doubt its parse (its problem list is empty), so no pooled connection
 *       was reused after one;</li>
 *   <li>every client got the answer to its own request (the echoed case id), never another's;</li>
 *   <li>the cases the issue names as refusals (a {@code Connection} naming framing or Host, folding,
 *       bare LF, no or two Hosts, conflicting framing) got a 400 and a closed connection.</li>
 * </ul>
 * Seeded and bounded: {@value #CASES} cases, about ten seconds.
 */
class FrontEndDifferentialTest {
    static final int CASES = 2500;
    static final long SEED = Long.getLong("sluice.differential.seed", 20261201L);
    private static final String SMUGGLED = "GET /v1/smuggled HTTP/1.1\r\nHost: x\r\nX-Case: smuggled\r\n\r\n";

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("REC", RecordingBackend::new, RecordingBackend::port)
            .yaml("""
                    listeners:
                      - name: main
                        host: 127.0.0.1
                        port: 0
                        http2: { enabled: false }
                        routes: [ { path: /v1/, pool: rec } ]
                    admin: { scrape-interval: 0s }
                    pools:
                      rec:
                        health: { enabled: false }
                        retries: { attempts: 0 }
                        backends: [ { url: "http://127.0.0.1:${REC}" } ]
                    """)
            .build();
    private static boolean timedOut;

    /** What a generated request is and what may become of it. */
    record Case(String id, byte[] wire, byte[] body, boolean ambiguous, boolean mustRefuse, String what) {
    }

    @Test
    void invariantsHoldForMutatedRequests() throws Exception {
        Random rnd = new Random(SEED);
        Map<String, Case> cases = new LinkedHashMap<>();
        List<String> violations = new ArrayList<>();
        long deadline = System.nanoTime() + 120_000_000_000L;
        RecordingBackend backend = sluice.backend("REC");
        int port = sluice.port("main");
        int answered = 0;
        int refused = 0;
        for (int i = 0; i < CASES && System.nanoTime() < deadline; i++) {
            List<Case> batch = new ArrayList<>();
            batch.add(generate("c" + i, rnd));
            if (rnd.nextInt(6) == 0) {
                batch.add(generate("c" + i + "p", rnd)); // pipelined behind it, in the same write
            }
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            for (Case c : batch) {
                cases.put(c.id(), c);
                wire.write(c.wire());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                s.setSoTimeout(5000);
                boolean reset = false;
                try {
                    s.getOutputStream().write(wire.toByteArray());
                    s.getOutputStream().flush();
                } catch (IOException e) {
                    reset = true; // refused and closed while the rest of a large body was still being sent
                }
                InputStream in = new java.io.BufferedInputStream(s.getInputStream());
                boolean closed = false;
                for (Case c : batch) {
                    if (closed) {
                        break;
                    }
                    timedOut = false;
                    Answer a = readAnswer(in);
                    if (a == null) {
                        if (!c.mustRefuse() && !c.ambiguous() && batch.get(0) == c) {
                            violations.add(c.id() + " (" + c.what() + "): no answer");
                        } else if (c.mustRefuse() && !reset && timedOut) {
                            violations.add(c.id() + " (" + c.what() + "): neither answered nor closed; wire " + c.wire().length + " bytes: " + new String(c.wire(), 0, Math.min(400, c.wire().length), StandardCharsets.ISO_8859_1).replace("\r\n", "|"));
                        }
                        // Closed at once, the refusal itself can be lost to the TCP reset that unread
                        // client bytes cause; the connection is gone either way.
                        break;
                    }
                    closed = "close".equalsIgnoreCase(a.headers().get("connection"));
                    if (a.status() == 200) {
                        answered++;
                        if (!c.id().equals(a.headers().get("x-case"))) {
                            violations.add(c.id() + " (" + c.what() + "): got the answer to " + a.headers().get("x-case"));
                        }
                    } else if (a.status() == 400) {
                        refused++;
                    }
                    if (c.mustRefuse() && a.status() != 400) {
                        violations.add(c.id() + " (" + c.what() + "): expected 400, got " + a.status());
                    }
                    if (c.mustRefuse() && !closed) {
                        violations.add(c.id() + " (" + c.what() + "): refused but not closed");
                    }
                    if (a.status() >= 400 && !closed && a.headers().get("x-sluice-error") == null) {
                        violations.add(c.id() + " (" + c.what() + "): error " + a.status() + " not from Sluice");
                    }
                }
            }
        }
        // Everything the backend saw, against what the clients sent.
        Map<String, Integer> seen = new HashMap<>();
        for (RecordingBackend.Request r : backend.recorded()) {
            if (r.problem() != null && r.problem().startsWith("aborted")) {
                continue; // Sluice closed the upstream connection mid-request: that is how it aborts one
            }
            if (r.problem() != null) {
                violations.add("backend connection " + r.connection() + " request " + r.seq() + ": " + r.problem());
                continue;
            }
            String id = r.header("x-case");
            Case c = id == null ? null : cases.get(id);
            if (c == null) {
                violations.add("backend saw a request the client never sent: " + r.method() + " " + r.target() + " x-case=" + id);
                continue;
            }
            if (seen.merge(id, 1, Integer::sum) > 1) {
                violations.add(id + " (" + c.what() + "): reached the backend twice");
            }
            if (c.ambiguous()) {
                violations.add(id + " (" + c.what() + "): ambiguous framing reached the backend");
            } else if (!Arrays.equals(c.body(), r.body())) {
                violations.add(id + " (" + c.what() + "): backend body " + r.body().length + " bytes, client framed "
                        + c.body().length);
            }
        }
        System.out.printf("differential: seed %d, %d client requests, %d answered by the backend, %d refused with 400, "
                + "%d backend connections, %d violations%n", SEED, cases.size(), answered, refused,
                backend.connectionsOpened(), violations.size());
        assertTrue(violations.isEmpty(), violations.size() + " violations (seed " + SEED + "), first: "
                + violations.subList(0, Math.min(20, violations.size())));
        assertTrue(answered > CASES / 4, "most plain cases must be proxied: " + answered);
        assertTrue(refused > CASES / 10, "many mutated cases must be refused: " + refused);
        assertEquals(cases.size(), CASES + cases.keySet().stream().filter(k -> k.endsWith("p")).count());
    }

    // ---- generation ----

    private static final String[] CONNECTION_SAFE = {"close", "keep-alive", "x-foo", "te", "keep-alive, x-foo", "upgrade"};
    private static final String[] CONNECTION_PROTECTED = {"content-length", "Content-Length", "transfer-encoding",
        "host", "keep-alive, content-length", "x-foo,  Transfer-Encoding", "HOST"};
    private static final String[] BAD_TE = {"Chunked, chunked", "gzip, chunked", "identity", "xchunked", "chunked, gzip",
        "chunked;q=1", "\u000bchunked"};
    private static final String[] ODD_TE = {"chunked", "Chunked", "CHUNKED", "chunked "};

    static Case generate(String id, Random rnd) {
        byte[] body = body(rnd);
        List<String[]> headers = new ArrayList<>();
        boolean ambiguous = false;
        boolean mustRefuse = false;
        StringBuilder what = new StringBuilder();
        headers.add(new String[] {"Host", "localhost"});
        headers.add(new String[] {"X-Case", id});
        headers.add(new String[] {"Content-Type", "application/json"});
        // Framing.
        int framing = rnd.nextInt(10);
        boolean chunked = false;
        boolean corrupt = false;
        String chunkedBody = null;
        switch (framing) {
            case 0, 1, 2 -> {
                headers.add(new String[] {"Content-Length", String.valueOf(body.length)});
                what.append("content-length");
            }
            case 3, 4 -> {
                chunked = true;
                headers.add(new String[] {"Transfer-Encoding", ODD_TE[rnd.nextInt(ODD_TE.length)]});
                what.append("chunked");
            }
            case 5 -> {
                chunked = true;
                headers.add(new String[] {"Transfer-Encoding", "chunked"});
                headers.add(new String[] {"Content-Length", String.valueOf(body.length)});
                ambiguous = mustRefuse = true;
                what.append("content-length + chunked");
            }
            case 6 -> {
                headers.add(new String[] {"Content-Length", String.valueOf(body.length)});
                headers.add(new String[] {"Content-Length", String.valueOf(body.length + 1 + rnd.nextInt(5))});
                ambiguous = mustRefuse = true;
                what.append("two content-lengths");
            }
            case 7 -> {
                chunked = true;
                headers.add(new String[] {"Transfer-Encoding", BAD_TE[rnd.nextInt(BAD_TE.length)]});
                ambiguous = mustRefuse = true;
                what.append("bad transfer-encoding");
            }
            case 8 -> {
                String v = switch (rnd.nextInt(4)) {
                    case 0 -> "+" + body.length;
                    case 1 -> "0x" + Integer.toHexString(body.length);
                    case 2 -> body.length + ", " + body.length;
                    default -> body.length + "abc";
                };
                headers.add(new String[] {"Content-Length", v});
                ambiguous = true; // Sluice may refuse; it must never reach the backend with a guessed length
                mustRefuse = !v.contains(", ");
                if (v.contains(", ")) {
                    ambiguous = false; // RFC 9110 §8.6: a list of one repeated valid length may be taken as that length
                }
                what.append("odd content-length '").append(v).append('\'');
            }
            default -> {
                if (rnd.nextBoolean()) {
                    body = new byte[0];
                    what.append("no body");
                } else {
                    chunked = true;
                    corrupt = true;
                    headers.add(new String[] {"Transfer-Encoding", "chunked"});
                    ambiguous = mustRefuse = true;
                    what.append("chunked, a malformed chunk size mid-body");
                }
            }
        }
        if (chunked) {
            chunkedBody = chunk(body, rnd, !ambiguous && rnd.nextInt(3) == 0);
            if (corrupt) {
                // Valid chunks, then a chunk-size line that is not hex, then a request: cut off at the bad line.
                chunkedBody = chunkedBody.substring(0, chunkedBody.length() - "0\r\n\r\n".length())
                        + "zz\r\n" + SMUGGLED + "\r\n0\r\n\r\n";
            }
        }
        // Connection options.
        int conn = rnd.nextInt(8);
        if (conn < 2) {
            String v = CONNECTION_PROTECTED[rnd.nextInt(CONNECTION_PROTECTED.length)];
            headers.add(new String[] {"Connection", v});
            mustRefuse = true;
            what.append(", Connection: ").append(v);
        } else if (conn < 4) {
            String v = CONNECTION_SAFE[rnd.nextInt(CONNECTION_SAFE.length)];
            headers.add(new String[] {"Connection", v});
            if (v.contains("x-foo")) {
                headers.add(new String[] {"X-Foo", "bar"});
            }
            what.append(", Connection: ").append(v);
        }
        // Host: missing or doubled.
        int host = rnd.nextInt(20);
        if (host == 0) {
            headers.remove(0);
            mustRefuse = true;
            what.append(", no Host");
        } else if (host == 1) {
            headers.add(new String[] {"Host", "other.example"});
            mustRefuse = true;
            what.append(", two Hosts");
        }
        Collections.shuffle(headers.subList(1, headers.size()), rnd);
        StringBuilder head = new StringBuilder("POST /v1/echo HTTP/1.1\r\n");
        int fold = rnd.nextInt(25);
        int bareLf = rnd.nextInt(25);
        for (int i = 0; i < headers.size(); i++) {
            String[] h = headers.get(i);
            head.append(casing(h[0], rnd)).append(rnd.nextInt(4) == 0 ? ":" : ": ").append(h[1]);
            head.append(bareLf == 0 && i == 1 ? "\n" : "\r\n");
        }
        if (fold == 0) {
            head.append("X-Folded: a\r\n b\r\n");
            mustRefuse = true;
            what.append(", obs-fold");
        }
        if (bareLf == 0) {
            mustRefuse = true;
            what.append(", bare LF");
        }
        head.append("\r\n");
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        wire.writeBytes(chunked ? chunkedBody.getBytes(StandardCharsets.ISO_8859_1) : body);
        return new Case(id, wire.toByteArray(), body, ambiguous, mustRefuse, what.toString());
    }

    /** JSON that carries a complete second request inside it, so lost framing shows as a smuggled request. */
    private static byte[] body(Random rnd) {
        StringBuilder sb = new StringBuilder("{\"model\":\"demo\",\"x\":\"");
        int n = rnd.nextInt(4) == 0 ? 70_000 + rnd.nextInt(1000) : rnd.nextInt(200);
        for (int i = 0; i < n; i++) {
            sb.append((char) ('a' + rnd.nextInt(26)));
        }
        sb.append("\"}");
        return (rnd.nextBoolean() ? SMUGGLED + sb : sb + SMUGGLED).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String chunk(byte[] body, Random rnd, boolean trailers) {
        StringBuilder sb = new StringBuilder();
        String text = new String(body, StandardCharsets.ISO_8859_1);
        int at = 0;
        while (at < text.length()) {
            int len = Math.min(text.length() - at, 1 + rnd.nextInt(rnd.nextBoolean() ? 16 : 40_000));
            sb.append(Integer.toHexString(len));
            if (rnd.nextInt(5) == 0) {
                sb.append(";ext=").append(rnd.nextInt(100));
            }
            sb.append("\r\n").append(text, at, at + len).append("\r\n");
            at += len;
        }
        sb.append("0\r\n");
        if (trailers) {
            sb.append("X-Trailer: 1\r\nContent-Length: 5\r\n");
        }
        return sb.append("\r\n").toString();
    }

    private static String casing(String name, Random rnd) {
        return switch (rnd.nextInt(3)) {
            case 0 -> name.toLowerCase(Locale.ROOT);
            case 1 -> name.toUpperCase(Locale.ROOT);
            default -> name;
        };
    }

    // ---- reading answers ----

    record Answer(int status, Map<String, String> headers) {
    }

    /** One response with its body read, or null when the connection closed (or stayed silent) first. */
    private static Answer readAnswer(InputStream in) throws IOException {
        String status;
        try {
            status = RawHttp.readLine(in);
        } catch (SocketTimeoutException e) {
            timedOut = true;
            return null;
        } catch (IOException e) {
            return null; // reset: a refusal that came while the client was still sending
        }
        if (status == null) {
            return null;
        }
        Map<String, String> headers = new HashMap<>();
        String l;
        while ((l = RawHttp.readLine(in)) != null && !l.isEmpty()) {
            int c = l.indexOf(':');
            headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
        }
        String cl = headers.get("content-length");
        if (cl != null) {
            in.readNBytes(Integer.parseInt(cl));
        }
        return new Answer(Integer.parseInt(status.split(" ")[1]), headers);
    }
}
