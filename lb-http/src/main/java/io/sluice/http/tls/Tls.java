package io.sluice.http.tls;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one TLS policy of every listener: TLS 1.2 and 1.3 only, AEAD ciphers with forward secrecy
 * (HTTP/2's list, RFC 7540 §9.2.2), ALPN {@code h2} then {@code http/1.1}.
 *
 * <p>BoringSSL through netty-tcnative when it loads: much cheaper handshakes and no JDK
 * SSLEngine copying. Its contexts are reference-counted ({@link SslProvider#OPENSSL_REFCNT}) so a
 * replaced certificate's native memory is freed once no connection uses it any more.
 */
public final class Tls {
    private static final Logger log = LoggerFactory.getLogger(Tls.class);
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    private static volatile SslProvider provider;

    private Tls() {
    }

    /** OPENSSL_REFCNT, or JDK after one warning when the native library cannot load. */
    public static SslProvider provider() {
        SslProvider p = provider;
        if (p == null) {
            synchronized (Tls.class) {
                p = provider;
                if (p == null) {
                    if (OpenSsl.isAvailable()) {
                        p = SslProvider.OPENSSL_REFCNT;
                        log.info("TLS: {} (netty-tcnative)", OpenSsl.versionString());
                    } else {
                        p = SslProvider.JDK;
                        log.warn("TLS: netty-tcnative (BoringSSL) could not load, falling back to the JDK's TLS (slower handshakes): {}",
                                String.valueOf(OpenSsl.unavailabilityCause()));
                    }
                    provider = p;
                }
            }
        }
        return p;
    }

    /** The context of a TLS-ALPN-01 validation handshake (RFC 8737): ALPN acme-tls/1 only. */
    static SslContext acmeChallengeContext(PrivateKey key, X509Certificate cert) throws SSLException {
        return SslContextBuilder.forServer(key, cert)
                .sslProvider(provider())
                .protocols(PROTOCOLS)
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        AcmeAwareSniHandler.ACME_TLS_1))
                .build();
    }

    /** A server context for one certificate; the caller owns one reference. */
    public static SslContext serverContext(boolean http2, PrivateKey key, X509Certificate... chain) throws SSLException {
        return serverContext(provider(), http2, key, chain);
    }

    static SslContext serverContext(SslProvider provider, boolean http2, PrivateKey key, X509Certificate... chain) throws SSLException {
        String[] alpn = http2 ? new String[] {ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1}
                : new String[] {ApplicationProtocolNames.HTTP_1_1};
        return SslContextBuilder.forServer(key, chain)
                .sslProvider(provider)
                .protocols(PROTOCOLS)
                .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        alpn))
                .build();
    }

    /**
     * A client context trusting only {@code trusted} and offering only {@code protocol} over ALPN (the
     * warm-up's clients of its own listener); the caller owns one reference.
     */
    public static SslContext clientContext(X509Certificate trusted, String protocol) throws SSLException {
        return SslContextBuilder.forClient()
                .sslProvider(provider())
                .protocols(PROTOCOLS)
                .trustManager(trusted)
                .endpointIdentificationAlgorithm("HTTPS")
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        protocol))
                .build();
    }
}
