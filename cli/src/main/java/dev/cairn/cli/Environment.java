package dev.cairn.cli;

import java.util.Map;

/** The process environment, injectable so tests can set variables such as SOURCE_DATE_EPOCH. */
public final class Environment {
    private static volatile Map<String, String> current = System.getenv();

    private Environment() {
    }

    public static String get(String name) {
        return current.get(name);
    }

    /** Whether we run in CI (CI=true): no progress bars. */
    public static boolean isCi() {
        return "true".equalsIgnoreCase(get("CI"));
    }

    static Map<String, String> swap(Map<String, String> env) {
        Map<String, String> old = current;
        current = env;
        return old;
    }
}
