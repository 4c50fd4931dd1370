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

    /** A certificate authority of a test's own: issues leaf certificates for servers and clients. */
    record Ca(java.security.KeyPair keys, X509Certificate cert) {
        static Ca create(String cn) throws GeneralSecurityException {
            java.security.KeyPair keys = SelfSigned.newKeyPair();
            org.bouncycastle.asn1.x500.X500Name name = new org.bouncycastle.asn1.x500.X500Name("CN=" + cn);
            return new Ca(keys, sign(keys, name, name, keys.getPublic(), true, null));
        }

        /** A leaf for {@code names} (DNS names, or IP literals) signed by this CA; names may be empty for a client. */
        SelfSigned.Certificate issue(String cn, String... names) throws GeneralSecurityException {
            java.security.KeyPair leaf = SelfSigned.newKeyPair();
            org.bouncycastle.asn1.x509.GeneralName[] sans = java.util.Arrays.stream(names)
                    .map(n -> new org.bouncycastle.asn1.x509.GeneralName(n.matches("[0-9.]+")
                            ? org.bouncycastle.asn1.x509.GeneralName.iPAddress : org.bouncycastle.asn1.x509.GeneralName.dNSName, n))
                    .toArray(org.bouncycastle.asn1.x509.GeneralName[]::new);
            return new SelfSigned.Certificate(leaf, sign(keys, org.bouncycastle.asn1.x500.X500Name.getInstance(
                    cert.getSubjectX500Principal().getEncoded()), new org.bouncycastle.asn1.x500.X500Name("CN=" + cn),
                    leaf.getPublic(), false, sans));
        }

        private static X509Certificate sign(java.security.KeyPair issuer, org.bouncycastle.asn1.x500.X500Name issuerName,
                                            org.bouncycastle.asn1.x500.X500Name subject, java.security.PublicKey key,
                                            boolean ca, org.bouncycastle.asn1.x509.GeneralName[] sans)
                throws GeneralSecurityException {
            java.time.Instant now = java.time.Instant.now();
            try {
                var b = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(issuerName,
                        new java.math.BigInteger(64, new java.security.SecureRandom()),
                        java.util.Date.from(now.minus(Duration.ofHours(1))), java.util.Date.from(now.plus(Duration.ofDays(2))),
                        subject, key)
                        .addExtension(org.bouncycastle.asn1.x509.Extension.basicConstraints, true,
                                new org.bouncycastle.asn1.x509.BasicConstraints(ca));
                if (ca) {
                    b.addExtension(org.bouncycastle.asn1.x509.Extension.keyUsage, true, new org.bouncycastle.asn1.x509.KeyUsage(
                            org.bouncycastle.asn1.x509.KeyUsage.keyCertSign | org.bouncycastle.asn1.x509.KeyUsage.cRLSign));
                }
                if (sans != null && sans.length > 0) {
                    b.addExtension(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName, false,
                            new org.bouncycastle.asn1.x509.GeneralNames(sans));
                }
                return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(
                        b.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
            } catch (org.bouncycastle.operator.OperatorCreationException | IOException e) {
                throw new GeneralSecurityException(e);
            }
        }

        /** Writes the CA certificate as {@code base.pem}. */
        Path write(Path dir, String base) throws IOException {
            Path f = dir.resolve(base + ".pem");
            Pem.writeAtomically(f, Pem.toPem(cert));
            return f;
        }
    }

    /** Writes {@code c} as {@code base.crt} and {@code base.key}. */
    static void write(Path dir, String base, SelfSigned.Certificate c) throws IOException {
        Pem.writeAtomically(dir.resolve(base + ".key"), Pem.toPem(c.keys().getPrivate()));
        Pem.writeAtomically(dir.resolve(base + ".crt"), Pem.toPem(c.cert()));
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
