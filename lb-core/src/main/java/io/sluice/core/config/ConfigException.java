package io.sluice.core.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A configuration file that cannot be used, with every problem found in it, each located at the
 * offending YAML node so the operator can fix them all in one pass instead of one per restart.
 */
public final class ConfigException extends Exception {

    /** One problem; {@code line} and {@code column} are 1-based, 0 when unknown; {@code path} is empty at the top level. */
    public record Problem(String file, int line, int column, String path, String message) {
        /** {@code config/sluice.yaml:12:9: pools.vllm.backends[0].url: message}, the form editors and IDEs link. */
        @Override
        public String toString() {
            return file + (line > 0 ? ":" + line + ":" + column : "") + ": " + (path.isEmpty() ? "" : path + ": ") + message;
        }
    }

    private final List<Problem> problems;

    public ConfigException(List<Problem> problems) {
        this(problems, null);
    }

    public ConfigException(List<Problem> problems, Throwable cause) {
        super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")), cause);
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("no problems");
        }
        this.problems = List.copyOf(problems);
    }

    /** All problems, in file order. */
    public List<Problem> problems() {
        return problems;
    }

    public String file() {
        return problems.get(0).file();
    }

    /** Line of the first problem. */
    public int line() {
        return problems.get(0).line();
    }

    public int column() {
        return problems.get(0).column();
    }

    public String path() {
        return problems.get(0).path();
    }
}
