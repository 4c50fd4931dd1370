package io.sluice.admin;

import java.util.concurrent.CompletionStage;

/**
 * An admin route whose answer takes time (draining a backend, starting a process, waiting for
 * readiness). It is called on the event loop and must return at once; the work runs elsewhere and
 * the response is written when the stage completes, on the connection's event loop.
 */
@FunctionalInterface
public interface AsyncAdminEndpoint {
    CompletionStage<AdminResponse> handle(AdminRequest request) throws Exception;
}
