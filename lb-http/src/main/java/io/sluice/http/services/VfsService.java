package io.sluice.http.services;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.core.config.ServicesConfig;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * {@code service: vfs}: the browser app's state. {@code POST <prefix>backup} stores the posted JSON
 * (it must parse; at most {@code max-size}) in {@code services.vfs.file}, atomically: a temporary file
 * in the same directory, mode 0600, written and fsynced, then moved over the old one; answers
 * {@code {"ok":true,"bytes":N}}. {@code GET <prefix>restore} returns it, or {@code {}} when there is none.
 */
final class VfsService extends JsonService {
    private static final ObjectReader STRICT = Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    VfsService(ChannelHandlerContext ctx, BuiltinServices services) {
        super(ctx, services);
    }

    private ServicesConfig.VfsConfig config() {
        return services.config().vfs();
    }

    @Override
    long maxBytes() {
        ServicesConfig.VfsConfig c = config();
        return c == null ? 0 : c.maxBytes();
    }

    @Override
    Answer check(RequestContext rc, HttpRequest req, String rest) {
        if (config() == null) {
            return Answer.error(HttpResponseStatus.NOT_FOUND, "service_not_enabled", "service vfs is not enabled");
        }
        HttpMethod m = req.method();
        switch (rest) {
            case "backup":
                return HttpMethod.POST.equals(m) ? null : methodNotAllowed("POST", rc.path());
            case "restore":
                return HttpMethod.GET.equals(m) || HttpMethod.HEAD.equals(m) ? null : methodNotAllowed("GET, HEAD", rc.path());
            default:
                return notFound(rc.path());
        }
    }

    @Override
    Answer handle(RequestContext rc, HttpRequest req, String rest, byte[] body) throws IOException {
        ServicesConfig.VfsConfig c = config();
        if (c == null) {
            return Answer.error(HttpResponseStatus.NOT_FOUND, "service_not_enabled", "service vfs is not enabled");
        }
        Path file = c.file().toAbsolutePath();
        if (rest.equals("restore")) {
            try {
                return Answer.ok(HttpResponseStatus.OK, new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
            } catch (NoSuchFileException e) {
                return Answer.ok(HttpResponseStatus.OK, "{}");
            }
        }
        try {
            JsonNode n = STRICT.readTree(body);
            if (n == null || n.isMissingNode()) {
                return Answer.error(HttpResponseStatus.BAD_REQUEST, "invalid_json", "the body is empty");
            }
        } catch (IOException e) {
            return Answer.error(HttpResponseStatus.BAD_REQUEST, "invalid_json", "the body is not JSON");
        }
        write(file, body);
        return Answer.ok(HttpResponseStatus.OK, "{\"ok\":true,\"bytes\":" + body.length + "}");
    }

    /** Temporary file (0600) in the same directory, fsync, atomic rename, fsync of the directory. */
    static void write(Path file, byte[] bytes) throws IOException {
        Path dir = file.getParent();
        Files.createDirectories(dir);
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        FileAttribute<?>[] attrs = posix ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                : new FileAttribute<?>[0];
        Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp", attrs);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true); // the rename itself survives a crash
        } catch (IOException e) {
            // not every file system lets a directory be opened
        }
    }
}
