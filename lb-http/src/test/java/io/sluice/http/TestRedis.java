package io.sluice.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A throwaway {@code redis-server} (Debian's package; bin/test installs it) on a free loopback port,
 * without persistence, stopped by its PID. It can be stopped and started again on the same port, to
 * test what the gateway does while Redis is away and once it is back.
 */
final class TestRedis implements AutoCloseable {
    private final String binary;
    private final int port;
    private Process process;

    private TestRedis(String binary, int port) {
        this.binary = binary;
        this.port = port;
    }

    /** A server not started yet (its port is chosen now, so configs can name it); null when redis-server is missing. */
    static TestRedis onFreePort() {
        String bin = binary();
        if (bin == null) {
            return null;
        }
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return new TestRedis(bin, s.getLocalPort());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Skips the test when redis-server is missing, except under CI, where that fails it. */
    static TestRedis require(TestRedis redis) {
        if (redis == null) {
            String why = "no redis-server executable (apt-get install redis-server; bin/test does)";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail("the shared rate-limit tests cannot run under CI: " + why);
            }
            System.err.println("shared rate-limit tests skipped: " + why);
            Assumptions.abort(why);
        }
        return redis;
    }

    private static String binary() {
        for (String dir : List.of("/usr/bin", "/usr/local/bin", "/usr/sbin")) {
            Path p = Path.of(dir, "redis-server");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    int port() {
        return port;
    }

    synchronized void start() throws IOException, InterruptedException {
        if (process != null) {
            return;
        }
        process = new ProcessBuilder(binary, "--port", String.valueOf(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Await.until("redis-server answering PING on port " + port, Duration.ofSeconds(10), this::answers);
    }

    synchronized void stop() throws InterruptedException {
        if (process == null) {
            return;
        }
        process.destroy(); // SIGTERM to this PID only
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        process = null;
    }

    /** SIGSTOP or SIGCONT to this server's PID: a Redis that hangs, then goes on. */
    synchronized void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    /** One command in RESP, the reply's first line. */
    String command(String... args) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(2000);
            StringBuilder b = new StringBuilder("*" + args.length + "\r\n");
            for (String a : args) {
                b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
            }
            OutputStream out = s.getOutputStream();
            out.write(b.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            return RawHttp.readLine(in);
        }
    }

    /** A field of {@code INFO}, e.g. {@code connected_clients}. */
    long info(String field) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(2000);
            s.getOutputStream().write("*1\r\n$4\r\nINFO\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            RawHttp.readLine(in); // $length
            for (String line; (line = RawHttp.readLine(in)) != null && !line.isEmpty() || line != null; ) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim());
                }
            }
            throw new IOException("no " + field + " in INFO");
        }
    }

    /** Every key, as the reply's raw RESP text (for checking what is stored). */
    String keys() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(2000);
            s.getOutputStream().write("*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            String first = RawHttp.readLine(in);
            StringBuilder all = new StringBuilder(first).append('\n');
            int n = first.startsWith("*") ? Integer.parseInt(first.substring(1)) : 0;
            for (int i = 0; i < 2 * n; i++) {
                all.append(RawHttp.readLine(in)).append('\n');
            }
            return all.toString();
        }
    }

    private boolean answers() {
        try {
            return "+PONG".equals(command("PING"));
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
