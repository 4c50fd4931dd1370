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
 */
public record AcmeConfig(String directory, String email, List<String> domains, String storage,
                         Duration renewBefore, Duration checkInterval, String trustedCa) {
    public static final String LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory";

    public AcmeConfig {
        Objects.requireNonNull(directory, "directory");
        domains = List.copyOf(domains);
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(renewBefore, "renewBefore");
        Objects.requireNonNull(checkInterval, "checkInterval");
    }
}
