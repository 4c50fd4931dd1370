package io.sluice.http;

import io.sluice.http.tls.Pem;
import io.sluice.http.tls.SelfSigned;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/** Certificates and clients for TLS tests: loopback only, trusting whatever the gateway presents. */
final class TestTls {
    private TestTls() {
    }

    /** Writes a fresh self-signed pair for {@code names} as {@code base.crt} and {@code base.key}; returns the cert. */
    static X509Certificate writePair(Path dir, String base, String... names) throws IOException, GeneralSecurityException {
        SelfSigned.Certificate c = SelfSigned.create(List.of(names), Duration.ofDays(2));
        // Key first: a reload that sees the new cert with the old key fails and is retried at the next poll.
        Pem.writeAtomically(dir.resolve(base + ".key"), Pem.toPem(c.keys().getPrivate()));
        Pem.writeAtomically(dir.resolve(base + ".crt"), Pem.toPem(c.cert()));
        return c.cert();
    }

    static SSLContext trustAll() throws GeneralSecurityException {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return ctx;
    }

    static HttpClient client(HttpClient.Version version) throws GeneralSecurityException {
        // Hostname verification is off for the loopback tests (certificates name localhost / test names).
        System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
        return HttpClient.newBuilder().version(version).sslContext(trustAll())
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** A new handshake to 127.0.0.1:port with SNI {@code sni} (null: none); the certificate it got. */
    static X509Certificate handshake(int port, String sni, String... protocols) throws Exception {
        try (SSLSocket s = (SSLSocket) trustAll().getSocketFactory().createSocket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            SSLParameters p = s.getSSLParameters();
            if (sni != null) {
                p.setServerNames(List.of(new SNIHostName(sni)));
            }
            if (protocols.length > 0) {
                p.setProtocols(protocols);
            }
            s.setSSLParameters(p);
            s.startHandshake();
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        }
    }

    record Result(int exit, String out) {
    }

    /** Runs a command line tool with a bounded wait; the process is killed (by its own handle) on timeout. */
    static Result run(List<String> command, Duration timeout) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[][] out = new byte[1][];
        Thread reader = new Thread(() -> {
            try {
                out[0] = p.getInputStream().readAllBytes();
            } catch (IOException e) {
                out[0] = new byte[0];
            }
        });
        reader.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        reader.join(10_000);
        return new Result(p.exitValue(), out[0] == null ? "" : new String(out[0]));
    }

    static boolean available(String tool) {
        try {
            return run(List.of("sh", "-c", "command -v " + tool), Duration.ofSeconds(10)).exit() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
