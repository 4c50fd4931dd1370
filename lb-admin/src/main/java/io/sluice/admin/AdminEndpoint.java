package io.sluice.admin;

/** One admin route's logic. Runs on the connection's event loop: it must not block. */
@FunctionalInterface
public interface AdminEndpoint {
    AdminResponse handle(AdminRequest request) throws Exception;
}
