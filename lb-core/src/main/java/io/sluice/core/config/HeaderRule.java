package io.sluice.core.config;

import java.util.Objects;

/**
 * One header rule of a route or pool ({@code headers.request} / {@code headers.response}).
 *
 * @param name  the header name as written (compare case-insensitively)
 * @param value null for {@link Op#REMOVE}
 */
public record HeaderRule(Op op, String name, String value) {
    /** Applied in this order within one direction: every REMOVE, then every SET, then every ADD. */
    public enum Op { SET, ADD, REMOVE }

    public HeaderRule {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(name, "name");
        if ((value == null) != (op == Op.REMOVE)) {
            throw new IllegalArgumentException("a " + op + " rule " + (op == Op.REMOVE ? "has no" : "needs a") + " value");
        }
    }
}
