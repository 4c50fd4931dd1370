package io.sluice.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Who may use the admin API ({@code admin: true} routes) and how long operator actions may take.
 *
 * <p>The API changes what the gateway does (backends, processes, config), so it is not open to the
 * world: a client on a loopback address may use it without a token (so {@code curl localhost:8000/api/…}
 * works on the host) unless {@code loopback-without-token} is off; any other client needs
 * {@code Authorization: Bearer <token>}, and with no token configured it is refused.
 *
 * @param token                empty when none is configured; never logged or returned (see {@link #toString})
 * @param scrapeInterval       how often each backend's vLLM {@code /metrics} and {@code /v1/models} are read; 0 = never
 * @param inference            launching inference servers ({@code admin.inference}); {@link InferenceConfig#NONE} when absent
 * @param drainTimeout         how long {@code DELETE /api/v1/backends/{id}} waits for in-flight requests
 * @param allowedHosts         {@code Host} names (lower case) a loopback client may use without a token, besides
 *                             {@code localhost} and loopback addresses: anything else may be DNS rebinding
 */
public record AdminConfig(String token, boolean loopbackWithoutToken, Duration drainTimeout, Duration scrapeInterval,
                          InferenceConfig inference, java.util.List<String> allowedHosts) {
    public static final AdminConfig DEFAULT = new AdminConfig("", true, Duration.ofMinutes(10), Duration.ofSeconds(5),
            InferenceConfig.NONE);

    public AdminConfig(String token, boolean loopbackWithoutToken, Duration drainTimeout, Duration scrapeInterval,
                       InferenceConfig inference) {
        this(token, loopbackWithoutToken, drainTimeout, scrapeInterval, inference, java.util.List.of());
    }

    public AdminConfig {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(scrapeInterval, "scrapeInterval");
        Objects.requireNonNull(inference, "inference");
        allowedHosts = allowedHosts.stream().map(h -> h.toLowerCase(java.util.Locale.ROOT)).toList();
    }

    public boolean hasToken() {
        return !token.isEmpty();
    }

    /** Redacts the token: configs end up in logs and debuggers. */
    @Override
    public String toString() {
        return "AdminConfig[token=" + (hasToken() ? "<redacted>" : "<none>") + ", loopbackWithoutToken="
                + loopbackWithoutToken + ", drainTimeout=" + drainTimeout + ", scrapeInterval=" + scrapeInterval + ", inference=" + inference + ", allowedHosts=" + allowedHosts + "]";
    }
}
