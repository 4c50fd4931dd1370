package io.sluice.http.tls;

import java.util.concurrent.ConcurrentHashMap;

/** Pending ACME HTTP-01 challenges: token to key authorization, written by the ACME client, read by redirecting listeners. */
public final class AcmeChallenges {
    public static final String PATH = "/.well-known/acme-challenge/";
    private final ConcurrentHashMap<String, String> tokens = new ConcurrentHashMap<>();

    public void put(String token, String keyAuthorization) {
        tokens.put(token, keyAuthorization);
    }

    public void remove(String token) {
        tokens.remove(token);
    }

    /** The key authorization for a request path, or null. */
    public String answer(String path) {
        return path.startsWith(PATH) ? tokens.get(path.substring(PATH.length())) : null;
    }
}
