package io.sluice.core.config;

import java.util.List;

/**
 * How a pool's {@code https://} backends are spoken to ({@code pools.<name>.tls}).
 *
 * @param caFile     PEM bundle of the certificate authorities to trust; null: the JDK's trust store
 * @param verify     verify the backend's certificate chain and name; false only for development
 * @param serverName the name sent as SNI and checked against the certificate; null: each backend's url host
 * @param clientCert PEM chain presented to backends that ask for a client certificate; null: none
 * @param clientKey  the private key of {@code clientCert} (PEM, PKCS#8, PKCS#1 or SEC1)
 * @param protocols  TLS versions offered
 */
public record UpstreamTlsConfig(String caFile, boolean verify, String serverName, String clientCert, String clientKey,
                                List<String> protocols) {
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    public static final UpstreamTlsConfig DEFAULT = new UpstreamTlsConfig(null, true, null, null, null, PROTOCOLS);

    public UpstreamTlsConfig {
        protocols = List.copyOf(protocols);
        if ((clientCert == null) != (clientKey == null)) {
            throw new IllegalArgumentException("clientCert and clientKey go together");
        }
    }
}
