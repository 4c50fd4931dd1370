package io.sluice.http.timeout;

/**
 * A timeout checked by its event loop's {@link Sweeper} on every tick, instead of by a timer task of
 * its own. Arming and disarming are two field writes, so a per-request timeout costs no scheduling
 * and no allocation, and an idle connection holds no timer object.
 */
public abstract class Watch {
    Watch next;
    boolean linked;
    boolean armed;
    long tickNanos;   // the tick its timeout asked for when armed

    /** Called on the event loop at every tick while armed; compare {@code now} with a deadline. */
    protected abstract void check(long nowNanos);

    public final boolean armed() {
        return armed;
    }
}
