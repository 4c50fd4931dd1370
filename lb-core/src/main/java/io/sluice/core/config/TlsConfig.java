package io.sluice.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * TLS termination on a listener. Certificates come from PEM files, a development self-signed
 * certificate, ACME, or several of these; the client's SNI picks among them by the names they carry.
 *
 * @param certificates   PEM files, watched for changes
 * @param selfSigned     a generated certificate for {@code localhost}, for development only
 * @param acme           automatic certificates, or null
 * @param reloadInterval how often the PEM files are checked for changes
 * @param hsts           {@code Strict-Transport-Security} max-age; zero sends no header
 */
public record TlsConfig(List<CertificateConfig> certificates, boolean selfSigned, AcmeConfig acme,
                        Duration reloadInterval, Duration hsts) {
    public static final Duration DEFAULT_RELOAD = Duration.ofSeconds(5);

    public TlsConfig {
        certificates = List.copyOf(certificates);
        Objects.requireNonNull(reloadInterval, "reloadInterval");
        Objects.requireNonNull(hsts, "hsts");
    }
}
