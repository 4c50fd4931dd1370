package io.sluice.core.config;

import java.util.Objects;

/** A certificate chain and its private key, both PEM files (the key in PKCS#8 or PKCS#1). */
public record CertificateConfig(String cert, String key) {
    public CertificateConfig {
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
    }
}
