package io.sluice.admin.config;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.admin.AdminException;
import io.sluice.admin.AdminResponse;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.config.ConfigException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/** {@code POST /api/v1/config/reload}: re-read the config file and apply it, or say why not. */
public final class ConfigEndpoints {

    /** Reads, validates and applies the file; blocking (file I/O, simulators starting). */
    @FunctionalInterface
    public interface Reloader {
        Object reload() throws Exception;
    }

    private final Reloader reloader;
    private final Executor blocking;

    public ConfigEndpoints(Reloader reloader, Executor blocking) {
        this.reloader = reloader;
        this.blocking = blocking;
    }

    public AdminRoutes register(AdminRoutes routes) {
        return routes.addAsync(HttpMethod.POST, "/api/v1/config/reload", r -> CompletableFuture.supplyAsync(() -> {
            try {
                return AdminResponse.ok(reloader.reload());
            } catch (ConfigException e) {
                // Every problem with file:line:column; the running config stays.
                throw new AdminException(HttpResponseStatus.BAD_REQUEST, "invalid_config",
                        "config rejected, the running config stays:\n" + e.getMessage());
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, blocking));
    }
}
