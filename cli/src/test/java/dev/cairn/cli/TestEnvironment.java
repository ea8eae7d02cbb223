package dev.cairn.cli;

import java.util.Map;

/** Lets tests in other packages of the command line set the environment cairn sees ({@link Environment}). */
public final class TestEnvironment {
    private TestEnvironment() {
    }

    /** Replaces the environment; returns the previous one, to be restored. */
    public static Map<String, String> swap(Map<String, String> env) {
        return Environment.swap(env);
    }
}
