package dev.cairn.verity;

import java.nio.file.Path;
import java.util.UUID;

/**
 * In-process timing of {@link VerityFormatter} (not a test): {@code java -cp ... dev.cairn.verity.VerityBench DATA HASH [threads] [runs]}.
 * The speed goal itself is checked by bench/verity.sh against veritysetup.
 */
public final class VerityBench {
    private VerityBench() {
    }

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        Path hash = Path.of(args[1]);
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
        int runs = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        VerityParams p = VerityParams.defaults(new byte[32], UUID.fromString("12345678-1234-1234-1234-123456789abc"));
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            VerityResult r = VerityFormatter.format(data, hash, p, threads, VerityProgress.NONE);
            long t1 = System.nanoTime();
            System.out.printf("run %d: %.3f s  root %s%n", i, (t1 - t0) / 1e9, r.rootHashHex());
        }
    }
}
