package io.sluice.core.config;

import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * {@code telemetry:}: metrics pushed to an OpenTelemetry collector, beside the Prometheus endpoint
 * that is always there. {@link #NONE} (nothing exported) unless configured.
 *
 * @param otlp the OTLP/HTTP metric export, or null for none
 */
public record TelemetryConfig(Otlp otlp) {
    public static final TelemetryConfig NONE = new TelemetryConfig(null);

    /**
     * OTLP over HTTP with protobuf bodies, to {@code <endpoint>/v1/metrics}.
     *
     * @param endpoint the collector's base URL, e.g. {@code http://127.0.0.1:4318}
     * @param interval how often the metrics are pushed
     * @param timeout  how long one push may take
     * @param headers  sent with every push (an API key, say): secrets, so never in logs or {@link #toString()}
     * @param resource resource attributes ({@code service.name} is {@code sluice} unless given)
     */
    public record Otlp(URI endpoint, Duration interval, Duration timeout, Map<String, String> headers,
                       Map<String, String> resource) {
        public Otlp {
            Objects.requireNonNull(endpoint, "endpoint");
            Objects.requireNonNull(interval, "interval");
            Objects.requireNonNull(timeout, "timeout");
            headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
            resource = Collections.unmodifiableMap(new LinkedHashMap<>(resource));
        }

        /** The metrics path of the collector. */
        public URI metricsUrl() {
            return URI.create(endpoint.toString().replaceAll("/+$", "") + "/v1/metrics");
        }

        /** Header names only: their values may be credentials. */
        @Override
        public String toString() {
            return "Otlp[endpoint=" + endpoint + ", interval=" + Durations.format(interval) + ", timeout="
                    + Durations.format(timeout) + ", headers=" + headers.keySet() + ", resource=" + resource + "]";
        }
    }
}
