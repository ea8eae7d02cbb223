package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import dev.cairn.testing.boot.DebianBootFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C (SIGINT: the JVM runs its shutdown hooks) in the middle of work that keeps scratch
 * directories: {@code cairn build} storing a step in the step cache ({@code STEP/.new-*}) and
 * {@code cairn oci copy} from one registry to another (its temp directory, here under a private
 * {@code java.io.tmpdir}). Each is interrupted while its directory exists and holds data; after the
 * exit the directory is gone and no process of the command is left.
 */
class InterruptCleanupIT {
    @TempDir
    Path dir;

    /** Polls every 2 ms until {@code find} finds something (or the process ends, or a minute passes). */
    static Optional<Path> await(Process p, FindPath find) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline && p.isAlive()) {
            Optional<Path> f = find.find();
            if (f.isPresent()) {
                return f;
            }
            Thread.sleep(2);
        }
        return Optional.empty();
    }

    interface FindPath {
        Optional<Path> find() throws IOException;
    }

    /** SIGINT to the launcher's JVM (the launcher execs java: one process); returns once it exited. */
    static void interrupt(Process p) throws Exception {
        List<ProcessHandle> family = Stream.concat(Stream.of(p.toHandle()), p.toHandle().descendants()).toList();
        family.forEach(h -> LauncherIT.signal(h.pid()));
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits after SIGINT").isTrue();
        assertThat(p.exitValue()).isNotZero();
        for (ProcessHandle h : family) {
            h.onExit().get(10, TimeUnit.SECONDS);
            assertThat(h.isAlive()).as("process " + h.pid() + " left").isFalse();
        }
    }

    static List<Path> list(Path d, String glob) throws IOException {
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        try (var s = Files.newDirectoryStream(d, glob)) {
            List<Path> r = new java.util.ArrayList<>();
            s.forEach(r::add);
            return r;
        }
    }

    /** Entries being stored in the step cache: OUT/.cairn-cache/STEP/.new-*. */
    static List<Path> newEntries(Path out) throws IOException {
        List<Path> r = new java.util.ArrayList<>();
        for (Path step : list(out.resolve(".cairn-cache"), "*")) {
            r.addAll(list(step, ".new-*"));
        }
        return r;
    }

    static boolean holdsAFile(Path d) {
        try (Stream<Path> s = Files.walk(d)) {
            return s.anyMatch(Files::isRegularFile);
        } catch (IOException e) {
            return false; // removed under our feet
        }
    }

    @Test
    void ctrlCWhileTheStepCacheStoresAnEntry() throws Exception {
        Path rootfs = Files.createDirectories(dir.resolve("rootfs/data"));
        for (int i = 0; i < 8; i++) { // incompressible: a 64 MiB image whose cache copy takes a while
            SeededData.writeFile(rootfs.resolve("f" + i), 300 + i, 8 << 20);
        }
        Files.createDirectories(dir.resolve("initramfs"));
        Files.writeString(dir.resolve("initramfs/init"), "#!/bin/sh\necho test\n");
        Path spec = dir.resolve("image.yaml");
        Files.writeString(spec, String.join("\n",
                "apiVersion: cairn.dev/v1",
                "image:",
                "  name: interrupted",
                "  version: 1.0.0",
                "sourceDateEpoch: 1700000000",
                "rootfs:",
                "  dir: " + dir.resolve("rootfs"),
                "  compression: gzip",
                "kernel:",
                "  linux: " + DebianBootFiles.kernel(),
                "  stub: " + DebianBootFiles.stub(),
                "  cmdline: console=ttyS0 cairn.verity.roothash=${verity.roothash}",
                "  initramfs:",
                "    dir: " + dir.resolve("initramfs"),
                "keys:",
                "  secureboot: dev",
                "  manifest: dev",
                ""));
        Path out = dir.resolve("out");
        Process p = new ProcessBuilder(LauncherIT.locate().toString(), "build", spec.toString(), "--out", out.toString(),
                "--dev-keys", dir.resolve("keys").toString(), "--threads", "1")
                .redirectOutput(dir.resolve("build.out").toFile()).redirectError(dir.resolve("build.err").toFile()).start();
        Optional<Path> storing = await(p, () -> newEntries(out).stream().filter(InterruptCleanupIT::holdsAFile).findFirst());
        assertThat(storing).as("a step entry being stored (.new-*) was seen: " + Files.readString(dir.resolve("build.err"))).isPresent();
        interrupt(p);
        assertThat(storing.get()).as("the entry being stored is removed on Ctrl-C").doesNotExist();
        assertThat(newEntries(out)).isEmpty();
        assertThat(out.resolve(".cairn-staging")).doesNotExist();
    }

    @Test
    void ctrlCWhileOciCopyHoldsABlobInItsTempDirectory() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree"));
        for (int i = 0; i < 8; i++) {
            SeededData.writeFile(tree.resolve("f" + i), 500 + i, 8 << 20);
        }
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        try (RegistryFixture a = RegistryFixture.start(Files.createDirectories(dir.resolve("registry-a")), null, null);
             RegistryFixture b = RegistryFixture.start(Files.createDirectories(dir.resolve("registry-b")), null, null)) {
            MainTest.Run layer = MainTest.run("oci", "layer", "add", dir.resolve("layout") + ":1", tree.toString(), "--type", "tar");
            assertThat(layer.code()).as(layer.err()).isZero();
            MainTest.Run push = MainTest.run("oci", "push", dir.resolve("layout") + ":1", a.host() + "/cairn/big:1");
            assertThat(push.code()).as(push.err()).isZero();
            ProcessBuilder pb = new ProcessBuilder(LauncherIT.locate().toString(), "oci", "copy", "docker://" + a.host() + "/cairn/big:1",
                    "docker://" + b.host() + "/cairn/big:1").redirectOutput(dir.resolve("copy.out").toFile())
                    .redirectError(dir.resolve("copy.err").toFile());
            pb.environment().put("CAIRN_OPTS", "-Djava.io.tmpdir=" + tmp);
            Process p = pb.start();
            // the scratch directory holds (part of) the 64 MiB layer: interrupt the copy there
            Optional<Path> scratch = await(p, () -> list(tmp, "cairn-oci-copy-*").stream().filter(InterruptCleanupIT::holdsAFile).findFirst());
            assertThat(scratch).as("oci copy's temp directory with a blob in it was seen: " + Files.readString(dir.resolve("copy.err")))
                    .isPresent();
            interrupt(p);
            assertThat(scratch.get()).as("oci copy's temp directory is removed on Ctrl-C").doesNotExist();
            assertThat(list(tmp, "cairn-*")).isEmpty();
        }
    }
}
