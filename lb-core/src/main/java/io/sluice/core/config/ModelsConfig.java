package io.sluice.core.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The top-level {@code models:} section.
 *
 * @param aliases alias to target as written, in file order; a target may itself be an alias (the loader
 *                has checked that every chain ends at a model some pool serves, without cycles)
 */
public record ModelsConfig(Map<String, String> aliases) {
    public static final ModelsConfig NONE = new ModelsConfig(Map.of());

    public ModelsConfig {
        aliases = aliases == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(aliases));
    }
}
