package dev.cairn.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.opentest4j.AssertionFailedError;

/**
 * Byte-exact comparisons with a readable hex diff around the first mismatch.
 *
 * <p>Golden files live in {@code src/test/resources/golden/} of the module. They are regenerated
 * only deliberately: run the test with {@code -Dgolden.update=true}, review the diff, commit.
 */
public final class Golden {
    static final int CONTEXT = 16;

    private Golden() {
    }

    public static void assertBytesEqual(byte[] expected, byte[] actual, String what) {
        int n = Math.min(expected.length, actual.length);
        int mismatch = java.util.Arrays.mismatch(expected, actual);
        if (mismatch < 0) {
            return;
        }
        throw new AssertionFailedError(describe(what, expected, actual, mismatch, 0)
                + (mismatch == n ? " (one is a prefix of the other)" : ""));
    }

    static String describe(String what, byte[] expected, byte[] actual, int at, long base) {
        int from = Math.max(0, at - CONTEXT);
        return what + " differs at offset " + (base + at) + " (expected " + expected.length + " bytes, got "
                + actual.length + ")\n  expected @" + (base + from) + ": " + hex(expected, from, at + CONTEXT)
                + "\n  actual   @" + (base + from) + ": " + hex(actual, from, at + CONTEXT);
    }

    private static String hex(byte[] b, int from, int to) {
        int end = Math.min(b.length, to);
        return from >= end ? "(end)" : HexFormat.ofDelimiter(" ").formatHex(b, from, end);
    }

    /** Streams both files in 1 MiB chunks (fine for multi-GiB files). */
    public static void assertFilesEqual(Path expected, Path actual) {
        try (InputStream a = Files.newInputStream(expected); InputStream b = Files.newInputStream(actual)) {
            byte[] x = new byte[1 << 20];
            byte[] y = new byte[1 << 20];
            long base = 0;
            while (true) {
                int nx = a.readNBytes(x, 0, x.length);
                int ny = b.readNBytes(y, 0, y.length);
                int m = java.util.Arrays.mismatch(x, 0, nx, y, 0, ny);
                if (m >= 0) {
                    throw new AssertionFailedError(describe(actual + " vs " + expected,
                            java.util.Arrays.copyOf(x, nx), java.util.Arrays.copyOf(y, ny), m, base));
                }
                if (nx < x.length) {
                    return;
                }
                base += nx;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Compares with {@code src/test/resources/golden/<name>}; {@code -Dgolden.update=true} rewrites it. */
    public static void assertMatchesGolden(Class<?> testClass, String name, byte[] actual) {
        Path dir = Path.of(System.getProperty("basedir", System.getProperty("user.dir")), "src", "test", "resources", "golden");
        Path file = dir.resolve(name);
        try {
            if (Boolean.getBoolean("golden.update")) {
                Files.createDirectories(file.getParent());
                Files.write(file, actual);
                return;
            }
            if (!Files.exists(file)) {
                throw new AssertionFailedError("golden file " + file + " is missing (generate it with -Dgolden.update=true from "
                        + testClass.getName() + ")");
            }
            assertBytesEqual(Files.readAllBytes(file), actual, "golden " + name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
