package io.sluice.core.provider;

/**
 * A provider's error in one shape for every provider. Sent to clients as
 * {@code {"error":{"message":...,"code":...,"provider":...}}} with the provider's HTTP status.
 *
 * @param status     the HTTP status the provider answered (kept), or 502 for an in-band stream error
 * @param message    the provider's own message (never a key)
 * @param code       the provider's error code or type ({@code rate_limit_exceeded}, {@code overloaded_error}, ...)
 * @param retryAfter the provider's {@code Retry-After}, or null
 */
public record ProviderError(int status, String message, String code, String retryAfter) {
}
