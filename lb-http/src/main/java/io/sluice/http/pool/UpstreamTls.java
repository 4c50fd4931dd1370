package io.sluice.http.pool;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.UpstreamTlsConfig;
import io.sluice.http.tls.Pem;
import io.sluice.http.tls.Tls;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client TLS context of one pool's {@code https://} backends, built from its {@code tls:} when
 * the config is loaded or reloaded (never per connection), and what each new connection's
 * {@link SslHandler} is made of: SNI and the name verified are the pool's {@code server-name}, else
 * the backend's url host; the chain is verified against the {@code ca-file} or the JDK's trust store,
 * and the name with endpoint identification {@code HTTPS} (RFC 2818 / 6125), unless {@code verify: false}.
 *
 * <p>The provider is the listeners' (BoringSSL when it loads, else the JDK); with BoringSSL the
 * context is reference-counted: this object owns one reference, each engine holds its own, so
 * {@link #release} on a reload frees the native context once its last connection is gone.
 */
public final class UpstreamTls {
    private static final Logger log = LoggerFactory.getLogger(UpstreamTls.class);

    private final UpstreamTlsConfig config;
    private final SslContext context;
    private final String fingerprint; // the settings and the bytes of the files they name

    private UpstreamTls(UpstreamTlsConfig config, SslContext context, String fingerprint) {
        this.config = config;
        this.context = context;
        this.fingerprint = fingerprint;
    }

    /** Built from the same settings and the same file contents: a reload keeps the older one (and its pooled connections). */
    boolean sameAs(UpstreamTls other) {
        return other != null && fingerprint.equals(other.fingerprint) && context.getClass() == other.context.getClass();
    }

    private static String fingerprint(UpstreamTlsConfig c) throws IOException {
        try {
            java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
            d.update(c.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (String f : new String[] {c.caFile(), c.clientCert(), c.clientKey()}) {
                if (f != null) {
                    d.update(java.nio.file.Files.readAllBytes(Path.of(f)));
                }
            }
            return java.util.HexFormat.of().formatHex(d.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads the files the config names; a WARN when verification is off. */
    public static UpstreamTls build(String pool, UpstreamTlsConfig config) throws IOException {
        return build(pool, config, Tls.provider());
    }

    static UpstreamTls build(String pool, UpstreamTlsConfig c, SslProvider provider) throws IOException {
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(provider)
                .protocols(c.protocols())
                // HTTP/1.1 only upstream: say so, so that a server preferring h2 does not pick it.
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_1_1))
                .endpointIdentificationAlgorithm(c.verify() ? "HTTPS" : null);
        if (!c.verify()) {
            log.warn("pool {}: tls.verify is false: backend certificates and names are NOT checked;"
                    + " anyone on the path can impersonate the backends (development only)", pool);
            b.trustManager(InsecureTrustManagerFactory.INSTANCE);
        } else if (c.caFile() != null) {
            b.trustManager(Pem.readChain(Path.of(c.caFile())));
        } // else the JDK's default trust store
        if (c.clientCert() != null) {
            b.keyManager(Pem.readKey(Path.of(c.clientKey())), Pem.readChain(Path.of(c.clientCert())));
        }
        String fingerprint = fingerprint(c);
        try {
            return new UpstreamTls(c, b.build(), fingerprint);
        } catch (IOException | RuntimeException e) {
            throw new IOException("pool " + pool + ": cannot build the upstream TLS context: " + e.getMessage(), e);
        }
    }

    public UpstreamTlsConfig config() {
        return config;
    }

    /** The name sent as SNI and verified: {@code server-name}, else the backend's url host. */
    public String serverName(Backend b) {
        return config.serverName() != null ? config.serverName() : b.host();
    }

    /** A client handler for a new connection to {@code b}; its handshake may take {@code handshakeMillis}. */
    public SslHandler newHandler(ByteBufAllocator alloc, Backend b, long handshakeMillis) {
        String name = serverName(b);
        SslHandler h = context.newHandler(alloc, name, b.port());
        SSLEngine engine = h.engine();
        SSLParameters p = engine.getSSLParameters();
        if (config.verify()) {
            p.setEndpointIdentificationAlgorithm("HTTPS");
        }
        if (!NetUtil.isValidIpV4Address(name) && !NetUtil.isValidIpV6Address(name)) {
            // Explicitly, also for dot-less names (the engines only derive SNI from names with a dot).
            p.setServerNames(List.of(new SNIHostName(name)));
        }
        engine.setSSLParameters(p);
        h.setHandshakeTimeoutMillis(handshakeMillis);
        return h;
    }

    /** Drops this object's reference; connections still open keep the context alive until they close. */
    public void release() {
        ReferenceCountUtil.release(context);
    }

    /** A failed handshake as a short reason for an operator and a client; never a stack trace. */
    public static String reason(Throwable cause, String name) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof CertificateExpiredException || t instanceof CertificateNotYetValidException) {
                return "certificate expired or not yet valid";
            }
            if (t instanceof CertPathBuilderException || t instanceof CertPathValidatorException) {
                return "certificate not trusted";
            }
            if (t instanceof java.security.cert.CertificateException && t.getMessage() != null
                    && t.getMessage().toLowerCase(Locale.ROOT).contains("match")) {
                return "certificate name does not match '" + name + "'";
            }
            if (t instanceof NotSslRecordException) {
                return "the backend did not answer with TLS (a plain-HTTP server behind an https:// url?)";
            }
            if (t instanceof SslHandshakeTimeoutException) {
                return "handshake timed out";
            }
            if (t instanceof ClosedChannelException) {
                return "the backend closed the connection during the handshake";
            }
        }
        String m = root(cause).getMessage();
        if (m == null) {
            return "handshake failed (" + root(cause).getClass().getSimpleName() + ")";
        }
        m = m.replaceAll("[\\r\\n]+", " ");
        if (m.toLowerCase(Locale.ROOT).contains("alert")) {
            return "the backend refused the handshake (" + m + ")"; // e.g. certificate_required: it wants a client certificate
        }
        return "handshake failed (" + (m.length() > 200 ? m.substring(0, 200) + "…" : m) + ")";
    }

    private static Throwable root(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }
}
