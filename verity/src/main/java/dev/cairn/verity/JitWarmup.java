package dev.cairn.verity;

/**
 * Speculative JIT warm-up for short-lived command-line runs: hashes a scratch block in a daemon
 * thread so HotSpot compiles the digest path (and its SHA intrinsics) while the command line is
 * still being parsed. Formatting or verifying stops it before real work starts. It reads and
 * writes nothing outside its own buffers, so it cannot affect results.
 */
public final class JitWarmup {
    private static volatile boolean running;

    private JitWarmup() {
    }

    /** Starts warming up the digest path of {@code alg} (no-op if already running). */
    public static synchronized void start(HashAlgorithm alg) {
        if (running) {
            return;
        }
        running = true;
        Thread t = new Thread(() -> {
            BlockHasher h = new BlockHasher(alg, new byte[32], 1);
            byte[] block = new byte[4096];
            byte[] out = new byte[alg.digestSize()];
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (running && System.nanoTime() < deadline) {
                for (int i = 0; i < 64; i++) {
                    h.hash(block, 0, block.length, out, 0);
                }
            }
            running = false;
        }, "cairn-jit-warmup");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    /** Stops the warm-up thread, if any. */
    public static void stop() {
        running = false;
    }
}
