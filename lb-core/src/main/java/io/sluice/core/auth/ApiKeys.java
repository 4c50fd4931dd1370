package io.sluice.core.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Client API keys, held only as SHA-256 hashes: a heap dump or a status page never shows a key.
 *
 * <p>Sources: a file with one key per line, {@code name key} or {@code name sha256:<hex>} (so the file
 * itself need not hold plaintext; {@code #} starts a comment), and an environment variable with
 * {@code name:key} pairs separated by commas. The name is what logs and rate limits use.
 */
public final class ApiKeys {
    private final Map<String, String> nameByHash;

    private ApiKeys(Map<String, String> nameByHash) {
        this.nameByHash = Map.copyOf(nameByHash);
    }

    public static ApiKeys load(Path file, String envValue) throws IOException {
        Map<String, String> keys = new HashMap<>();
        if (file != null) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split("\\s+");
                if (parts.length != 2) {
                    throw new IOException(file + ":" + (i + 1) + ": expected 'name key' or 'name sha256:<hex>'");
                }
                keys.put(hashOf(parts[1]), parts[0]);
            }
        }
        if (envValue != null && !envValue.isBlank()) {
            for (String pair : envValue.split(",")) {
                int colon = pair.indexOf(':');
                if (colon <= 0 || colon == pair.length() - 1) {
                    throw new IOException("API key list: expected name:key pairs separated by commas");
                }
                keys.put(hashOf(pair.substring(colon + 1).strip()), pair.substring(0, colon).strip());
            }
        }
        return new ApiKeys(keys);
    }

    private static String hashOf(String keyOrHash) {
        return keyOrHash.startsWith("sha256:") ? keyOrHash.substring(7).toLowerCase(java.util.Locale.ROOT) : sha256(keyOrHash);
    }

    public static String sha256(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the key's name, or null when the key is not known */
    public String authenticate(String presented) {
        return presented == null || presented.isEmpty() ? null : nameByHash.get(sha256(presented));
    }

    public int size() {
        return nameByHash.size();
    }
}
