package io.sluice.http.files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Path resolution, ranges and Accept-Encoding of the static target, without a server. */
class FilePathsTest {
    static FilePaths.Found found(String path, String prefix) {
        return assertInstanceOf(FilePaths.Found.class, FilePaths.resolve(path, prefix), path);
    }

    static int refused(String path) {
        return assertInstanceOf(FilePaths.Refused.class, FilePaths.resolve(path, "/"), path).status();
    }

    @Test
    void prefixesAreStripped() {
        assertEquals(List.of(), found("/", "/").segments());
        assertEquals(List.of("a", "b.js"), found("/dist/a/b.js", "/dist").segments());
        assertEquals(List.of("a"), found("/dist/a/", "/dist/").segments());
        assertEquals(true, found("/dist/a/", "/dist/").directory());
        assertEquals(List.of("a", "b"), found("/a//b", "/").segments());
        assertEquals("/dist/", ((FilePaths.Redirect) FilePaths.resolve("/dist", "/dist")).location());
        assertEquals("/dist/", ((FilePaths.Redirect) FilePaths.resolve("/dist", "/dist/")).location());
        assertEquals(404, ((FilePaths.Refused) FilePaths.resolve("/distx", "/dist")).status());
        assertEquals(List.of("a b.txt"), found("/a%20b.txt", "/").segments());
        assertEquals(List.of("%2e%2e"), found("/%252e%252e", "/").segments(), "decoded once");
    }

    @Test
    void escapesAreRefused() {
        for (String p : List.of("/../x", "/a/./b", "/a/%2e%2e/b", "/%2E./x", "/a%2fb", "/a%2Fb", "/a%5cb", "/a\\b",
                "/a%00b", "/a%0d%0ab", "/%zz", "/%e0%80", "/%c0%ae%c0%ae/x")) {
            assertEquals(400, refused(p), p);
        }
        assertEquals(404, refused("/.env"));
        assertEquals(404, refused("/a/.git/config"));
        assertEquals(404, refused("/%2egit/config"));
    }

    @Test
    void singleRanges() {
        assertArrayEquals(new long[] {0, 9}, Ranges.single("bytes=0-9", 100));
        assertArrayEquals(new long[] {90, 99}, Ranges.single("bytes=-10", 100));
        assertArrayEquals(new long[] {0, 99}, Ranges.single("bytes=-1000", 100));
        assertArrayEquals(new long[] {50, 99}, Ranges.single("bytes=50-", 100));
        assertArrayEquals(new long[] {50, 99}, Ranges.single("bytes=50-1000", 100));
        assertSame(Ranges.UNSATISFIABLE, Ranges.single("bytes=100-", 100));
        assertSame(Ranges.UNSATISFIABLE, Ranges.single("bytes=-0", 100));
        assertSame(Ranges.UNSATISFIABLE, Ranges.single("bytes=0-", 0));
        assertNull(Ranges.single("bytes=0-1,5-6", 100));
        assertNull(Ranges.single("bytes=9-1", 100));
        assertNull(Ranges.single("items=0-1", 100));
        assertNull(Ranges.single("bytes=a-b", 100));
        assertNull(Ranges.single("bytes=-", 100));
    }

    @Test
    void acceptEncodingQualities() {
        assertEquals(1.0, StaticFiles.quality("gzip, br", "br"));
        assertEquals(0.0, StaticFiles.quality("gzip;q=1, br;q=0", "br"));
        assertEquals(0.5, StaticFiles.quality("*;q=0.5", "gzip"));
        assertEquals(1.0, StaticFiles.quality("x-gzip", "gzip"));
        assertEquals(0.0, StaticFiles.quality(null, "gzip"));
        assertEquals(0.0, StaticFiles.quality("identity", "br"));
        assertEquals(0.0, StaticFiles.quality("br;q=oops", "br"));
    }

    @Test
    void mimeTypes() {
        assertEquals("text/html; charset=utf-8", MimeTypes.of("INDEX.HTML"));
        assertEquals("application/wasm", MimeTypes.of("a.wasm"));
        assertEquals("application/octet-stream", MimeTypes.of("Makefile"));
        assertEquals("application/octet-stream", MimeTypes.of("x.unknown"));
    }
}
