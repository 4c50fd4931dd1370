package io.sluice.core.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A {@code static:} route target: files under {@code root} answer the route's paths (issue 15).
 *
 * @param root         the directory served (relative paths from the working directory, as every path of the file)
 * @param index        the file answering a directory ({@code index.html})
 * @param cacheControl the {@code Cache-Control} of every answer; null to send none
 * @param spaFallback  a file under {@code root} answering paths that match no file (a single-page app's
 *                     {@code index.html}); null for a 404
 * @param precompressed true to prefer {@code .br}/{@code .gz} siblings the client accepts
 */
public record StaticConfig(Path root, String index, String cacheControl, String spaFallback, boolean precompressed) {
    public StaticConfig {
        Objects.requireNonNull(root, "root");
        index = index == null ? "index.html" : index;
    }
}
