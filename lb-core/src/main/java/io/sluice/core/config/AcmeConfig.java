package io.sluice.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Automatic certificates from an ACME CA (Let's Encrypt by default), validated over HTTP-01 through
 * a plain listener with {@code redirect-to-https}.
 *
 * @param directory     the CA's directory URL
 * @param email         the account contact, or null
 * @param storage       a directory for the account key, certificate keys and certificates
 * @param renewBefore   renew once the certificate expires within this (Let's Encrypt's 90-day certificates: 30d)
 * @param checkInterval how often expiry is checked (and a failed order retried)
 * @param trustedCa     a PEM bundle trusted for the CA's own HTTPS (test CAs such as Pebble), or null for the JDK's
 * @param challenge     {@code http-01} (through a redirect-to-https listener on port 80) or {@code tls-alpn-01}
 *                      (answered by this TLS listener itself, which must be reachable on port 443)
 */
public record AcmeConfig(String directory, String email, List<String> domains, String storage,
                         Duration renewBefore, Duration checkInterval, String trustedCa, String challenge) {
    public static final String LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory";
    public static final String HTTP_01 = "http-01";
    public static final String TLS_ALPN_01 = "tls-alpn-01";

    public AcmeConfig {
        Objects.requireNonNull(directory, "directory");
        domains = List.copyOf(domains);
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(renewBefore, "renewBefore");
        Objects.requireNonNull(checkInterval, "checkInterval");
        Objects.requireNonNull(challenge, "challenge");
    }
}
