package io.sluice.sim.provider;

/** One provider's HTTP API: authentication, routes, and the bodies of every answer. */
interface Dialect {
    /** Decides the whole answer to {@code call}; runs on the connection's event loop. */
    Reply handle(Call call);
}
