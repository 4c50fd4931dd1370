package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.config.ConfigException;
import io.sluice.core.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A static root that does not exist yet loads with a warning and answers 404 until it appears; a file is refused. */
class StaticRootTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .yaml("""
                    listeners:
                      - { host: 127.0.0.1, port: 0, routes: [ { path: /, static: "${DIR}/later" } ] }
                    """)
            .build();

    @Test
    void aMissingRootAnswers404UntilItIsCreated() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.get("/").exchange();
        }
        assertEquals(404, r.status());
        assertEquals("file_not_found", r.header("x-sluice-error"));
        Path root = sluice.dir().resolve("later");
        Files.createDirectories(root);
        Files.writeString(root.resolve("index.html"), "<p>here now</p>");
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.get("/").exchange();
        }
        assertEquals(200, r.status());
        assertEquals("<p>here now</p>", r.body().text());
    }

    @Test
    void aRootThatIsAFileIsAConfigMistake() throws Exception {
        Path file = Files.writeString(sluice.dir().resolve("not-a-dir"), "x");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                listeners: [ { port: 0, routes: [ { path: /, static: "%s" } ] } ]
                """.formatted(file.toString().replace("\\", "/")), "static.yaml", k -> null));
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
    }
}
