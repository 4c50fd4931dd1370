package io.sluice.http.tls;

import io.sluice.core.config.AcmeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.challenge.TlsAlpn01Challenge;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.provider.GenericAcmeProvider;
import org.shredzone.acme4j.util.KeyPairUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Automatic certificates for one TLS listener, as Caddy does them: an ACME account, an order for
 * the configured domains validated over HTTP-01 (answered by a {@code redirect-to-https}
 * listener through {@link AcmeChallenges}) or TLS-ALPN-01 (answered by this listener's own
 * handshakes, see {@link AcmeAwareSniHandler}), the certificate and its key kept on disk, and renewal
 * once expiry is within {@code renew-before}. A new certificate goes into the
 * {@link CertificateStore}, so new handshakes get it while open connections keep theirs.
 *
 * <p>The protocol is acme4j's; this class only decides when, and where things are kept. All of it
 * runs on its own thread: ACME round trips take seconds.
 *
 * <p>Storage layout: {@code account.pem} (account key pair), {@code <first domain>.key.pem} and
 * {@code <first domain>.crt.pem} (the certificate chain), each replaced atomically.
 */
public final class AcmeManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AcmeManager.class);
    private static final String ID = "acme";
    private static final Duration MAX_RETRY = Duration.ofMinutes(10);

    static {
        // acme4j builds CSRs and reads key pairs through the "BC" provider.
        if (java.security.Security.getProvider("BC") == null) {
            java.security.Security.addProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider());
        }
    }

    private final String listener;
    private final AcmeConfig config;
    private final CertificateStore store;
    private final AcmeChallenges challenges;
    private final Path storage;
    private final ScheduledExecutorService thread;
    private volatile X509Certificate current;
    private volatile int issued;

    public AcmeManager(String listener, AcmeConfig config, CertificateStore store, AcmeChallenges challenges) {
        this.listener = listener;
        this.config = config;
        this.store = store;
        this.challenges = challenges;
        this.storage = Path.of(config.storage());
        this.thread = Executors.newSingleThreadScheduledExecutor(
                new io.netty.util.concurrent.DefaultThreadFactory("sluice-acme-" + listener, true));
    }

    /**
     * Serves the stored certificate at once if there is one (else a temporary self-signed one, so
     * handshakes do not fail outright), then checks, orders and renews in the background.
     */
    public void start() throws IOException, GeneralSecurityException {
        Files.createDirectories(storage);
        if (Files.exists(certFile()) && Files.exists(keyFile())) {
            X509Certificate[] chain = Pem.readChain(certFile());
            store.put(ID, Pem.readKey(keyFile()), chain, null);
            // Served meanwhile either way; ordered again at once if the domains in the config changed.
            current = Pem.names(chain[0]).containsAll(config.domains()) ? chain[0] : null;
        } else {
            SelfSigned.Certificate tmp = SelfSigned.create(config.domains(), Duration.ofDays(7));
            store.put(ID, tmp.keys().getPrivate(), new X509Certificate[] {tmp.cert()}, null);
        }
        thread.execute(this::check);
    }

    /** Certificates obtained from the CA since start. */
    public int issued() {
        return issued;
    }

    private Path certFile() {
        return storage.resolve(fileBase() + ".crt.pem");
    }

    private Path keyFile() {
        return storage.resolve(fileBase() + ".key.pem");
    }

    private String fileBase() {
        return config.domains().get(0).replace("*", "_wildcard");
    }

    private void check() {
        Duration next = config.checkInterval();
        try {
            X509Certificate cert = current;
            Instant renewAt = cert == null ? Instant.MIN : cert.getNotAfter().toInstant().minus(config.renewBefore());
            if (!Instant.now().isBefore(renewAt)) {
                log.info("listener {}: {} a certificate for {} from {}", listener, cert == null ? "ordering" : "renewing",
                        config.domains(), config.directory());
                obtain();
            }
        } catch (Exception e) {
            next = config.checkInterval().compareTo(MAX_RETRY) < 0 ? config.checkInterval() : MAX_RETRY;
            log.warn("listener {}: ACME order for {} failed, retrying in {}: {}", listener, config.domains(), next, e.toString());
            if (e instanceof InterruptedException) {
                return;
            }
        }
        try {
            thread.schedule(this::check, next.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // shutting down
        }
    }

    private void obtain() throws AcmeException, IOException, GeneralSecurityException, InterruptedException {
        Session session = new Session(URI.create(config.directory()), new Provider(config.trustedCa()));
        AccountBuilder ab = new AccountBuilder().agreeToTermsOfService().useKeyPair(accountKey());
        if (config.email() != null) {
            ab.addEmail(config.email());
        }
        Account account = ab.create(session); // finds the existing account for this key
        Order order = account.newOrder().domains(config.domains()).create();
        for (Authorization auth : order.getAuthorizations()) {
            if (auth.getStatus() != Status.VALID) {
                authorize(auth);
            }
        }
        KeyPair domainKey = KeyPairUtils.createECKeyPair("secp256r1"); // a fresh key per certificate
        order.execute(domainKey);
        Status status = order.waitForCompletion(Duration.ofMinutes(2));
        if (status != Status.VALID) {
            throw new AcmeException("order ended " + status + order.getError().map(p -> ": " + p).orElse(""));
        }
        List<X509Certificate> chain = order.getCertificate().getCertificateChain();
        Pem.writeAtomically(keyFile(), Pem.toPem(domainKey.getPrivate()));
        Pem.writeAtomically(certFile(), Pem.toPem(chain.toArray()));
        store.put(ID, domainKey.getPrivate(), chain.toArray(new X509Certificate[0]), null);
        current = chain.get(0);
        issued++;
    }

    private void authorize(Authorization auth) throws AcmeException, InterruptedException, IOException, GeneralSecurityException {
        if (AcmeConfig.TLS_ALPN_01.equals(config.challenge())) {
            authorizeTlsAlpn(auth);
            return;
        }
        Http01Challenge challenge = auth.findChallenge(Http01Challenge.class).orElseThrow(() ->
                new AcmeException("the CA offers no http-01 challenge for " + auth.getIdentifier()));
        challenges.put(challenge.getToken(), challenge.getAuthorization());
        try {
            challenge.trigger();
            Status s = challenge.waitForCompletion(Duration.ofMinutes(2));
            if (s != Status.VALID) {
                throw new AcmeException("http-01 for " + auth.getIdentifier().getDomain() + " ended " + s
                        + challenge.getError().map(p -> ": " + p).orElse(""));
            }
        } finally {
            challenges.remove(challenge.getToken());
        }
    }

    /** RFC 8737: the CA handshakes with this listener offering ALPN acme-tls/1 and checks the certificate it gets. */
    private void authorizeTlsAlpn(Authorization auth) throws AcmeException, InterruptedException, IOException, GeneralSecurityException {
        TlsAlpn01Challenge challenge = auth.findChallenge(TlsAlpn01Challenge.class).orElseThrow(() ->
                new AcmeException("the CA offers no tls-alpn-01 challenge for " + auth.getIdentifier()));
        String domain = auth.getIdentifier().getDomain();
        KeyPair kp = KeyPairUtils.createKeyPair(2048); // acme4j signs the challenge certificate with SHA256withRSA
        store.putAlpnChallenge(domain, kp.getPrivate(), challenge.createCertificate(kp, auth.getIdentifier()));
        try {
            challenge.trigger();
            Status s = challenge.waitForCompletion(Duration.ofMinutes(2));
            if (s != Status.VALID) {
                throw new AcmeException("tls-alpn-01 for " + domain + " ended " + s
                        + challenge.getError().map(p -> ": " + p).orElse(""));
            }
        } finally {
            store.removeAlpnChallenge(domain);
        }
    }

    private KeyPair accountKey() throws IOException {
        Path file = storage.resolve("account.pem");
        if (Files.exists(file)) {
            try (var r = Files.newBufferedReader(file)) {
                return KeyPairUtils.readKeyPair(r);
            }
        }
        KeyPair kp = KeyPairUtils.createECKeyPair("secp256r1");
        StringWriter w = new StringWriter();
        KeyPairUtils.writeKeyPair(kp, w);
        Pem.writeAtomically(file, w.toString());
        return kp;
    }

    /** acme4j's generic provider, trusting an extra CA for the directory's own HTTPS when configured (Pebble). */
    private static final class Provider extends GenericAcmeProvider {
        private final String trustedCa;

        Provider(String trustedCa) {
            this.trustedCa = trustedCa;
        }

        @Override
        public HttpClient createHttpClient(NetworkSettings settings) {
            HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(settings.getTimeout())
                    .followRedirects(HttpClient.Redirect.NORMAL);
            if (trustedCa != null) {
                b.sslContext(trusting(Path.of(trustedCa)));
            }
            return b.build();
        }

        private static SSLContext trusting(Path pem) {
            try (InputStream in = Files.newInputStream(pem)) {
                KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
                ks.load(null, null);
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    ks.setCertificateEntry("ca-" + i++, c);
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(ks);
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, tmf.getTrustManagers(), null);
                return ctx;
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalStateException("cannot use trusted-ca " + pem + ": " + e, e);
            }
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
