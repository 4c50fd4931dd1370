package io.sluice.http.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM in and out: chains, keys in PKCS#8, PKCS#1 or SEC1 (what certbot, Caddy and openssl write). */
public final class Pem {
    private Pem() {
    }

    public static X509Certificate[] readChain(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            Collection<? extends java.security.cert.Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new IOException(file + ": no certificate in the file");
            }
            return certs.toArray(new X509Certificate[0]);
        } catch (CertificateException e) {
            throw new IOException(file + ": not a PEM certificate chain: " + e.getMessage(), e);
        }
    }

    public static PrivateKey readKey(Path file) throws IOException {
        return readKey(Files.newBufferedReader(file), file.toString());
    }

    static PrivateKey readKey(Reader reader, String what) throws IOException {
        try (PEMParser p = new PEMParser(reader)) {
            Object o;
            while ((o = p.readObject()) != null) {
                JcaPEMKeyConverter c = new JcaPEMKeyConverter();
                if (o instanceof PEMKeyPair kp) {
                    return c.getPrivateKey(kp.getPrivateKeyInfo());
                }
                if (o instanceof PrivateKeyInfo pki) {
                    return c.getPrivateKey(pki);
                }
            }
        }
        throw new IOException(what + ": no unencrypted private key in the file");
    }

    public static String toPem(Object... objects) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            for (Object o : objects) {
                // Keys as PKCS#8: what every TLS stack reads, with the EC curve inside.
                w.writeObject(o instanceof PrivateKey k ? new JcaPKCS8Generator(k, null) : o);
            }
        }
        return out.toString();
    }

    /** Replaces {@code file} in one rename, so a reader never sees half a file. */
    public static void writeAtomically(Path file, String content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The DNS names a certificate is valid for (SANs, else the CN), lower-case. */
    public static List<String> names(X509Certificate cert) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (((Integer) san.get(0)) == GeneralName.dNSName) {
                        names.add(((String) san.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException e) {
            // fall back to the CN
        }
        if (names.isEmpty()) {
            for (String part : cert.getSubjectX500Principal().getName().split(",")) {
                if (part.startsWith("CN=")) {
                    names.add(part.substring(3).toLowerCase(Locale.ROOT));
                }
            }
        }
        return names;
    }

    static PrivateKey readKey(String pem) throws IOException {
        return readKey(new StringReader(pem), "key");
    }
}
