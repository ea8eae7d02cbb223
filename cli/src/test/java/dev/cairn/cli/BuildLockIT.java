package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Builds of one output directory from several processes (parallel CI jobs, a developer and an
 * IDE), through the packaged launcher: started together, both succeed one after the other and OUT
 * verifies; with {@code --no-wait} the second fails at once naming the lock; a build killed with
 * SIGKILL leaves no lock that blocks the next one.
 */
class BuildLockIT {
    @TempDir
    static Path dir;
    static Path spec;
    static Path keys;

    @BeforeAll
    static void example() throws Exception {
        // the launcher's first run records its start-up archive: do that here, not inside the timed overlap below
        ProcessBuilder pb = new ProcessBuilder(LauncherIT.locate().toString(), "--version").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("XDG_CACHE_HOME", dir.resolve("cds").toString());
        assertThat(pb.start().waitFor(2, TimeUnit.MINUTES)).isTrue();
        spec = dev.cairn.testing.ExampleSpec.write(dev.cairn.testing.ExampleSpec.examplesDir(), Files.createDirectories(dir.resolve("example")));
        keys = spec.getParent().resolve("keys");
        // enough data that a build takes a few seconds, so two builds started together overlap
        Path big = spec.getParent().resolve("rootfs/usr/share/data");
        Files.createDirectories(big);
        for (int i = 0; i < 8; i++) {
            Files.write(big.resolve("blob" + i), dev.cairn.testing.SeededData.bytes(40 + i, 6 << 20));
        }
    }

    record Result(int code, String out, String err) {
    }

    static Process start(Path out, String... more) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(LauncherIT.locate().toString(), "build", spec.toString(), "--out", out.toString(),
                "--threads", "1"));
        cmd.addAll(List.of(more));
        Path log = Files.createTempFile(dir, "build", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("XDG_CACHE_HOME", dir.resolve("cds").toString());
        Process p = pb.start();
        LOGS.put(p, log);
        return p;
    }

    static final java.util.Map<Process, Path> LOGS = new java.util.concurrent.ConcurrentHashMap<>();

    static Result finish(Process p) throws Exception {
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("build finished").isTrue();
        String log = Files.readString(LOGS.get(p), StandardCharsets.UTF_8);
        return new Result(p.exitValue(), log, log);
    }

    static void verifies(Path out) {
        MainTest.Run v = MainTest.run("verify", out.toString(), "--ca", keys.resolve("ca.crt").toString(), "--db-cert",
                keys.resolve("db.crt").toString());
        assertThat(v.code()).as(v.out() + v.err()).isZero();
    }

    @Test
    void twoBuildsStartedTogetherBothSucceedOneAfterTheOther() throws Exception {
        Path out = dir.resolve("together");
        Process a = start(out);
        // the second starts once the first holds OUT (its pid in the lock file), so that it must wait
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        Path lock = out.resolve(".cairn-lock");
        while (System.nanoTime() < deadline && a.isAlive()
                && !(Files.isRegularFile(lock) && Files.readString(lock).startsWith("pid " + a.pid() + ","))) {
            Thread.sleep(10);
        }
        Process b = start(out);
        Result ra = finish(a);
        Result rb = finish(b);
        assertThat(ra.code()).as(ra.err()).isZero();
        assertThat(rb.code()).as(rb.err()).isZero();
        assertThat(rb.err()).as("the second waited for the first\n" + rb.err()).contains("waiting for cairn build (pid " + a.pid() + ",");
        assertThat(ra.err()).doesNotContain("waiting for");
        verifies(out);
        assertThat(out.resolve(".cairn-staging")).doesNotExist();
    }

    @Test
    void noWaitFailsAtOnceNamingTheLockAndWaitingBuildsGoOnWhenItIsReleased() throws Exception {
        Path out = Files.createDirectories(dir.resolve("held"));
        Path lockFile = out.resolve(".cairn-lock");
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock held = ch.lock()) {
            // through the locked channel: closing any other descriptor of the file would drop this process's fcntl lock
            ch.write(java.nio.ByteBuffer.wrap("pid 4242, started 2026-12-06T08:00:00Z\n".getBytes(StandardCharsets.US_ASCII)));
            long t0 = System.nanoTime();
            Result nowait = finish(start(out, "--no-wait"));
            assertThat(nowait.code()).as(nowait.err()).isEqualTo(6);
            assertThat(nowait.err()).contains("locked by cairn build (pid 4242", lockFile.toString(), "--no-wait");
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).as("at once").isLessThan(30);
            assertThat(out.resolve("manifest.json")).doesNotExist();

            Process waiting = start(out);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(LOGS.get(waiting)).contains("waiting for") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(Files.readString(LOGS.get(waiting))).contains("waiting for cairn build (pid 4242");
            Thread.sleep(500);
            assertThat(waiting.isAlive()).as("still waiting while the lock is held").isTrue();
            assertThat(out.resolve(".cairn-staging")).as("nothing written while waiting").doesNotExist();
            held.release();
            Result r = finish(waiting);
            assertThat(r.code()).as(r.err()).isZero();
        }
        verifies(out);
    }

    @Test
    void aBuildKilledWithSigkillLeavesNoLockBehind() throws Exception {
        Path out = dir.resolve("killed");
        Process p = start(out);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!Files.exists(out.resolve(".cairn-staging/rootfs.img")) && System.nanoTime() < deadline && p.isAlive()) {
            Thread.sleep(20);
        }
        assertThat(p.isAlive()).as("killed while building").isTrue();
        p.destroyForcibly(); // SIGKILL: no shutdown hook runs
        p.waitFor(30, TimeUnit.SECONDS);
        assertThat(out.resolve(".cairn-lock")).exists();
        Result next = finish(start(out, "--no-wait"));
        assertThat(next.code()).as(next.err()).isZero();
        verifies(out);
    }
}
