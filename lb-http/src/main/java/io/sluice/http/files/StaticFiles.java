package io.sluice.http.files;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.sluice.core.config.StaticConfig;
import io.sluice.core.exchange.ExchangeTarget;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.GatewayErrors;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code static:} route target: files under the route's root, for GET and HEAD. Conditional
 * requests (ETag from mtime and size, Last-Modified; 304), single byte ranges (206, 416, If-Range),
 * precompressed {@code .br}/{@code .gz} siblings chosen by Accept-Encoding, a per-route
 * Cache-Control, a single-page-app fallback.
 *
 * <p>No path leaves the root: {@link FilePaths} refuses dot segments, encoded separators, backslashes
 * and control characters, and the real path of every file served (symlinks followed) must lie under
 * the root's real path. Hidden names (a leading dot) are 404; there are no directory listings.
 *
 * <p>Plain HTTP/1.1 connections get a zero-copy {@link DefaultFileRegion}; TLS connections and HTTP/2
 * streams get 64 KiB reads, each written through the context while the channel is writable (the next
 * reads wait for writability), at most 16 in a row before the loop serves others. Opening and stat
 * run on the event loop (local files); the file is closed exactly once, by the region or here.
 */
public final class StaticFiles implements ExchangeTarget {
    private static final Logger log = LoggerFactory.getLogger(StaticFiles.class);
    static final int CHUNK = 64 * 1024;
    private static final int CHUNKS_PER_TURN = 16;
    private static final String ALLOW = "GET, HEAD";

    private final ChannelHandlerContext ctx;
    private RequestContext rc;
    private FileChannel file;   // a chunked transfer in progress
    private long position;
    private long end;
    private int generation;     // tells a pump scheduled for an earlier exchange from the current one

    /** @param ctx the context of the exchange handler that drives this target */
    public StaticFiles(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** A file chosen to answer: the real path, its attributes, and its content coding (null, br, gzip). */
    private record Rep(Path path, long size, long mtime, String encoding) {
        String etag() {
            return "\"" + Long.toHexString(mtime) + "-" + Long.toHexString(size) + (encoding == null ? "" : "-" + encoding) + "\"";
        }
    }

    @Override
    public void onRequest(RequestContext rc, HttpRequest head) {
        this.rc = rc;
        generation++;
        try {
            serve(rc, head);
        } catch (IOException e) {
            log.warn("static file {}: {}", rc.path(), e.toString());
            closeFile();
            error(rc, HttpResponseStatus.INTERNAL_SERVER_ERROR, "file_error", "cannot read the file");
        } finally {
            ReferenceCountUtil.release(head); // a body, if any, is not wanted
        }
    }

    private void serve(RequestContext rc, HttpRequest req) throws IOException {
        StaticConfig config = ((io.sluice.core.route.RouteTarget.Static) rc.target()).config();
        HttpMethod method = req.method();
        boolean headOnly = HttpMethod.HEAD.equals(method);
        if (!headOnly && !HttpMethod.GET.equals(method)) {
            FullHttpResponse r = GatewayErrors.response(ctx.alloc(), HttpResponseStatus.METHOD_NOT_ALLOWED,
                    "method_not_allowed", method + " is not allowed on static files");
            r.headers().set(HttpHeaderNames.ALLOW, ALLOW);
            rc.writeAndFlush(r);
            return;
        }
        FilePaths.Result resolved = FilePaths.resolve(rc.path(), rc.route().pathPrefix());
        if (resolved instanceof FilePaths.Redirect redirect) {
            redirect(rc, req, redirect.location());
            return;
        }
        if (resolved instanceof FilePaths.Refused refused) {
            error(rc, HttpResponseStatus.valueOf(refused.status()), refused.status() == 400 ? "bad_path" : "file_not_found",
                    refused.status() == 400 ? "bad path: " + refused.reason() : "no file " + rc.path());
            return;
        }
        FilePaths.Found found = (FilePaths.Found) resolved;
        Path root;
        try {
            root = config.root().toRealPath();
        } catch (java.nio.file.NoSuchFileException e) { // warned about at load; it may be created later
            error(rc, HttpResponseStatus.NOT_FOUND, "file_not_found", "no file " + rc.path());
            return;
        }
        Path candidate = root;
        for (String s : found.segments()) {
            candidate = candidate.resolve(s);
        }
        Rep rep = regular(root, candidate, null, true);
        if (rep == DIRECTORY) {
            if (!found.directory()) {
                redirect(rc, req, rc.path() + "/");
                return;
            }
            candidate = candidate.resolve(config.index());
            rep = regular(root, candidate, null, false);
        } else if (rep != null && found.directory()) {
            rep = null; // "/file.txt/"
        }
        if (rep == null && config.spaFallback() != null && spaRequest(req, found)) {
            candidate = root.resolve(config.spaFallback().replaceFirst("^/+", "")).normalize();
            rep = regular(root, candidate, null, false);
        }
        if (rep == null) {
            error(rc, HttpResponseStatus.NOT_FOUND, "file_not_found", "no file " + rc.path());
            return;
        }
        HttpHeaders in = req.headers();
        boolean vary = false;
        if (config.precompressed()) {
            Rep br = regular(root, sibling(rep.path(), ".br"), "br", false);
            Rep gz = regular(root, sibling(rep.path(), ".gz"), "gzip", false);
            vary = br != null || gz != null;
            if (vary) {
                String ae = in.get(HttpHeaderNames.ACCEPT_ENCODING);
                double qBr = br == null ? 0 : quality(ae, "br");
                double qGz = gz == null ? 0 : quality(ae, "gzip");
                if (qBr > 0 && qBr >= qGz) {
                    rep = br;
                } else if (qGz > 0) {
                    rep = gz;
                }
            }
        }
        // The type by the name asked for (a symlink's target may be named otherwise), as nginx does.
        respond(rc, req, config, rep, MimeTypes.of(candidate.getFileName() == null ? "" : candidate.getFileName().toString()),
                vary, headOnly);
    }

    private static final Rep DIRECTORY = new Rep(null, 0, 0, null);

    /**
     * The file at {@code p} when it is a regular file whose real path lies under {@code root};
     * {@link #DIRECTORY} for a directory under the root when {@code directories}; else null.
     */
    private static Rep regular(Path root, Path p, String encoding, boolean directories) throws IOException {
        Path real;
        BasicFileAttributes a;
        try {
            real = p.toRealPath();
            if (!real.startsWith(root)) {
                log.debug("static file {}: its real path {} is outside the root", p, real);
                return null;
            }
            a = Files.readAttributes(real, BasicFileAttributes.class);
        } catch (java.nio.file.FileSystemException e) {
            return null; // no such file, not a directory ("/file.txt/x"), no permission, a name too long, a loop
        }
        if (a.isDirectory()) {
            return directories ? DIRECTORY : null;
        }
        return a.isRegularFile() ? new Rep(real, a.size(), a.lastModifiedTime().toMillis(), encoding) : null;
    }

    private static Path sibling(Path file, String suffix) {
        return file.resolveSibling(file.getFileName() + suffix);
    }

    /** A GET for a page of the app: no file, no extension in the last segment, and the client takes HTML. */
    private static boolean spaRequest(HttpRequest req, FilePaths.Found found) {
        if (!HttpMethod.GET.equals(req.method())) {
            return false;
        }
        List<String> s = found.segments();
        if (!s.isEmpty() && s.get(s.size() - 1).indexOf('.') >= 0) {
            return false;
        }
        String accept = req.headers().get(HttpHeaderNames.ACCEPT);
        return accept != null && accept.toLowerCase(Locale.ROOT).contains("text/html");
    }

    /** The q-value of {@code coding} in an Accept-Encoding value ({@code *} applies to codings not named); 0 if absent. */
    static double quality(String acceptEncoding, String coding) {
        if (acceptEncoding == null) {
            return 0;
        }
        double star = 0;
        for (String part : acceptEncoding.split(",")) {
            String[] p = part.trim().split(";");
            String token = p[0].trim().toLowerCase(Locale.ROOT);
            double q = 1;
            for (int i = 1; i < p.length; i++) {
                String param = p[i].trim();
                if (param.startsWith("q=") || param.startsWith("Q=")) {
                    try {
                        q = Double.parseDouble(param.substring(2).trim());
                    } catch (NumberFormatException e) {
                        q = 0;
                    }
                }
            }
            if (token.equals(coding) || coding.equals("gzip") && token.equals("x-gzip")) {
                return q;
            }
            if (token.equals("*")) {
                star = q;
            }
        }
        return star;
    }

    private void respond(RequestContext rc, HttpRequest req, StaticConfig config, Rep rep, String type, boolean vary,
                         boolean headOnly) throws IOException {
        HttpHeaders in = req.headers();
        String etag = rep.etag();
        long mtimeSeconds = rep.mtime() / 1000;
        String lastModified = DateFormatter.format(new Date(mtimeSeconds * 1000));
        HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HttpHeaders h = resp.headers();
        h.set(HttpHeaderNames.ETAG, etag);
        h.set(HttpHeaderNames.LAST_MODIFIED, lastModified);
        if (config.cacheControl() != null) {
            h.set(HttpHeaderNames.CACHE_CONTROL, config.cacheControl());
        }
        if (vary) {
            h.set(HttpHeaderNames.VARY, "Accept-Encoding");
        }
        String inm = in.get(HttpHeaderNames.IF_NONE_MATCH);
        boolean notModified;
        if (inm != null) {
            notModified = etagMatches(inm, etag);
        } else {
            Date ims = DateFormatter.parseHttpDate(in.get(HttpHeaderNames.IF_MODIFIED_SINCE, ""));
            notModified = ims != null && mtimeSeconds <= ims.getTime() / 1000;
        }
        if (notModified) {
            resp.setStatus(HttpResponseStatus.NOT_MODIFIED);
            rc.write(resp);
            rc.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        h.set(HttpHeaderNames.CONTENT_TYPE, type);
        h.set("x-content-type-options", "nosniff");
        h.set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
        if (rep.encoding() != null) {
            h.set(HttpHeaderNames.CONTENT_ENCODING, rep.encoding());
        }
        long size = rep.size();
        long start = 0;
        long length = size;
        String range = in.get(HttpHeaderNames.RANGE);
        if (range != null && ifRangeHolds(in.get(HttpHeaderNames.IF_RANGE), etag, mtimeSeconds)) {
            long[] r = Ranges.single(range, size);
            if (r == Ranges.UNSATISFIABLE) {
                FullHttpResponse e = GatewayErrors.response(ctx.alloc(), HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                        "range_not_satisfiable", "range " + range + " is outside the file (" + size + " bytes)");
                e.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size);
                e.headers().set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
                rc.writeAndFlush(e);
                return;
            }
            if (r != null) {
                start = r[0];
                length = r[1] - r[0] + 1;
                resp.setStatus(HttpResponseStatus.PARTIAL_CONTENT);
                h.set(HttpHeaderNames.CONTENT_RANGE, "bytes " + r[0] + "-" + r[1] + "/" + size);
            }
        }
        h.set(HttpHeaderNames.CONTENT_LENGTH, length);
        if (headOnly || length == 0) {
            rc.write(resp);
            rc.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        FileChannel fc = FileChannel.open(rep.path(), StandardOpenOption.READ);
        if (zeroCopy()) {
            rc.write(resp);
            // The response ends once the kernel took the whole region, not when it was queued: until then the
            // exchange is in progress, so a slow client's download is not taken for an idle connection.
            io.netty.channel.ChannelPromise sent = ctx.newPromise();
            RequestContext r = rc;
            sent.addListener(f -> {
                if (!f.isSuccess()) {
                    ctx.close(); // the length was promised; the region is released (fc closed) by Netty
                } else if (rc == r) {
                    r.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                }
            });
            rc.write(new DefaultFileRegion(fc, start, length), sent); // the region closes fc when released
            rc.flush();
            return;
        }
        file = fc;
        position = start;
        end = start + length;
        rc.write(resp);
        pump();
    }

    /** Plain HTTP/1.1: the kernel copies the file to the socket. TLS and HTTP/2 need the bytes in buffers. */
    private boolean zeroCopy() {
        return !(ctx.channel() instanceof Http2StreamChannel) && ctx.pipeline().get(SslHandler.class) == null;
    }

    /** Reads and writes the next chunks while the channel takes them; ends the response after the last. */
    private void pump() {
        RequestContext r = rc;
        if (file == null || r == null) {
            return;
        }
        int turn = 0;
        while (position < end && ctx.channel().isWritable() && turn < CHUNKS_PER_TURN) {
            int len = (int) Math.min(CHUNK, end - position);
            ByteBuf buf = ctx.alloc().ioBuffer(len);
            int read;
            try {
                read = buf.writeBytes(file, position, len);
                if (read <= 0) {
                    throw new EOFException("the file shrank while it was sent");
                }
            } catch (IOException e) {
                buf.release();
                log.warn("static file {}: {}", r.path(), e.toString());
                closeFile();
                ctx.close(); // the length was promised: the client must see the response cut off
                return;
            }
            position += read;
            turn++;
            r.write(new DefaultHttpContent(buf));
            if (file == null || rc != r) {
                return; // a filter ended the response (abort), or the client left
            }
        }
        if (position >= end) {
            closeFile();
            r.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        r.flush();
        if (ctx.channel().isWritable()) {
            int g = generation;
            ctx.executor().execute(() -> {
                if (g == generation) {
                    pump(); // the other channels of this loop had their turn
                }
            });
        } // else: onClientWritabilityChanged resumes
    }

    private static boolean etagMatches(String ifNoneMatch, String etag) {
        String tag = etag;
        for (String t : ifNoneMatch.split(",")) {
            t = t.trim();
            if (t.equals("*")) {
                return true;
            }
            if (t.startsWith("W/")) {
                t = t.substring(2); // weak comparison (RFC 9110 §13.1.2)
            }
            if (t.equals(tag)) {
                return true;
            }
        }
        return false;
    }

    /** If-Range: a strong ETag that must equal ours, or a date that must equal Last-Modified; absent holds. */
    private static boolean ifRangeHolds(String ifRange, String etag, long mtimeSeconds) {
        if (ifRange == null) {
            return true;
        }
        String v = ifRange.trim();
        if (v.startsWith("\"") || v.startsWith("W/")) {
            return v.equals(etag);
        }
        Date d = DateFormatter.parseHttpDate(v);
        return d != null && d.getTime() / 1000 == mtimeSeconds;
    }

    private void redirect(RequestContext rc, HttpRequest req, String location) {
        location = location.replaceFirst("^/{2,}", "/"); // "//host/" would send the browser to another site
        String uri = req.uri();
        int q = uri.indexOf('?');
        FullHttpResponse r = GatewayErrors.response(ctx.alloc(), HttpResponseStatus.MOVED_PERMANENTLY, "moved",
                "see " + location);
        r.headers().remove(GatewayErrors.ERROR_HEADER);
        r.headers().set(HttpHeaderNames.LOCATION, q < 0 ? location : location + uri.substring(q));
        rc.writeAndFlush(r);
    }

    private void error(RequestContext rc, HttpResponseStatus status, String code, String message) {
        rc.writeAndFlush(GatewayErrors.response(ctx.alloc(), status, code, message));
    }

    @Override
    public void onRequestContent(HttpContent content) {
        content.release(); // GET and HEAD: a body is not read
    }

    @Override
    public void onClientWritabilityChanged(boolean writable) {
        if (writable) {
            pump();
        }
    }

    @Override
    public void onClientClosed() {
        abort();
    }

    @Override
    public void abort() {
        closeFile();
        rc = null;
    }

    private void closeFile() {
        FileChannel f = file;
        file = null;
        if (f != null) {
            try {
                f.close();
            } catch (IOException e) {
                log.debug("closing a static file: {}", e.toString());
            }
        }
    }
}
